import './studio.css';
import type { Fit, FocalPoint, Format, StagedUpload, StudioCatalog, StudioType } from '@marquee/shared';
import { FITS, FORMATS, fetchRender, getCatalog, sign, signOut, upload } from './api.js';
import { byId, download, h, replaceChildren } from './dom.js';
import { contactSheet } from './sheet.js';
import { parseSize, sameSize, sizeLabel, type Size } from './sizes.js';
import { releaseTiles, renderTiles, type Row, type Tile, type TileSpec } from './tiles.js';
import { zip } from './zip.js';

/** The title select's value for "the artwork I uploaded". */
const UPLOADED = '';
/** Preview of the whole source for focal clicks: small, quick, the source's own aspect. */
const PREVIEW_BOX = 480;
/** Edits come in bursts (typing, clicking around): render once they settle. */
const SETTLE_MS = 200;

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
  sizes: Size[];
  formats: Format[];
  fit: Fit;
  tiles: Tile[];
}

let state: State;
let settle: ReturnType<typeof setTimeout> | undefined;
let inFlight: AbortController | undefined;
let shownSource = '';
let previewObjectUrl: string | undefined;

function currentType(): StudioType | undefined {
  return state.catalog.types.find((t) => t.name === state.type);
}

function localesOf(titleId: string, type: string): string[] {
  const title = state.catalog.titles.find((t) => t.id === titleId);
  return Object.keys(title?.artwork[type] ?? {}).sort();
}

function currentSource(): Source | undefined {
  if (state.titleId === UPLOADED) {
    return state.upload ? { src: state.upload.key, label: state.upload.name, focal: undefined } : undefined;
  }
  const title = state.catalog.titles.find((t) => t.id === state.titleId);
  const entry = title?.artwork[state.type]?.[state.locale];
  if (!title || !entry) return undefined;
  return { src: entry.source, label: `${title.name} · ${state.type} · ${state.locale}`, focal: entry.focal };
}

/**
 * The same artwork in every locale the title has, side by side: the first proposed size (else the
 * rules' first) in the first ticked format. A focal point set here applies to every locale;
 * otherwise each uses its own catalog focal point.
 */
function acrossLocales(): TileSpec[] {
  if (state.titleId === UPLOADED) return [];
  const title = state.catalog.titles.find((t) => t.id === state.titleId);
  const size = state.sizes[0] ?? rulesSizes()[0];
  const fmt = state.formats[0];
  if (!title || !size || !fmt) return [];
  const chosen = currentSource()?.focal;
  const focalSet =
    state.focal !== undefined && (chosen === undefined || state.focal.x !== chosen.x || state.focal.y !== chosen.y);
  return localesOf(state.titleId, state.type).flatMap((locale) => {
    const entry = title.artwork[state.type]?.[locale];
    if (!entry) return [];
    return [
      {
        row: 'locales' as const,
        size,
        fmt,
        src: entry.source,
        label: locale,
        focal: focalSet ? state.focal : entry.focal,
      },
    ];
  });
}

function rulesSizes(): Size[] {
  return (currentType()?.sizes ?? []).flatMap((text) => {
    const size = parseSize(text);
    return typeof size === 'string' ? [] : [size];
  });
}

// ---- controls -------------------------------------------------------------------------------

function titleOptions(): HTMLOptionElement[] {
  const uploaded = h(
    'option',
    { value: UPLOADED, disabled: !state.upload, selected: state.titleId === UPLOADED },
    state.upload ? `Uploaded: ${state.upload.name}` : 'Uploaded artwork (none yet)',
  );
  return [
    uploaded,
    ...state.catalog.titles.map((t) =>
      h('option', { value: t.id, selected: t.id === state.titleId }, `${t.name} (${t.id})`),
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
          state.titleId === UPLOADED ? 'Uploads have no locales.' : 'No artwork of this type.',
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
            sourceChanged();
          },
        },
        locale,
      ),
    ),
  );
  const type = currentType();
  byId('type-info').textContent = type
    ? `${type.description ?? ''} Rules: ${type.sizes.join(', ')} · ${type.formats.join(', ')} · fit ${type.fit}`.trim()
    : '';
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
  if (state.sizes.length === 0)
    byId('sizes').append(h('li', { class: 'muted' }, 'No sizes proposed yet: add one below.'));
}

function drawFocal(): void {
  const marker = byId('focal-marker');
  const info = byId('focal-info');
  if (state.focal) {
    marker.hidden = false;
    marker.style.left = `${state.focal.x * 100}%`;
    marker.style.top = `${state.focal.y * 100}%`;
    info.textContent = `Focal point ${state.focal.x.toFixed(3)}, ${state.focal.y.toFixed(3)}`;
  } else {
    marker.hidden = true;
    info.textContent = 'No focal point: the rules’ default crop.';
  }
}

async function drawPreview(source: Source | undefined): Promise<void> {
  const img = byId<HTMLImageElement>('source-preview');
  byId('source-info').textContent = source
    ? source.label
    : 'Pick a title with artwork of this type, or upload an image.';
  if (!source) {
    img.removeAttribute('src');
    shownSource = '';
    return;
  }
  if (shownSource === source.src) return;
  shownSource = source.src;
  const [preview] = await sign([{ src: source.src, w: PREVIEW_BOX, h: PREVIEW_BOX, fit: 'inside', fmt: 'jpeg' }]);
  if (!preview || shownSource !== source.src) return;
  // Fetched, not set as the img's URL: a render shed under load (503) is retried, not shown broken.
  const rendered = await fetchRender(preview.url, new AbortController().signal);
  if (shownSource !== source.src) return;
  if (previewObjectUrl) URL.revokeObjectURL(previewObjectUrl);
  previewObjectUrl = URL.createObjectURL(rendered.blob);
  img.src = previewObjectUrl;
  img.dataset.source = source.src;
}

// ---- rendering ------------------------------------------------------------------------------

function rows(): Record<Row, HTMLElement> {
  return { proposed: byId('proposed'), rules: byId('rules'), locales: byId('across-locales') };
}

function setRowState(value: 'pending' | 'done' | 'error'): void {
  for (const el of Object.values(rows())) el.dataset.state = value;
}

/** Marks the tiles stale now (tests and people can see it), renders once edits settle. */
function schedule(): void {
  // Stop what is rendering now: its tiles are stale, and it must not mark the rows done.
  inFlight?.abort();
  setRowState('pending');
  clearTimeout(settle);
  settle = setTimeout(() => void refresh(), SETTLE_MS);
}

async function refresh(): Promise<void> {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const source = currentSource();
  const type = currentType();
  byId('rules-heading').textContent = type ? `Current rules: ${type.name}` : 'Current rules';
  const specs: TileSpec[] = [];
  if (source) {
    for (const fmt of state.formats) {
      for (const size of state.sizes) specs.push({ row: 'proposed', size, fmt });
      for (const size of rulesSizes()) specs.push({ row: 'rules', size, fmt });
    }
    specs.push(...acrossLocales());
  }
  const previous = state.tiles;
  try {
    const tiles = await renderTiles(
      { src: source?.src ?? '', fit: state.fit, focal: state.focal, specs },
      rows(),
      controller.signal,
    );
    if (controller.signal.aborted) return releaseTiles(tiles);
    releaseTiles(previous);
    state.tiles = tiles;
    setRowState('done');
    byId('status').textContent = tiles.some((t) => t.error) ? 'Some renders failed: see the red tiles.' : '';
  } catch (err) {
    if (controller.signal.aborted) return;
    setRowState('error');
    byId('status').textContent = err instanceof Error ? err.message : String(err);
  }
}

function sourceChanged(): void {
  const locales = state.titleId === UPLOADED ? [] : localesOf(state.titleId, state.type);
  if (locales.length > 0 && !locales.includes(state.locale)) {
    state.locale = locales.includes(state.catalog.defaultLocale) ? state.catalog.defaultLocale : (locales[0] ?? '');
  }
  const source = currentSource();
  state.focal = source?.focal;
  drawSourceControls();
  drawFocal();
  void drawPreview(source).catch((err: unknown) => {
    byId('status').textContent = err instanceof Error ? err.message : String(err);
  });
  schedule();
}

// ---- actions --------------------------------------------------------------------------------

function onPreviewClick(event: MouseEvent): void {
  const img = event.currentTarget as HTMLImageElement;
  if (!img.src) return;
  const box = img.getBoundingClientRect();
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  state.focal = { x: clamp((event.clientX - box.left) / box.width), y: clamp((event.clientY - box.top) / box.height) };
  drawFocal();
  schedule();
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
  status.textContent = `Uploading ${file.name}…`;
  try {
    state.upload = await upload(file);
    status.textContent = `Staged as ${state.upload.key} (${state.upload.width}×${state.upload.height} ${state.upload.format}).`;
    state.titleId = UPLOADED;
    sourceChanged();
  } catch (err) {
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

async function onZip(): Promise<void> {
  const entries = await Promise.all(
    state.tiles
      .filter((t) => t.rendered)
      .map(async (t) => ({
        name: `${t.row}/${t.label ? `${t.label}-` : ''}${sizeLabel(t.size)}.${t.fmt === 'jpeg' ? 'jpg' : t.fmt}`,
        data: new Uint8Array(await t.rendered!.blob.arrayBuffer()),
      })),
  );
  download(new Blob([zip(entries)], { type: 'application/zip' }), `${baseName()}.zip`);
}

async function onSheet(): Promise<void> {
  const source = currentSource();
  const sheet = await contactSheet(source?.label ?? 'Marquee studio', [
    { heading: 'Proposed', tiles: state.tiles.filter((t) => t.row === 'proposed') },
    { heading: `Current rules: ${state.type}`, tiles: state.tiles.filter((t) => t.row === 'rules') },
    { heading: 'Across locales', tiles: state.tiles.filter((t) => t.row === 'locales') },
  ]);
  download(sheet, `${baseName()}-contact-sheet.png`);
}

// ---- layout ---------------------------------------------------------------------------------

function layout(): HTMLElement {
  return h(
    'div',
    { class: 'studio' },
    h(
      'header',
      {},
      h('h1', {}, 'Marquee studio'),
      h('span', { id: 'status', class: 'status', role: 'status' }),
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
            onchange: (e) => ((state.titleId = (e.target as HTMLSelectElement).value), sourceChanged()),
          }),
        ),
        h(
          'label',
          {},
          'Artwork type',
          h('select', {
            id: 'type',
            onchange: (e) => ((state.type = (e.target as HTMLSelectElement).value), sourceChanged()),
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
        h('p', { id: 'upload-status', class: 'muted small', role: 'status' }),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Crop'),
        h('p', { id: 'source-info', class: 'muted small' }),
        h(
          'div',
          { class: 'preview' },
          h('img', {
            id: 'source-preview',
            alt: 'The source; click to set the focal point',
            onclick: (e) => onPreviewClick(e as MouseEvent),
          }),
          h('span', { id: 'focal-marker', class: 'marker', hidden: true }),
        ),
        h('p', { id: 'focal-info', class: 'small' }),
        h(
          'button',
          {
            type: 'button',
            id: 'focal-reset',
            onclick: () => ((state.focal = currentSource()?.focal), drawFocal(), schedule()),
          },
          'Reset focal point',
        ),
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Proposed sizes'),
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
      ),
      h(
        'section',
        {},
        h('h2', {}, 'Formats and fit'),
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
      h('section', {}, h('h2', {}, 'Proposed'), h('div', { id: 'proposed', class: 'tiles', 'data-state': 'pending' })),
      h(
        'section',
        {},
        h('h2', { id: 'rules-heading' }, 'Current rules'),
        h('div', { id: 'rules', class: 'tiles', 'data-state': 'pending' }),
      ),
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
    sizes: [],
    formats: ['jpeg'],
    fit: type?.fit ?? 'cover',
    tiles: [],
  };
  replaceChildren(root, layout());
  root.removeAttribute('aria-busy');
  drawSizes();
  sourceChanged();
}

boot().catch((err: unknown) => {
  const root = document.getElementById('app');
  if (root) root.textContent = `The studio could not start: ${err instanceof Error ? err.message : String(err)}`;
});
