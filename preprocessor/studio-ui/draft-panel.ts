import type { Draft, Impact, RulesProblem } from '@marquee/shared';
import { ApiError, GRAVITIES, impactOf, publishDraft, saveDraft } from './api.js';
import { byId, h, replaceChildren } from './dom.js';
import { impactView } from './impact-view.js';
import { problemDetail } from './problem.js';
import { parseSize } from './sizes.js';
import { publishEffect } from './words.js';
import { editRules, readTypeForm, type Path, type TypeForm, type Value } from './yaml-edit.js';

/** A form edit is saved this long after the last one (a slider sends many); typing, a little longer. */
const FORM_SETTLE_MS = 300;
const TYPING_SETTLE_MS = 700;

const SIZE_POLICIES = ['snap', 'strict', 'any'] as const;
const CROP_POLICIES = ['focal', 'attention', 'centre'] as const;

export interface DraftPanelHooks {
  /** A new revision is saved: the page re-renders the draft's tiles. */
  saved(draft: Draft): void;
  /** The draft is now the rules in force: the page re-renders the current row. */
  published(): void;
  closed(): void;
}

/**
 * The open draft: a form for the common changes of the type in view, the YAML itself, the
 * loader's verdict by line and field, and the impact over the catalog. Every valid edit is
 * saved (a new revision, under the same id and link); nothing here touches the rules in force.
 */
export class DraftPanel {
  readonly el: HTMLElement;
  private draft: Draft;
  private text: string;
  private type: string;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> | undefined;
  private impactRequest = 0;
  private impact: Impact | undefined;

  constructor(
    draft: Draft,
    type: string,
    private readonly hooks: DraftPanelHooks,
  ) {
    this.draft = draft;
    this.text = draft.yaml;
    this.type = type;
    this.el = this.layout();
  }

  get id(): string {
    return this.draft.id;
  }

  get rev(): string {
    return this.draft.rev;
  }

  /** Called once the panel is in the document. */
  start(): void {
    byId<HTMLTextAreaElement>('draft-yaml').value = this.text;
    this.drawForm();
    this.setStatus('saved', this.savedLabel());
    void this.loadImpact();
  }

  setType(type: string): void {
    this.type = type;
    this.drawForm();
  }

  private savedLabel(): string {
    const at = new Date(this.draft.savedAt).toLocaleTimeString();
    return `Saved ${at} · revision ${this.draft.rev.slice(0, 7)}`;
  }

  private layout(): HTMLElement {
    const link = new URL(this.draft.link, location.href).href;
    return h(
      'aside',
      { id: 'draft-panel', class: 'draft', 'aria-label': 'Rules draft', 'data-draft': this.draft.id },
      h(
        'header',
        { class: 'draft-head' },
        h('h2', {}, 'Rules draft ', h('code', {}, this.draft.id)),
        h('button', { type: 'button', id: 'draft-close', onclick: () => this.hooks.closed() }, 'Close'),
      ),
      h(
        'p',
        { class: 'small' },
        'Share: ',
        h('a', { id: 'draft-link', href: link }, link),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'small-button',
            onclick: () => void navigator.clipboard?.writeText(link).then(() => this.setStatus('saved', 'Link copied')),
          },
          'Copy',
        ),
      ),
      this.draft.baseInForce
        ? null
        : h(
            'p',
            { class: 'warn small', role: 'note' },
            'The rules in force have changed since this draft was opened: its impact is measured against the rules in force now.',
          ),
      h('p', { id: 'draft-status', class: 'draft-status', role: 'status', 'data-state': 'saved' }),
      h('p', { class: 'muted small' }, 'Nothing here changes what /v1/artwork serves until the rules are published.'),
      h('section', { id: 'impact', class: 'impact', 'aria-label': 'Impact', 'data-state': 'pending' }),
      h(
        'div',
        { class: 'publish' },
        h(
          'button',
          { type: 'button', id: 'draft-publish', onclick: () => void this.publish() },
          'Publish these rules…',
        ),
        h('p', { id: 'publish-result', class: 'small', role: 'status' }),
      ),
      h('section', { id: 'draft-form', class: 'draft-form', 'aria-label': 'Common changes' }),
      h(
        'details',
        { class: 'yaml', open: true },
        h('summary', {}, 'Rules YAML'),
        h('textarea', {
          id: 'draft-yaml',
          spellcheck: 'false',
          autocomplete: 'off',
          'aria-label': 'Rules YAML of the draft',
          'aria-describedby': 'draft-problem',
          oninput: (e) => this.textChanged((e.target as HTMLTextAreaElement).value, 'typing'),
        }),
        h('div', { id: 'draft-problem', class: 'problem', role: 'alert', hidden: true }),
      ),
    );
  }

  private setStatus(state: 'saved' | 'saving' | 'unsaved' | 'invalid' | 'error', text: string): void {
    const el = byId('draft-status');
    el.dataset.state = state;
    el.textContent = text;
    // Publish writes the revision saved, so it waits while the text on screen is another one
    // (being edited, being saved, refused by the loader, or not saved for an error).
    const publish = byId<HTMLButtonElement>('draft-publish');
    publish.disabled = this.text !== this.draft.yaml;
    publish.title = publish.disabled ? 'Publish waits for the text on screen to be saved as a valid draft.' : '';
  }

  // ---- editing ----------------------------------------------------------------------------

  private edit(path: Path, value: Value | undefined): void {
    let next: string;
    try {
      next = editRules(this.text, path, value);
    } catch (err) {
      this.setStatus('invalid', err instanceof Error ? err.message : String(err));
      return;
    }
    byId<HTMLTextAreaElement>('draft-yaml').value = next;
    this.textChanged(next, 'form');
  }

  private textChanged(text: string, from: 'form' | 'typing'): void {
    this.text = text;
    this.setStatus('unsaved', 'Unsaved changes…');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save(), from === 'form' ? FORM_SETTLE_MS : TYPING_SETTLE_MS);
    // The form follows the text; redrawn from typing only (a form control keeps its focus and drag).
    if (from === 'typing') this.drawForm();
  }

  /** Saves the text as it is now; one save at a time, the last text wins. */
  private async save(): Promise<void> {
    if (this.saving) {
      await this.saving;
      return this.save();
    }
    const text = this.text;
    if (text === this.draft.yaml) {
      // Back to the text as saved (a refused edit undone): nothing to save, nothing refused.
      this.showProblem(undefined);
      this.setStatus('saved', this.savedLabel());
      return;
    }
    this.setStatus('saving', 'Saving…');
    this.saving = (async () => {
      try {
        const saved = await saveDraft(this.draft.id, text);
        this.draft = saved;
        this.showProblem(undefined);
        if (this.text === text) this.setStatus('saved', this.savedLabel());
        this.hooks.saved(saved);
        void this.loadImpact();
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) {
          const p = err.problem;
          this.showProblem({
            message: typeof p.message === 'string' ? p.message : err.message,
            ...(typeof p.field === 'string' ? { field: p.field } : {}),
            ...(typeof p.line === 'number' ? { line: p.line } : {}),
            ...(typeof p.column === 'number' ? { column: p.column } : {}),
          });
          this.setStatus('invalid', 'Not saved: the rules loader refuses this text (see below).');
        } else {
          this.setStatus('error', `Not saved: ${err instanceof Error ? err.message : String(err)}`);
        }
      } finally {
        this.saving = undefined;
      }
    })();
    await this.saving;
  }

  private showProblem(problem: RulesProblem | undefined): void {
    const box = byId('draft-problem');
    if (!problem) {
      box.hidden = true;
      replaceChildren(box);
      return;
    }
    box.hidden = false;
    const where = problem.line === undefined ? '' : `Line ${problem.line}, column ${problem.column ?? 1}`;
    replaceChildren(
      box,
      where ? h('strong', { id: 'draft-problem-line' }, where) : null,
      problem.field ? h('code', { id: 'draft-problem-field' }, problem.field) : null,
      h('span', { id: 'draft-problem-detail' }, problemDetail(problem)),
      problem.line === undefined
        ? null
        : h(
            'button',
            { type: 'button', class: 'small-button', onclick: () => this.goToLine(problem.line!) },
            'Go to line',
          ),
    );
  }

  /** Selects a line of the YAML and scrolls it into view. */
  private goToLine(line: number): void {
    const area = byId<HTMLTextAreaElement>('draft-yaml');
    const lines = area.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.focus();
    area.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 16;
    area.scrollTop = Math.max(0, (line - 4) * lineHeight);
  }

  // ---- impact -----------------------------------------------------------------------------

  private async loadImpact(): Promise<void> {
    const request = ++this.impactRequest;
    const el = byId('impact');
    el.dataset.state = 'pending';
    let impact: Impact;
    try {
      impact = await impactOf(this.draft.id, this.draft.rev);
    } catch (err) {
      if (request !== this.impactRequest) return;
      el.dataset.state = 'error';
      replaceChildren(el, h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
      return;
    }
    if (request !== this.impactRequest) return;
    this.impact = impact;
    replaceChildren(el, ...impactView(impact));
    el.dataset.state = 'done';
    el.dataset.rev = impact.draft.rev;
  }

  // ---- publishing -------------------------------------------------------------------------

  /** After a confirmation naming what changes, writes the revision on screen as the rules in force. */
  private async publish(): Promise<void> {
    if (this.text !== this.draft.yaml) {
      this.setStatus('unsaved', 'Publish waits for the draft to be saved: fix or finish the edit first.');
      return;
    }
    const i = this.impact?.draft.rev === this.draft.rev ? this.impact : undefined;
    const what = i ? publishEffect(i) : 'Its impact is not computed yet.';
    if (
      !confirm(`Publish draft ${this.draft.id} (revision ${this.draft.rev.slice(0, 7)}) as the rules in force? ${what}`)
    ) {
      return;
    }
    const out = byId('publish-result');
    out.className = 'small';
    out.textContent = 'Publishing…';
    try {
      const r = await publishDraft(this.draft.id, { rev: this.draft.rev });
      out.textContent = r.published
        ? `Published to ${r.target} (history ${r.historyId}; roll back with npm run rules -- rollback ${r.historyId}). This Preprocessor serves it now. CDN: ${r.invalidation}. Prewarm: ${r.prewarm}.`
        : `These rules are already in force (${r.target}): nothing published.`;
      this.hooks.published();
      void this.loadImpact();
    } catch (err) {
      out.className = 'small error';
      out.textContent = `Not published: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  // ---- the form ---------------------------------------------------------------------------

  private drawForm(): void {
    const form = readTypeForm(this.text, this.type);
    const root = byId('draft-form');
    if (!form) {
      replaceChildren(
        root,
        h('h3', {}, `Common changes: ${this.type}`),
        h(
          'p',
          { class: 'muted small' },
          `The form needs YAML that parses and defines ${this.type}: edit the text below.`,
        ),
      );
      return;
    }
    const base: Path = ['types', this.type];
    replaceChildren(
      root,
      h('h3', {}, `Common changes: ${this.type}`),
      this.sizesField(form, base),
      h(
        'div',
        { class: 'form-grid' },
        this.select('Size policy', 'draft-size-policy', SIZE_POLICIES, form.sizePolicy, [...base, 'sizePolicy']),
        this.select('Crop', 'draft-crop', CROP_POLICIES, form.crop, [...base, 'crop']),
      ),
      this.encodingField(form, base),
      this.badgesField(form, base),
    );
  }

  private select(label: string, id: string, values: readonly string[], value: string, path: Path): HTMLElement {
    return h(
      'label',
      {},
      label,
      h(
        'select',
        { id, onchange: (e) => this.edit(path, (e.target as HTMLSelectElement).value) },
        ...values.map((v) => h('option', { value: v, selected: v === value }, v)),
      ),
    );
  }

  private sizesField(form: TypeForm, base: Path): HTMLElement {
    const error = h('p', { class: 'error small', role: 'alert' });
    const input = h('input', { id: 'draft-size-input', placeholder: 'WxH', size: 9, 'aria-label': 'Size to add' });
    return h(
      'div',
      { class: 'field' },
      h('span', {}, 'Sizes'),
      h(
        'ul',
        { id: 'draft-sizes', class: 'chips' },
        ...form.sizes.map((size) =>
          h(
            'li',
            { class: 'chip', 'data-size': size },
            size,
            h(
              'button',
              {
                type: 'button',
                class: 'remove',
                'aria-label': `Remove ${size}`,
                onclick: () => {
                  this.edit(
                    [...base, 'sizes'],
                    form.sizes.filter((s) => s !== size),
                  );
                  this.drawForm();
                },
              },
              '×',
            ),
          ),
        ),
      ),
      h(
        'form',
        {
          class: 'inline',
          onsubmit: (e) => {
            e.preventDefault();
            const size = parseSize(input.value);
            if (typeof size === 'string') {
              error.textContent = size;
              return;
            }
            error.textContent = '';
            const text = `${size.w}x${size.h}`;
            if (!form.sizes.includes(text)) this.edit([...base, 'sizes'], [...form.sizes, text]);
            this.drawForm();
          },
        },
        input,
        h('button', { type: 'submit', id: 'draft-size-add' }, 'Add size'),
      ),
      error,
    );
  }

  private numberInput(
    id: string,
    label: string,
    value: number | undefined,
    placeholder: string,
    attrs: Record<string, number | string>,
    path: Path,
  ): HTMLInputElement {
    return h('input', {
      id,
      type: 'number',
      'aria-label': label,
      value: value === undefined ? '' : String(value),
      placeholder,
      ...attrs,
      onchange: (e) => {
        const raw = (e.target as HTMLInputElement).value.trim();
        this.edit(path, raw === '' ? undefined : Number(raw));
      },
    });
  }

  private encodingField(form: TypeForm, base: Path): HTMLElement {
    return h(
      'table',
      { class: 'encoding' },
      h('caption', {}, 'Encoding (empty: the global setting, shown greyed)'),
      h('tr', {}, h('th', {}, 'format'), h('th', {}, 'quality'), h('th', {}, 'effort')),
      ...form.formats.map((fmt) => {
        const e = form.encoding[fmt] ?? {};
        const path = [...base, 'encoding', fmt];
        return h(
          'tr',
          { 'data-format': fmt },
          h('th', {}, fmt),
          h(
            'td',
            {},
            this.numberInput(
              `draft-quality-${fmt}`,
              `${fmt} quality`,
              e.quality,
              String(e.globalQuality ?? ''),
              { min: 1, max: 100, step: 1 },
              [...path, 'quality'],
            ),
          ),
          h(
            'td',
            {},
            this.numberInput(
              `draft-effort-${fmt}`,
              `${fmt} effort`,
              e.effort,
              String(e.globalEffort ?? ''),
              { min: 0, max: 9, step: 1 },
              [...path, 'effort'],
            ),
          ),
        );
      }),
    );
  }

  private badgesField(form: TypeForm, base: Path): HTMLElement {
    if (form.overlays.length === 0) return h('p', { class: 'muted small' }, `No badges on ${this.type}.`);
    return h(
      'div',
      { class: 'badges' },
      ...form.overlays.map((o, i) => {
        const path = [...base, 'overlays', i];
        const number = this.numberInput(
          `draft-badge-${i}-scale`,
          `${o.flag} badge scale`,
          o.scale,
          '',
          { min: 0.01, max: 1, step: 0.01 },
          [...path, 'scale'],
        );
        const range = h('input', {
          id: `draft-badge-${i}-scale-range`,
          type: 'range',
          min: 0.02,
          max: 0.6,
          step: 0.01,
          value: String(o.scale),
          'aria-label': `${o.flag} badge scale`,
          oninput: (e) => {
            number.value = (e.target as HTMLInputElement).value;
            this.edit([...path, 'scale'], Number(number.value));
          },
        });
        number.addEventListener('change', () => (range.value = number.value));
        return h(
          'fieldset',
          { class: 'badge', 'data-flag': o.flag },
          h('legend', {}, `Badge for “${o.flag}”`),
          h('label', {}, 'Scale (of the width)', h('span', { class: 'inline' }, range, number)),
          h(
            'div',
            { class: 'form-grid' },
            this.select('Position', `draft-badge-${i}-gravity`, GRAVITIES, o.gravity, [...path, 'gravity']),
            h(
              'label',
              {},
              'Min width (px)',
              this.numberInput(
                `draft-badge-${i}-min-width`,
                `${o.flag} badge min width`,
                o.minWidth,
                '0',
                { min: 0, step: 1 },
                [...path, 'minWidth'],
              ),
            ),
          ),
        );
      }),
    );
  }
}
