import type { Fit, FocalPoint, Format, RenderRequest } from '@marquee/shared';
import { fetchRender, sign, type Rendered } from './api.js';
import { formatBytes, h, replaceChildren } from './dom.js';
import { sizeLabel, type Size } from './sizes.js';

export type Row = 'proposed' | 'rules' | 'locales';

export interface TileSpec {
  row: Row;
  size: Size;
  fmt: Format;
  /** Another source than the job's (the same artwork in another locale), with its label. */
  src?: string;
  label?: string;
  focal?: FocalPoint | undefined;
}

export interface Tile extends TileSpec {
  el: HTMLElement;
  img?: HTMLImageElement;
  rendered?: Rendered;
  error?: string;
}

export interface RenderJob {
  src: string;
  fit: Fit;
  focal: FocalPoint | undefined;
  specs: TileSpec[];
}

/** Renders in flight at once: the local Lambda runs a few environments; more would only queue (or 429). */
const PARALLEL = 4;

function formatOf(contentType: string): string {
  return contentType.replace(/^image\//, '').replace(/;.*$/, '');
}

function emptyTile(spec: TileSpec, src: string): HTMLElement {
  return h(
    'figure',
    { class: 'tile loading', 'data-w': spec.size.w, 'data-h': spec.size.h, 'data-fmt': spec.fmt, 'data-src': src },
    h('div', { class: 'frame' }, h('span', { class: 'spinner' }, 'rendering…')),
    h('figcaption', {}, `${spec.label ? `${spec.label} · ` : ''}${sizeLabel(spec.size)} · ${spec.fmt}`),
  );
}

async function loadTile(tile: Tile, url: string, signal: AbortSignal): Promise<void> {
  try {
    const rendered = await fetchRender(url, signal);
    const img = h('img', { alt: `${sizeLabel(tile.size)} ${tile.fmt}`, 'data-w': tile.size.w, 'data-h': tile.size.h });
    img.src = URL.createObjectURL(rendered.blob);
    await img.decode();
    if (signal.aborted) return;
    tile.img = img;
    tile.rendered = rendered;
    const exact = img.naturalWidth === tile.size.w && img.naturalHeight === tile.size.h;
    tile.el.classList.remove('loading');
    tile.el.classList.add('loaded');
    if (!exact) tile.el.classList.add('mismatch');
    replaceChildren(
      tile.el,
      h('div', { class: 'frame' }, img),
      h(
        'figcaption',
        {},
        tile.label ? h('span', { class: 'locale' }, `${tile.label} · `) : null,
        h('strong', {}, `${img.naturalWidth}×${img.naturalHeight}`),
        ` · ${formatOf(rendered.contentType)} · ${formatBytes(rendered.bytes)}`,
        exact ? null : h('span', { class: 'warn' }, ` (asked ${sizeLabel(tile.size)})`),
      ),
    );
  } catch (err) {
    if (signal.aborted) return;
    tile.error = err instanceof Error ? err.message : String(err);
    tile.el.classList.remove('loading');
    tile.el.classList.add('failed');
    replaceChildren(
      tile.el,
      h('div', { class: 'frame error' }, tile.error),
      h('figcaption', {}, `${sizeLabel(tile.size)} · ${tile.fmt}`),
    );
  }
}

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(runners);
}

/** Signs every tile in one request, puts placeholders in their rows, then loads them. */
export async function renderTiles(
  job: RenderJob,
  rows: Record<Row, HTMLElement>,
  signal: AbortSignal,
): Promise<Tile[]> {
  const tiles: Tile[] = job.specs.map((spec) => ({ ...spec, el: emptyTile(spec, spec.src ?? job.src) }));
  for (const row of Object.keys(rows) as Row[]) {
    replaceChildren(rows[row], ...tiles.filter((t) => t.row === row).map((t) => t.el));
  }
  if (tiles.length === 0) return tiles;
  const requests: RenderRequest[] = tiles.map((t) => {
    const focal = t.src === undefined ? job.focal : t.focal;
    return {
      src: t.src ?? job.src,
      w: t.size.w,
      h: t.size.h,
      fit: job.fit,
      fmt: t.fmt,
      ...(focal ? { fx: focal.x, fy: focal.y } : {}),
    };
  });
  const signed = await sign(requests);
  await pool(
    tiles.map((tile, i) => ({ tile, url: signed[i]?.url ?? '' })),
    PARALLEL,
    ({ tile, url }) => loadTile(tile, url, signal),
  );
  return tiles;
}

/** Frees the object URLs of tiles that are no longer shown. */
export function releaseTiles(tiles: Tile[]): void {
  for (const tile of tiles) if (tile.img) URL.revokeObjectURL(tile.img.src);
}
