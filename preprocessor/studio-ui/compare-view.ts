import type { CompareItem, CompareReply, Preview } from '@marquee/shared';
import { formatBytes, h, replaceChildren } from './dom.js';
import { newTile, type Row, type Tile } from './tiles.js';

export interface CompareView {
  /** Current, draft and heat-map tiles to load, in that order per file. */
  tiles: Tile[];
  /** After loading: each pair's byte difference and share of changed pixels. */
  finish(): void;
}

const STATUS_TEXT: Record<CompareItem['status'], string> = {
  changed: 'changed',
  added: 'new in the draft',
  removed: 'not served under the draft',
  unchanged: 'unchanged',
};

function notes(p: Preview): string[] {
  const out = [`q ${p.quality}`];
  if (p.effort !== undefined) out.push(`effort ${p.effort}`);
  out.push(
    p.badges.length > 0
      ? `badge ${p.badges.map((b) => b.replace(/^.*\//, '').replace(/\.\w+$/, '')).join(', ')}`
      : 'no badge',
  );
  return out;
}

function tileOf(row: Row, item: CompareItem, preview: Preview, src: string, label: string): Tile {
  return newTile(
    { row, size: { w: item.width, h: item.height }, dpr: item.dpr, fmt: item.format, label, src },
    {
      url: preview.url,
      notes: notes(preview),
      data: {
        key: preview.key,
        badges: preview.badges.join(' '),
        ...(preview.artworkUrl ? { 'artwork-url': preview.artworkUrl } : {}),
      },
    },
  );
}

function percent(n: number): string {
  return `${n > 0 ? '+' : ''}${(n * 100).toFixed(n !== 0 && Math.abs(n) < 0.01 ? 1 : 0)} %`;
}

/**
 * Current vs draft for one title and locale: per size, each format's current tile, draft tile and
 * a heat map of where they differ (computed server-side on the decoded pixels); the files that do
 * not change listed, not rendered; per locale, how many of the title's files change.
 */
export function compareView(
  reply: CompareReply,
  root: HTMLElement,
  src: string,
  pickLocale: (locale: string) => void,
): CompareView {
  const tiles: Tile[] = [];
  const pairs: Array<{ el: HTMLElement; current?: Tile; draft?: Tile; diff?: Tile }> = [];
  const shown = reply.items.filter((i) => i.status !== 'unchanged');
  const unchanged = reply.items.filter((i) => i.status === 'unchanged');
  const groups = new Map<string, HTMLElement[]>();
  for (const item of shown) {
    const current = item.current ? tileOf('compare-current', item, item.current, src, 'current') : undefined;
    const draft = item.draft ? tileOf('compare-draft', item, item.draft, src, 'draft') : undefined;
    const diff = item.diff
      ? newTile(
          {
            row: 'compare-diff',
            size: { w: item.width, h: item.height },
            dpr: item.dpr,
            fmt: 'png',
            label: 'difference',
            src,
          },
          { url: item.diff, exact: false },
        )
      : undefined;
    const cells = [current, draft, diff].filter((t): t is Tile => t !== undefined);
    tiles.push(...cells);
    const el = h(
      'div',
      { class: 'pair', 'data-status': item.status, 'data-format': item.format, 'data-path': item.path },
      h(
        'div',
        { class: 'pair-head' },
        h('strong', {}, item.format),
        ` · ${STATUS_TEXT[item.status]}`,
        h('span', { class: 'delta' }),
      ),
      h('div', { class: 'pair-tiles' }, ...cells.map((t) => t.el)),
    );
    pairs.push({ el, ...(current ? { current } : {}), ...(draft ? { draft } : {}), ...(diff ? { diff } : {}) });
    const size = `${item.width}x${item.height}${item.dpr > 1 ? `@${item.dpr}x` : ''}`;
    groups.set(size, [...(groups.get(size) ?? []), el]);
  }

  replaceChildren(
    root,
    h(
      'div',
      { class: 'chips compare-locales', role: 'group', 'aria-label': 'Changes per locale' },
      ...reply.locales.map((c) =>
        h(
          'button',
          {
            type: 'button',
            class: c.locale === reply.locale ? 'chip active' : 'chip',
            'data-locale': c.locale,
            'data-changed': c.changed,
            'aria-pressed': c.locale === reply.locale ? 'true' : 'false',
            onclick: () => pickLocale(c.locale),
          },
          `${c.locale}: ${c.changed + c.added + c.removed} of ${c.changed + c.removed + c.unchanged} change`,
        ),
      ),
    ),
    shown.length === 0
      ? h(
          'p',
          { class: 'empty' },
          reply.items.length === 0
            ? 'No file of this title in the formats ticked under “Current rules”.'
            : 'The draft changes none of these files: they would be served byte for byte as now.',
        )
      : null,
    ...[...groups].map(([size, els]) =>
      h('div', { class: 'size-group', 'data-size': size }, h('h3', {}, size), h('div', { class: 'pairs' }, ...els)),
    ),
    unchanged.length > 0
      ? h(
          'p',
          { class: 'muted small unchanged-list' },
          `Unchanged (${unchanged.length}): `,
          unchanged.map((i) => `${i.width}x${i.height}${i.dpr > 1 ? `@${i.dpr}x` : ''} ${i.format}`).join(', '),
        )
      : null,
  );

  return {
    tiles,
    finish() {
      for (const pair of pairs) {
        const delta = pair.el.querySelector('.delta');
        if (!delta) continue;
        const a = pair.current?.rendered?.bytes;
        const b = pair.draft?.rendered?.bytes;
        const parts: string[] = [];
        if (a !== undefined && b !== undefined) {
          parts.push(`${formatBytes(a)} → ${formatBytes(b)} (${percent(a === 0 ? 0 : (b - a) / a)})`);
        }
        const changed = Number(pair.diff?.rendered?.headers.get('x-diff-changed'));
        if (pair.diff?.rendered && Number.isFinite(changed)) {
          parts.push(`${(changed * 100).toFixed(1)} % of pixels differ`);
          pair.el.dataset.changedPixels = String(changed);
        }
        delta.textContent = parts.length > 0 ? ` · ${parts.join(' · ')}` : '';
      }
    },
  };
}
