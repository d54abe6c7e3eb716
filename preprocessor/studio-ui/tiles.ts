import pLimit from 'p-limit';
import type { Format } from '@marquee/shared';
import { fetchRender, type Rendered } from './api.js';
import { formatBytes, h, replaceChildren } from './dom.js';
import { sizeLabel, type Size } from './sizes.js';

/** Where a tile is shown: the three rows, and the current vs draft comparison. */
export type Row = 'current' | 'proposed' | 'locales' | 'compare-current' | 'compare-draft' | 'compare-diff';

export interface TileSpec {
  row: Row;
  /** Logical size, as asked (a proposed size, or the rules' size in the artwork URL). */
  size: Size;
  /** Pixel ratio of the artwork URL (1 for proposed renders). */
  dpr: number;
  fmt: Format;
  /** A locale, for the row across locales. */
  label?: string;
  /** The source key rendered (tests and people read it off the tile). */
  src: string;
}

export interface Tile extends TileSpec {
  el: HTMLElement;
  /** The signed URL to load; absent when the rules serve nothing here (`refusal` says why). */
  url?: string;
  refusal?: string;
  /** Output pixels the render is asked for (a size at its DPR). */
  pixels: Size;
  /** What the resolution decided, shown under the tile: quality, effort, badges. */
  notes: string[];
  /** Why the current rules would not serve this as asked (proposed tiles only). */
  notAllowed: string[];
  /** Data attributes for tests and people (`data-key`, `data-badges`, `data-artwork-url`). */
  data: Record<string, string>;
  /** Whether the image must be `pixels` in size (a heat map is scaled down: it need not). */
  exact: boolean;
  img?: HTMLImageElement;
  rendered?: Rendered;
  error?: string;
}

/**
 * Renders in flight at once, over every row and the comparison together: the local Lambda runs a
 * few environments; more would only queue at the Preprocessor (and be shed with 503).
 */
export const PARALLEL = 3;

/** Page-wide: at most PARALLEL renders in flight (p-limit hands a finished slot straight to the next). */
const limited = pLimit(PARALLEL);

/** The tallest a tile's image is shown, in CSS pixels: a row of tiles stays a row. */
const DISPLAY_HEIGHT = 220;

export function formatOf(contentType: string): string {
  return contentType.replace(/^image\//, '').replace(/;.*$/, '');
}

function caption(tile: Tile): string {
  const dpr = tile.dpr > 1 ? `@${tile.dpr}x` : '';
  return `${tile.label ? `${tile.label} · ` : ''}${sizeLabel(tile.size)}${dpr} · ${tile.fmt}`;
}

/** A tile's element before it loads: its caption and a spinner, never an older image. */
export function newTile(spec: TileSpec, extra: Partial<Tile> = {}): Tile {
  const tile: Tile = {
    ...spec,
    pixels: { w: spec.size.w * spec.dpr, h: spec.size.h * spec.dpr },
    notes: [],
    notAllowed: [],
    data: {},
    exact: true,
    ...extra,
  } as Tile;
  const attrs: Record<string, string | number> = {
    class: 'tile loading',
    'data-w': spec.size.w,
    'data-h': spec.size.h,
    'data-dpr': spec.dpr,
    'data-fmt': spec.fmt,
    'data-src': spec.src,
  };
  for (const [name, value] of Object.entries(tile.data)) attrs[`data-${name}`] = value;
  // The signed URL the tile loads (short-lived, and already the page's): whoever inspects a tile can fetch it again.
  if (tile.url) attrs['data-url'] = tile.url;
  if (tile.notAllowed.length > 0) attrs.class += ' not-allowed';
  tile.el = h(
    'figure',
    attrs,
    h(
      'div',
      { class: 'frame' },
      tile.refusal ? h('span', { class: 'refusal' }, tile.refusal) : h('span', { class: 'spinner' }, 'rendering…'),
    ),
    h('figcaption', {}, caption(tile)),
  );
  if (tile.refusal) {
    tile.el.classList.replace('loading', 'refused');
  }
  return tile;
}

function notAllowedNote(tile: Tile): HTMLElement | null {
  if (tile.notAllowed.length === 0) return null;
  return h(
    'p',
    { class: 'not-allowed-note', title: tile.notAllowed.join('\n') },
    'Not allowed by the current rules: ',
    tile.notAllowed.join('; '),
  );
}

async function loadTile(tile: Tile, signal: AbortSignal): Promise<void> {
  if (!tile.url) return;
  try {
    const rendered = await fetchRender(tile.url, signal);
    const img = h('img', { alt: caption(tile), 'data-w': tile.pixels.w, 'data-h': tile.pixels.h });
    img.src = URL.createObjectURL(rendered.blob);
    await img.decode();
    if (signal.aborted) {
      URL.revokeObjectURL(img.src);
      return;
    }
    // Shown at most DISPLAY_HEIGHT tall (never enlarged): set as a width, so a flex row can size the
    // tile from it, and `max-width: 100%` can still shrink it with its aspect kept.
    const scale = Math.min(1, DISPLAY_HEIGHT / img.naturalHeight);
    img.style.width = `${Math.max(1, Math.round(img.naturalWidth * scale))}px`;
    tile.img = img;
    tile.rendered = rendered;
    tile.el.dataset.bytes = String(rendered.bytes);
    const exact = !tile.exact || (img.naturalWidth === tile.pixels.w && img.naturalHeight === tile.pixels.h);
    tile.el.classList.replace('loading', 'loaded');
    if (!exact) tile.el.classList.add('mismatch');
    // The image and its caption change together: no picture under another's caption.
    replaceChildren(
      tile.el,
      h('div', { class: 'frame' }, img),
      h(
        'figcaption',
        {},
        h(
          'span',
          { class: 'line' },
          tile.label ? h('span', { class: 'locale' }, `${tile.label} · `) : null,
          h('strong', {}, `${img.naturalWidth}×${img.naturalHeight}`),
          ` · ${formatOf(rendered.contentType)} · ${formatBytes(rendered.bytes)}`,
        ),
        exact
          ? null
          : h(
              'span',
              { class: 'line warn', title: 'The rules do not enlarge a source smaller than the size asked' },
              `asked ${tile.pixels.w}×${tile.pixels.h}`,
            ),
        tile.notes.length > 0 ? h('span', { class: 'line notes' }, tile.notes.join(' · ')) : null,
        notAllowedNote(tile),
      ),
    );
  } catch (err) {
    if (signal.aborted) return;
    tile.error = err instanceof Error ? err.message : String(err);
    tile.el.classList.replace('loading', 'failed');
    replaceChildren(
      tile.el,
      h('div', { class: 'frame error', role: 'alert' }, tile.error),
      h('figcaption', {}, caption(tile)),
    );
  }
}

/** Loads the tiles in order, within the page-wide limit; an aborted batch gives its turns up. */
export async function loadTiles(tiles: Tile[], signal: AbortSignal): Promise<void> {
  await Promise.all(
    tiles
      .filter((t) => t.url)
      .map((tile) => limited(() => (signal.aborted ? Promise.resolve() : loadTile(tile, signal)))),
  );
}

/**
 * A row's tiles grouped by size, the formats of a size side by side: a wide type stays a few
 * rows tall, however many formats are shown. Or, when there are none, why the row is empty.
 */
export function placeTiles(row: HTMLElement, tiles: Tile[], whyEmpty: string): void {
  if (tiles.length === 0) {
    replaceChildren(row, h('p', { class: 'empty' }, whyEmpty));
    return;
  }
  const groups = new Map<string, Tile[]>();
  for (const tile of tiles) {
    const key = `${sizeLabel(tile.size)}${tile.dpr > 1 ? `@${tile.dpr}x` : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), tile]);
  }
  replaceChildren(
    row,
    ...[...groups].map(([size, group]) =>
      h(
        'div',
        { class: 'size-group', 'data-size': size },
        h('h3', {}, size),
        h('div', { class: 'formats' }, ...group.map((t) => t.el)),
      ),
    ),
  );
}

/** Frees the object URLs of tiles that are no longer shown. */
export function releaseTiles(tiles: Tile[]): void {
  for (const tile of tiles) if (tile.img) URL.revokeObjectURL(tile.img.src);
}
