import './studio.css';
import type {
  Draft,
  Fit,
  FocalPoint,
  Format,
  PreviewItem,
  PreviewResult,
  StagedUpload,
  StudioCatalog,
  StudioType,
} from '@marquee/shared';
import {
  FITS,
  FORMATS,
  compare,
  fetchRender,
  getCatalog,
  listDrafts,
  loadDraft,
  openDraft,
  previews,
  sign,
  signOut,
  upload,
} from './api.js';
// The one jpg/jpeg table, alone: the shared package's index would bring Node's modules along.
import { extensionOf } from '@marquee/shared/extension';
import { compareView } from './compare-view.js';
import { byId, download, h, replaceChildren } from './dom.js';
import { DraftPanel } from './draft-panel.js';
import { focalAt, moveFocal } from './focal.js';
import { contactSheet } from './sheet.js';
import { parseSize, sameSize, sizeLabel, type Size } from './sizes.js';
import { loadTiles, newTile, placeTiles, releaseTiles, type Tile } from './tiles.js';
import { zip } from './zip.js';

/** The title select's value for "the artwork I uploaded". */
const UPLOADED = '';
/** Preview of the whole source for focal clicks: small, quick, the source's own aspect. */
const PREVIEW_BOX = 480;
/** Edits come in bursts (typing, clicking around): render once they settle. */
const SETTLE_MS = 200;
/** The row across locales shows one size: the type's size nearest this width, to fit a row of tiles. */
const LOCALES_WIDTH = 342;
/** Formats the current row starts with, cheapest to render first, among those the type allows. */
const DEFAULT_FORMATS: readonly Format[] = ['jpeg', 'webp', 'png', 'avif'];

interface Source {
  src: string;
  label: string;
  focal: FocalPoint | undefined;
}

interface State {
  catalog: StudioCatalog;
  titleId: string;
  type: string;
  locale: string;
  upload: StagedUpload | undefined;
  focal: FocalPoint | undefined;
  /** Set by a click or a key: kept when the type or locale changes, unlike a catalog focal point. */
  focalChosen: boolean;
  /** Proposed row: anything. */
  sizes: Size[];
  formats: Format[];
  fit: Fit;
  /** Current row: only what the type's rules allow. */
  dpr: number;
  currentFormats: Format[];
  currentSizes: string[];
  tiles: Tile[];
  compareTiles: Tile[];
  draft: DraftPanel | undefined;
}

let state: State;
let settle: ReturnType<typeof setTimeout> | undefined;
let compareSettle: ReturnType<typeof setTimeout> | undefined;
let inFlight: AbortController | undefined;
let compareInFlight: AbortController | undefined;
let shownSource = '';
let previewObjectUrl: string | undefined;

// ---- what is selected ---------------------------------------------------------------------------

function currentType(): StudioType | undefined {
  return state.catalog.types.find((t) => t.name === state.type);
}

function titleOf(id: string) {
  return state.catalog.titles.find((t) => t.id === id);
}

function localesOf(titleId: string, type: string): string[] {
  return Object.keys(titleOf(titleId)?.artwork[type] ?? {}).sort();
}

function currentSource(): Source | undefined {
  if (state.titleId === UPLOADED) {
    return state.upload ? { src: state.upload.key, label: state.upload.name, focal: undefined } : undefined;
  }
  const title = titleOf(state.titleId);
  const entry = title?.artwork[state.type]?.[state.locale];
  if (!title || !entry) return undefined;
  return { src: entry.source, label: `${title.name} · ${state.type} · ${state.locale}`, focal: entry.focal };
}

function sizesOf(texts: readonly string[]): Size[] {
  return texts.flatMap((text) => {
    const size = parseSize(text);
    return typeof size === 'string' ? [] : [size];
  });
}

/** Why there is nothing to show for the selection, in the words of the artwork route. */
function noSourceReason(): string {
  if (state.titleId === UPLOADED) return 'Upload an image, or pick a title.';
  const title = titleOf(state.titleId);
  return `${title?.name ?? state.titleId} has no ${state.type} artwork: /v1/artwork/${state.type}/${state.titleId}/… answers 404 (ARTWORK_NOT_FOUND). Pick another type, or upload an image.`;
}

/** The type's formats the current row may show, keeping the ticked ones the type also allows. */
function allowedFormats(type: StudioType | undefined, ticked: readonly Format[]): Format[] {
  const formats = type?.formats ?? [];
  const kept = ticked.filter((f) => formats.includes(f));
  if (kept.length > 0) return kept;
  const first = DEFAULT_FORMATS.find((f) => formats.includes(f));
  return first ? [first] : [];
}

// ---- controls -----------------------------------------------------------------------------------

function titleOptions(): HTMLOptionElement[] {
  const uploaded = h(
    'option',
    { value: UPLOADED, disabled: !state.upload, selected: state.titleId === UPLOADED },
    state.upload ? `Uploaded: ${state.upload.name}` : 'Uploaded artwork (none yet)',
  );
  return [
    uploaded,
    ...state.catalog.titles.map((t) =>
      h(
        'option',
        { value: t.id, selected: t.id === state.titleId },
        `${t.name} (${t.id})${t.flags.length > 0 ? ` · ${t.flags.join(', ')}` : ''}`,
      ),
    ),
  ];
}

function drawSourceControls(): void {
  replaceChildren(byId('title'), ...titleOptions());
  replaceChildren(
    byId('type'),
    ...state.catalog.types.map((t) =>
      h('option', { value: t.name, selected: t.name === state.type }, `${t.name} (${t.aspect})`),
    ),
  );
  const locales = state.titleId === UPLOADED ? [] : localesOf(state.titleId, state.type);
  replaceChildren(
    byId('locales'),
    locales.length === 0
      ? h(
          'span',
          { class: 'muted' },
          state.titleId === UPLOADED ? 'Uploads have no locales.' : `No ${state.type} artwork for this title.`,
        )
      : null,
    ...locales.map((locale) =>
      h(
        'button',
        {
          type: 'button',
          class: locale === state.locale ? 'chip active' : 'chip',
          'aria-pressed': locale === state.locale ? 'true' : 'false',
          'data-locale': locale,
          onclick: () => {
            state.locale = locale;
            sourceChanged('locale');
          },
        },
        locale,
      ),
    ),
  );
  const type = currentType();
  byId('type-info').textContent = type
    ? `${type.description ?? ''} Rules: ${type.sizes.join(', ')} (${type.sizePolicy}) · ${type.formats.join(', ')} · fit ${type.fit}`.trim()
    : '';
}

/** The current row's controls: the type's own sizes, formats and the rules' DPRs, nothing else. */
function drawCurrentControls(): void {
  const type = currentType();
  replaceChildren(
    byId('current-dpr'),
    ...(type?.dpr ?? [1]).map((dpr) => h('option', { value: dpr, selected: dpr === state.dpr }, `${dpr}x`)),
  );
  replaceChildren(
    byId('current-formats'),
    ...(type?.formats ?? []).map((fmt) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id: `current-fmt-${fmt}`,
          value: fmt,
          checked: state.currentFormats.includes(fmt),
          onchange: (e) => {
            const on = (e.target as HTMLInputElement).checked;
            state.currentFormats = (type?.formats ?? []).filter((f) =>
              f === fmt ? on : state.currentFormats.includes(f),
            );
            schedule();
            scheduleCompare();
          },
        }),
        fmt,
      ),
    ),
  );
  replaceChildren(
    byId('current-sizes'),
    ...(type?.sizes ?? []).map((size) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          id: `current-size-${size}`,
          value: size,
          checked: state.currentSizes.includes(size),
          onchange: (e) => {
            const on = (e.target as HTMLInputElement).checked;
            state.currentSizes = (type?.sizes ?? []).filter((s) => (s === size ? on : state.currentSizes.includes(s)));
            schedule();
          },
        }),
        size,
      ),
    ),
  );
}

function drawSizes(): void {
  replaceChildren(
    byId('sizes'),
    ...state.sizes.map((size, i) =>
      h(
        'li',
        { class: 'chip', 'data-size': sizeLabel(size) },
        sizeLabel(size),
        h(
          'button',
          {
            type: 'button',
            class: 'remove',
            'aria-label': `Remove ${sizeLabel(size)}`,
            onclick: () => {
              state.sizes.splice(i, 1);
              drawSizes();
              schedule();
            },
          },
          '×',
        ),
      ),
    ),
  );
  if (state.sizes.length === 0) byId('sizes').append(h('li', { class: 'muted' }, 'None yet: add one below.'));
}

function drawFocal(): void {
  const marker = byId('focal-marker');
  const info = byId('focal-info');
  if (state.focal) {
    marker.hidden = false;
    marker.style.left = `${state.focal.x * 100}%`;
    marker.style.top = `${state.focal.y * 100}%`;
    info.textContent = `Focal point ${state.focal.x.toFixed(3)}, ${state.focal.y.toFixed(3)}${state.focalChosen ? ' (yours)' : ' (catalog)'}`;
  } else {
    marker.hidden = true;
    info.textContent = 'No focal point: the rules’ default crop.';
  }
}

async function drawPreview(source: Source | undefined): Promise<void> {
  const img = byId<HTMLImageElement>('source-preview');
  const frame = byId('preview-frame');
  byId('source-info').textContent = source ? source.label : noSourceReason();
  if (!source) {
    img.removeAttribute('src');
    delete img.dataset.source;
    frame.dataset.state = 'empty';
    shownSource = '';
    return;
  }
  if (shownSource === source.src) return;
  shownSource = source.src;
  // The old picture goes now: it must not sit under the new source's caption while this one loads.
  img.removeAttribute('src');
  delete img.dataset.source;
  frame.dataset.state = 'loading';
  const [preview] = await sign([{ src: source.src, w: PREVIEW_BOX, h: PREVIEW_BOX, fit: 'inside', fmt: 'jpeg' }]);
  if (!preview || shownSource !== source.src) return;
  // Fetched, not set as the img's URL: a render shed under load (503) is retried, not shown broken.
  const rendered = await fetchRender(preview.url, new AbortController().signal);
  if (shownSource !== source.src) return;
  if (previewObjectUrl) URL.revokeObjectURL(previewObjectUrl);
  previewObjectUrl = URL.createObjectURL(rendered.blob);
  img.src = previewObjectUrl;
  img.dataset.source = source.src;
  frame.dataset.state = 'done';
}

// ---- the rows -----------------------------------------------------------------------------------

function setRowState(ids: string[], value: 'pending' | 'done' | 'error'): void {
  for (const id of ids) byId(id).dataset.state = value;
}

const MAIN_ROWS = ['current', 'proposed', 'across-locales'];

/** Marks the tiles stale now (tests and people can see it), renders once edits settle. */
function schedule(): void {
  // Stop what is rendering now: its tiles are stale, and it must not mark the rows done.
  inFlight?.abort();
  setRowState(MAIN_ROWS, 'pending');
  clearTimeout(settle);
  settle = setTimeout(() => void refresh(), SETTLE_MS);
}

function scheduleCompare(): void {
  if (!state.draft) return;
  compareInFlight?.abort();
  setRowState(['compare'], 'pending');
  clearTimeout(compareSettle);
  compareSettle = setTimeout(() => void refreshCompare(), SETTLE_MS);
}

function targetOf(source: Source): Pick<PreviewItem, 'titleId' | 'src' | 'locale'> {
  return state.titleId === UPLOADED ? { src: source.src } : { titleId: state.titleId, locale: state.locale };
}

function badgeNote(badges: string[]): string {
  return badges.length > 0
    ? `badge ${badges.map((b) => b.replace(/^.*\//, '').replace(/\.\w+$/, '')).join(', ')}`
    : 'no badge';
}

/** A tile of what the artwork route serves (or why it serves nothing there). */
function servedTile(row: 'current' | 'locales', r: PreviewResult, src: string, label?: string): Tile {
  const spec = { row, size: { w: r.width, h: r.height }, dpr: r.dpr, fmt: r.format, src, ...(label ? { label } : {}) };
  if (!r.preview) return newTile(spec, { refusal: `${r.error?.code ?? 'REFUSED'}: ${r.error?.message ?? ''}` });
  const p = r.preview;
  return newTile(spec, {
    url: p.url,
    notes: [`q ${p.quality}`, ...(p.effort !== undefined ? [`effort ${p.effort}`] : []), badgeNote(p.badges)],
    data: { key: p.key, badges: p.badges.join(' '), ...(p.artworkUrl ? { 'artwork-url': p.artworkUrl } : {}) },
  });
}

async function currentTiles(source: Source): Promise<Tile[]> {
  const type = currentType();
  if (!type) return [];
  const sizes = sizesOf(state.currentSizes);
  const items: PreviewItem[] = [];
  for (const size of sizes) {
    for (const format of state.currentFormats) {
      items.push({
        rules: 'current',
        type: type.name,
        ...targetOf(source),
        width: size.w,
        height: size.h,
        dpr: state.dpr,
        format,
      });
    }
  }
  if (items.length === 0) return [];
  const reply = await previews({ renders: items });
  return reply.renders.map((r) => servedTile('current', r, source.src));
}

async function proposedTiles(source: Source): Promise<Tile[]> {
  const specs = state.formats.flatMap((fmt) => state.sizes.map((size) => ({ size, fmt })));
  if (specs.length === 0) return [];
  const signed = await sign(
    specs.map(({ size, fmt }) => ({
      src: source.src,
      w: size.w,
      h: size.h,
      fit: state.fit,
      fmt,
      ...(state.focal ? { fx: state.focal.x, fy: state.focal.y } : {}),
    })),
    state.type,
  );
  return specs.map(({ size, fmt }, i) => {
    const s = signed[i];
    return newTile(
      { row: 'proposed', size, dpr: 1, fmt, src: source.src },
      {
        ...(s ? { url: s.url } : {}),
        notes: [`q ${s?.q ?? 80}`, `fit ${state.fit}`, 'no badge'],
        notAllowed: s?.notAllowed ?? [],
      },
    );
  });
}

/** The same artwork in every locale of the title, as the artwork route serves each. */
async function localeTiles(): Promise<Tile[]> {
  const type = currentType();
  const fmt = state.currentFormats[0];
  if (state.titleId === UPLOADED || !type || !fmt) return [];
  const sizes = sizesOf(type.sizes);
  const size = [...sizes].sort((a, b) => Math.abs(a.w - LOCALES_WIDTH) - Math.abs(b.w - LOCALES_WIDTH))[0];
  const locales = localesOf(state.titleId, state.type);
  if (!size || locales.length === 0) return [];
  const reply = await previews({
    renders: locales.map((locale) => ({
      rules: 'current' as const,
      type: type.name,
      titleId: state.titleId,
      locale,
      width: size.w,
      height: size.h,
      dpr: 1,
      format: fmt,
    })),
  });
  const title = titleOf(state.titleId);
  return reply.renders.map((r) =>
    servedTile('locales', r, title?.artwork[type.name]?.[r.locale ?? '']?.source ?? '', r.locale),
  );
}

async function refresh(): Promise<void> {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const source = currentSource();
  const type = currentType();
  const previous = state.tiles;
  try {
    const [current, proposed, locales] = source
      ? await Promise.all([currentTiles(source), proposedTiles(source), localeTiles()])
      : [[], [], []];
    if (controller.signal.aborted) return;
    // The heading changes with the tiles it names, not before them.
    byId('current-heading').textContent = type
      ? `Current rules: what /v1/artwork/${type.name}/… serves`
      : 'Current rules';
    const none = noSourceReason();
    placeTiles(
      byId('current'),
      current,
      source ? 'Tick a size and a format of the type above to see what production serves.' : none,
    );
    placeTiles(
      byId('proposed'),
      proposed,
      source
        ? 'No sizes proposed: add one under “Proposed” on the left (any size, format and fit; what the rules would not serve is marked).'
        : none,
    );
    placeTiles(
      byId('across-locales'),
      locales,
      state.titleId === UPLOADED
        ? 'Uploads have no locales: pick a catalog title to compare its locales.'
        : source
          ? 'Tick a format under “Current rules”.'
          : none,
    );
    const tiles = [...current, ...proposed, ...locales];
    await loadTiles(tiles, controller.signal);
    if (controller.signal.aborted) return releaseTiles(tiles);
    releaseTiles(previous);
    state.tiles = tiles;
    setRowState(MAIN_ROWS, 'done');
    byId('status').textContent = tiles.some((t) => t.error) ? 'Some renders failed: see the red tiles.' : '';
  } catch (err) {
    if (controller.signal.aborted) return;
    setRowState(MAIN_ROWS, 'error');
    byId('status').textContent = err instanceof Error ? err.message : String(err);
  }
}

async function refreshCompare(): Promise<void> {
  const panel = state.draft;
  if (!panel) return;
  compareInFlight?.abort();
  const controller = new AbortController();
  compareInFlight = controller;
  const root = byId('compare');
  const source = currentSource();
  const previous = state.compareTiles;
  if (state.titleId === UPLOADED || !source || state.currentFormats.length === 0) {
    replaceChildren(
      root,
      h(
        'p',
        { class: 'empty' },
        state.titleId === UPLOADED
          ? 'A draft changes how catalog titles are served: pick a catalog title to compare.'
          : source
            ? 'Tick a format under “Current rules”.'
            : noSourceReason(),
      ),
    );
    setRowState(['compare'], 'done');
    return;
  }
  try {
    const reply = await compare({
      draft: { id: panel.id, rev: panel.rev },
      type: state.type,
      titleId: state.titleId,
      locale: state.locale,
      dpr: state.dpr,
      formats: state.currentFormats,
    });
    if (controller.signal.aborted) return;
    byId('compare-heading').textContent =
      `Current vs draft: ${titleOf(state.titleId)?.name ?? state.titleId} · ${state.type} · ${reply.locale} · ${state.dpr}x`;
    const view = compareView(reply, root, source.src, (locale) => {
      state.locale = locale;
      sourceChanged('locale');
    });
    root.dataset.rev = panel.rev;
    await loadTiles(view.tiles, controller.signal);
    if (controller.signal.aborted) return releaseTiles(view.tiles);
    view.finish();
    releaseTiles(previous);
    state.compareTiles = view.tiles;
    setRowState(['compare'], 'done');
  } catch (err) {
    if (controller.signal.aborted) return;
    setRowState(['compare'], 'error');
    replaceChildren(root, h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
}

/** The selection changed: a title (or upload) resets the focal point; a type or locale keeps one chosen. */
function sourceChanged(kind: 'title' | 'type' | 'locale'): void {
  const locales = state.titleId === UPLOADED ? [] : localesOf(state.titleId, state.type);
  if (locales.length > 0 && !locales.includes(state.locale)) {
    state.locale = locales.includes(state.catalog.defaultLocale) ? state.catalog.defaultLocale : (locales[0] ?? '');
  }
  const type = currentType();
  if (kind === 'type') {
    state.fit = type?.fit ?? state.fit;
    byId<HTMLSelectElement>('fit').value = state.fit;
    state.currentFormats = allowedFormats(type, state.currentFormats);
    state.currentSizes = [...(type?.sizes ?? [])];
    if (!type?.dpr.includes(state.dpr)) state.dpr = 1;
    state.draft?.setType(state.type);
  }
  const source = currentSource();
  if (kind === 'title' || !state.focalChosen) {
    state.focal = source?.focal;
    state.focalChosen = false;
  }
  drawSourceControls();
  drawCurrentControls();
  drawFocal();
  void drawPreview(source).catch((err: unknown) => {
    byId('status').textContent = err instanceof Error ? err.message : String(err);
  });
  schedule();
  scheduleCompare();
}

// ---- actions ------------------------------------------------------------------------------------

function setFocal(focal: FocalPoint): void {
  state.focal = focal;
  state.focalChosen = true;
  drawFocal();
  schedule();
}

function onPreviewClick(event: MouseEvent): void {
  const img = byId<HTMLImageElement>('source-preview');
  if (!img.getAttribute('src')) return;
  setFocal(focalAt(img.getBoundingClientRect(), event.clientX, event.clientY));
}

function onPreviewKey(event: KeyboardEvent): void {
  if (!byId<HTMLImageElement>('source-preview').getAttribute('src')) return;
  const next = moveFocal(state.focal, event.key, event.shiftKey);
  if (!next) return;
  event.preventDefault();
  setFocal(next);
}

function onAddSize(event: Event): void {
  event.preventDefault();
  const input = byId<HTMLInputElement>('size-input');
  const size = parseSize(input.value);
  const error = byId('size-error');
  if (typeof size === 'string') {
    error.textContent = size;
    return;
  }
  error.textContent = '';
  input.value = '';
  if (!state.sizes.some((s) => sameSize(s, size))) state.sizes.push(size);
  drawSizes();
  schedule();
}

async function onUpload(event: Event): Promise<void> {
  const input = event.currentTarget as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  const status = byId('upload-status');
  status.className = 'small';
  status.textContent = `Uploading ${file.name}…`;
  try {
    state.upload = await upload(file);
    status.className = 'small ok';
    status.textContent = `Staged as ${state.upload.key} (${state.upload.width}×${state.upload.height} ${state.upload.format}).`;
    state.titleId = UPLOADED;
    sourceChanged('title');
  } catch (err) {
    status.className = 'small error';
    status.setAttribute('role', 'alert');
    status.textContent = `Upload refused: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    input.value = '';
  }
}

function baseName(): string {
  const source = currentSource();
  const raw =
    state.titleId === UPLOADED
      ? (state.upload?.name.replace(/\.[^.]*$/, '') ?? 'upload')
      : `${state.titleId}-${state.type}-${state.locale}`;
  return source ? raw.replace(/[^A-Za-z0-9._-]+/g, '-') : 'studio';
}

function allTiles(): Tile[] {
  return [...state.tiles, ...state.compareTiles];
}

async function onZip(): Promise<void> {
  const entries = await Promise.all(
    allTiles()
      .filter((t) => t.rendered)
      .map(async (t) => ({
        name: `${t.row}/${t.label ? `${t.label}-` : ''}${sizeLabel(t.size)}${t.dpr > 1 ? `@${t.dpr}x` : ''}.${extensionOf(t.fmt)}`,
        data: new Uint8Array(await t.rendered!.blob.arrayBuffer()),
      })),
  );
  download(new Blob([zip(entries)], { type: 'application/zip' }), `${baseName()}.zip`);
}

async function onSheet(): Promise<void> {
  const source = currentSource();
  const tiles = allTiles();
  const of = (row: Tile['row']) => tiles.filter((t) => t.row === row);
  const sheet = await contactSheet(source?.label ?? 'Marquee studio', [
    { heading: `Current rules: ${state.type}`, tiles: of('current') },
    { heading: 'Current vs draft: current', tiles: of('compare-current') },
    { heading: 'Current vs draft: draft', tiles: of('compare-draft') },
    { heading: 'Proposed', tiles: of('proposed') },
    { heading: 'Across locales', tiles: of('locales') },
  ]);
  download(sheet, `${baseName()}-contact-sheet.png`);
}

// ---- drafts -------------------------------------------------------------------------------------

function setDraftParam(id: string | undefined): void {
  const url = new URL(location.href);
  if (id === undefined) url.searchParams.delete('draft');
  else url.searchParams.set('draft', id);
  history.replaceState(null, '', url);
}

function showDraft(draft: Draft): void {
  closeDraft();
  const panel = new DraftPanel(draft, state.type, {
    saved: () => scheduleCompare(),
    published: () => void withStatus(republished),
    closed: () => closeDraft(),
  });
  state.draft = panel;
  byId('studio').append(panel.el);
  byId('studio').classList.add('with-draft');
  byId('compare-section').hidden = false;
  setDraftParam(draft.id);
  panel.start();
  scheduleCompare();
}

/** The rules in force changed (a publish from here): their types, then every row. */
async function republished(): Promise<void> {
  state.catalog = await getCatalog();
  sourceChanged('type');
}

function closeDraft(): void {
  if (!state.draft) return;
  compareInFlight?.abort();
  state.draft.el.remove();
  state.draft = undefined;
  releaseTiles(state.compareTiles);
  state.compareTiles = [];
  byId('studio').classList.remove('with-draft');
  byId('compare-section').hidden = true;
  setDraftParam(undefined);
}

async function withStatus(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    byId('status').textContent = err instanceof Error ? err.message : String(err);
  }
}

async function drawRecentDrafts(): Promise<void> {
  const { drafts } = await listDrafts();
  replaceChildren(
    byId('draft-recent'),
    h('option', { value: '' }, drafts.length > 0 ? 'Open a saved draft…' : 'No saved drafts yet'),
    ...drafts.map((d) => h('option', { value: d.id }, `${d.id} · ${new Date(d.savedAt).toLocaleString()}`)),
  );
}

// ---- layout -------------------------------------------------------------------------------------

function layout(): HTMLElement {
  return h(
    'div',
    { class: 'studio', id: 'studio' },
    h(
      'header',
      {},
      h('h1', {}, 'Marquee studio'),
      h('span', { id: 'status', class: 'status', role: 'status' }),
      h(
        'button',
        { type: 'button', id: 'draft-open', onclick: () => void withStatus(async () => showDraft(await openDraft())) },
        'Open the rules as a draft',
      ),
      h('select', {
        id: 'draft-recent',
        'aria-label': 'Saved drafts',
        onfocus: () => void withStatus(drawRecentDrafts),
        onchange: (e) => {
          const id = (e.target as HTMLSelectElement).value;
          if (id) void withStatus(async () => showDraft(await loadDraft(id)));
        },
      }),
      h('button', { type: 'button', id: 'signout', onclick: () => void signOut() }, 'Sign out'),
    ),
    h(
      'aside',
      { class: 'controls' },
      h(
        'section',
        {},
        h('h2', {}, 'Source'),
        h(
          'label',
          {},
          'Title',
          h('select', {
            id: 'title',
            onchange: (e) => ((state.titleId = (e.target as HTMLSelectElement).value), sourceChanged('title')),
          }),
        ),
        h(
          'label',
          {},
          'Artwork type',
          h('select', {
            id: 'type',
            onchange: (e) => ((state.type = (e.target as HTMLSelectElement).value), sourceChanged('type')),
          }),
        ),
        h('p', { id: 'type-info', class: 'muted small' }),
        h(
          'div',
          { class: 'field' },
          h('span', {}, 'Locale'),
          h('div', { id: 'locales', class: 'chips', role: 'group', 'aria-label': 'Locale' }),
        ),
        h(
          'label',
          { class: 'upload' },
          'Upload new artwork (JPEG, PNG, WebP, AVIF; up to 20 MiB)',
          h('input', {
            id: 'upload-file',
            type: 'file',
            accept: 'image/jpeg,image/png,image/webp,image/avif',
            onchange: (e) => void onUpload(e),
          }),
        ),
        h('p', { id: 'upload-status', class: 'small', 'aria-live': 'polite' }),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Current rules'),
        h(
          'p',
          { class: 'muted small' },
          'Only what the type’s rules allow: the tiles are the artwork route’s own bytes.',
        ),
        h('div', { class: 'field' }, h('span', {}, 'Sizes'), h('div', { id: 'current-sizes', class: 'chips' })),
        h('div', { class: 'field' }, h('span', {}, 'Formats'), h('div', { id: 'current-formats', class: 'chips' })),
        h(
          'label',
          {},
          'Pixel ratio',
          h('select', {
            id: 'current-dpr',
            onchange: (e) => {
              state.dpr = Number((e.target as HTMLSelectElement).value);
              schedule();
              scheduleCompare();
            },
          }),
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Crop'),
        h('p', { id: 'source-info', class: 'muted small' }),
        h(
          'div',
          {
            id: 'preview-frame',
            class: 'preview',
            tabindex: 0,
            role: 'group',
            'aria-label':
              'Source preview: click or use the arrow keys to set the focal point (Shift: bigger steps, Home: centre)',
            'aria-describedby': 'focal-info',
            onclick: (e) => onPreviewClick(e as MouseEvent),
            onkeydown: (e) => onPreviewKey(e as KeyboardEvent),
          },
          h('img', { id: 'source-preview', alt: 'The source; click or use the arrow keys to set the focal point' }),
          h('span', { id: 'focal-marker', class: 'marker', hidden: true }),
        ),
        h('p', { id: 'focal-info', class: 'small', 'aria-live': 'polite' }),
        h(
          'button',
          {
            type: 'button',
            id: 'focal-reset',
            onclick: () => {
              state.focal = currentSource()?.focal;
              state.focalChosen = false;
              drawFocal();
              schedule();
            },
          },
          'Reset focal point',
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Proposed'),
        h('p', { class: 'muted small' }, 'Anything: sizes, formats and fits the rules do not have are marked.'),
        h('ul', { id: 'sizes', class: 'chips' }),
        h(
          'form',
          { id: 'size-form', class: 'inline', onsubmit: onAddSize },
          h('input', {
            id: 'size-input',
            placeholder: '300x450',
            'aria-label': 'New size WxH',
            size: 10,
            autocomplete: 'off',
          }),
          h('button', { id: 'size-add', type: 'submit' }, 'Add size'),
        ),
        h('p', { id: 'size-error', class: 'error small', role: 'alert' }),
        h(
          'div',
          { class: 'chips' },
          ...FORMATS.map((fmt) =>
            h(
              'label',
              { class: 'check' },
              h('input', {
                type: 'checkbox',
                id: `fmt-${fmt}`,
                checked: state.formats.includes(fmt),
                onchange: (e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  state.formats = FORMATS.filter((f) => (f === fmt ? on : state.formats.includes(f)));
                  schedule();
                },
              }),
              fmt,
            ),
          ),
        ),
        h(
          'label',
          {},
          'Fit',
          h(
            'select',
            { id: 'fit', onchange: (e) => ((state.fit = (e.target as HTMLSelectElement).value as Fit), schedule()) },
            ...FITS.map((fit) => h('option', { value: fit, selected: fit === state.fit }, fit)),
          ),
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Download'),
        h(
          'div',
          { class: 'inline' },
          h('button', { type: 'button', id: 'download-zip', onclick: () => void onZip() }, 'Zip of the renders'),
          h('button', { type: 'button', id: 'download-sheet', onclick: () => void onSheet() }, 'Contact sheet'),
        ),
      ),
    ),
    h(
      'div',
      { class: 'results' },
      h(
        'section',
        { id: 'compare-section', hidden: true },
        h('h2', { id: 'compare-heading' }, 'Current vs draft'),
        h('div', { id: 'compare', class: 'tiles', 'data-state': 'pending' }),
      ),
      h(
        'section',
        {},
        h('h2', { id: 'current-heading' }, 'Current rules'),
        h('div', { id: 'current', class: 'tiles', 'data-state': 'pending' }),
      ),
      h('section', {}, h('h2', {}, 'Proposed'), h('div', { id: 'proposed', class: 'tiles', 'data-state': 'pending' })),
      h(
        'section',
        {},
        h('h2', {}, 'Across locales'),
        h('div', { id: 'across-locales', class: 'tiles', 'data-state': 'pending' }),
      ),
    ),
  );
}

async function boot(): Promise<void> {
  const root = byId('app');
  const catalog = await getCatalog();
  const first = catalog.titles[0];
  const type = catalog.types.find((t) => first?.artwork[t.name]) ?? catalog.types[0];
  state = {
    catalog,
    titleId: first?.id ?? UPLOADED,
    type: type?.name ?? '',
    locale: catalog.defaultLocale,
    upload: undefined,
    focal: undefined,
    focalChosen: false,
    sizes: [],
    formats: ['jpeg'],
    fit: type?.fit ?? 'cover',
    dpr: 1,
    currentFormats: allowedFormats(type, []),
    currentSizes: [...(type?.sizes ?? [])],
    tiles: [],
    compareTiles: [],
    draft: undefined,
  };
  replaceChildren(root, layout());
  root.removeAttribute('aria-busy');
  drawSizes();
  sourceChanged('title');
  void withStatus(drawRecentDrafts);
  const draftId = new URL(location.href).searchParams.get('draft');
  if (draftId) await withStatus(async () => showDraft(await loadDraft(draftId)));
}

boot().catch((err: unknown) => {
  const root = document.getElementById('app');
  if (root) root.textContent = `The studio could not start: ${err instanceof Error ? err.message : String(err)}`;
});
