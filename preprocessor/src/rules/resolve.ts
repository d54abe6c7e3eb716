import {
  MarqueeError,
  extensionOf,
  formatOfExtension,
  specKey,
  type Format,
  type ImageSpec,
  type Overlay,
  type RequestExtension,
  type Source,
  type StudioType,
} from '@marquee/shared';
import { negotiateFormat } from './accept.js';
import { cacheControl } from './cache-control.js';
import { preview } from './load.js';
import { findLocale, localeChain } from './locale.js';
import { formatSize, sizeClassOf, tuningOf, typeModel, typeNames, type Size, type TypeModel } from './model.js';
import type { ArtworkEntry, Catalog, Rules, Title } from './schema.js';
import { decideSize } from './size.js';

export { parseAccept, negotiateFormat, acceptsFormat, type AcceptEntry } from './accept.js';

/** An artwork request as the route parsed it from the URL. */
export interface ArtworkRequest {
  type: string;
  titleId: string;
  /** Logical (CSS) pixels. */
  width: number;
  /** Omitted: from the type's aspect. */
  height?: number;
  dpr: number;
  ext: RequestExtension;
  accept?: string;
  locale?: string;
  v?: string;
}

export type Resolution =
  /** Snap: the canonical logical size to 308 to (the route builds the URL). */
  | { kind: 'redirect'; width: number; height: number; dpr: number }
  | {
      kind: 'render';
      source: Source;
      version: string;
      spec: ImageSpec;
      /** specKey(source, spec, version). */
      key: string;
      /** The catalog locale served, in the catalog's spelling. */
      locale: string;
      /** Logical size, as numbers (the canonical URL is spelled from them) and as `WxH` (the spec has the pixels). */
      width: number;
      height: number;
      logicalSize: string;
      dpr: number;
      format: Format;
      /** True when the format was negotiated from Accept (reply with `Vary: Accept`). */
      vary: boolean;
      cacheControl: string;
      /** The title's name. */
      title: string;
    };

export interface ResolveState {
  rules: Rules;
  catalog: Catalog;
  /** Bucket holding the catalog's source keys and the overlay images. */
  sourcesBucket: string;
}

/**
 * Applies the artwork rules to a request: the exact image to render (with its
 * canonical key and reply headers), or the canonical size to redirect to.
 * Throws a MarqueeError (4xx) for anything the request got wrong.
 */
export function resolveArtwork(state: ResolveState, req: ArtworkRequest): Resolution {
  const { rules, catalog } = state;
  checkRequest(rules, req);
  const type = typeModel(rules, req.type);
  if (!type)
    throw new MarqueeError('UNKNOWN_TYPE', `unknown artwork type ${preview(req.type)}`, {
      extra: { types: typeNames(rules) },
    });
  const title = own(catalog.titles, req.titleId);
  if (!title) throw new MarqueeError('UNKNOWN_TITLE', `unknown title ${req.titleId}`);
  const { locale, entry } = pickArtwork(rules, title, req);
  const format = pickFormat(type, req);

  const decision = decideSize(type, req.width, req.height, req.dpr);
  if (decision.kind === 'redirect') return { kind: 'redirect', ...decision.size, dpr: req.dpr };

  const source: Source = { s3: { bucket: state.sourcesBucket, key: entry.source } };
  const spec = buildSpec(state, type, title, entry, decision.size, req.dpr, format);
  return {
    kind: 'render',
    source,
    version: entry.version,
    spec,
    key: specKey(source, spec, entry.version),
    locale,
    width: decision.size.width,
    height: decision.size.height,
    logicalSize: formatSize(decision.size),
    dpr: req.dpr,
    format,
    vary: req.ext === 'auto',
    cacheControl: cacheControl(type.cache, req.v, entry.version),
    title: title.name,
  };
}

/** Cheap checks of the request itself: 400s before any lookup. */
/**
 * What only the rules can say about a request: whether they serve its pixel ratio. Its syntax
 * (title id, size digits and range, extension, locale tag) is the route's to check, once, before
 * anything is resolved (routes/artwork.ts, artwork-url.ts).
 */
function checkRequest(rules: Rules, req: ArtworkRequest): void {
  if (!rules.dpr.includes(req.dpr)) {
    throw new MarqueeError('INVALID_PARAMETER', `dpr must be one of ${rules.dpr.join(', ')}, got ${preview(req.dpr)}`);
  }
}

/** `record[key]` for own keys only: a title called `constructor` is not Object's. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function pickArtwork(rules: Rules, title: Title, req: ArtworkRequest): { locale: string; entry: ArtworkEntry } {
  const byLocale = own(title.artwork, req.type);
  const chain = localeChain(rules, req.locale || undefined);
  if (byLocale) {
    for (const tag of chain) {
      const locale = findLocale(byLocale, tag);
      const entry = locale === undefined ? undefined : byLocale[locale];
      if (locale !== undefined && entry) return { locale, entry };
    }
  }
  const what = byLocale ? `in ${chain.join(', ')}` : 'in any locale';
  throw new MarqueeError('ARTWORK_NOT_FOUND', `title ${req.titleId} has no ${req.type} artwork ${what}`);
}

function pickFormat(type: TypeModel, req: ArtworkRequest): Format {
  if (req.ext === 'auto') return negotiateFormat(type.formats, req.accept);
  const format = formatOfExtension(req.ext);
  if (type.formats.includes(format)) return format;
  const allowedFormats = type.formats.map(extensionOf);
  throw new MarqueeError(
    'FORMAT_NOT_ALLOWED',
    `format ${req.ext} is not allowed for ${type.name}; allowed: ${[...allowedFormats, 'auto'].join(', ')}`,
    { extra: { allowedFormats } },
  );
}

function buildSpec(
  state: ResolveState,
  type: TypeModel,
  title: Title,
  entry: ArtworkEntry,
  logical: Size,
  dpr: number,
  format: Format,
): ImageSpec {
  const width = logical.width * dpr;
  const height = logical.height * dpr;
  const cls = sizeClassOf(state.rules.sizeClasses, width);
  const { quality, effort } = tuningOf(state.rules, type.rules, format, cls?.name);
  // parseRules refuses rules without a quality for an allowed format.
  if (quality === undefined) throw new MarqueeError('INTERNAL', `no quality for ${format} in the rules`);

  const spec: ImageSpec = { width, height, fit: type.fit, format, quality };
  if (effort !== undefined) spec.effort = effort;
  const focal = focalOf(type, entry);
  if (focal) spec.focal = focal;
  if (type.rules.background !== undefined) spec.background = type.rules.background;
  // Only when refused: absent is the spec's own "may enlarge", so those keys stay as they were.
  if (!type.enlarge) spec.enlarge = false;
  const overlays = overlaysFor(state.sourcesBucket, type, title, width);
  if (overlays.length > 0) spec.overlays = overlays;
  return spec;
}

/**
 * Where to crop from. Only `cover` crops. `focal`: the catalog's point, else
 * none, and the Generator then uses sharp's attention strategy; `attention`:
 * always none; `centre`: the middle.
 */
function focalOf(type: TypeModel, entry: ArtworkEntry): ImageSpec['focal'] {
  if (type.fit !== 'cover') return undefined;
  switch (type.crop) {
    case 'focal':
      return entry.focal ? { x: entry.focal.x, y: entry.focal.y } : undefined;
    case 'attention':
      return undefined;
    case 'centre':
      return { x: 0.5, y: 0.5 };
  }
}

function overlaysFor(bucket: string, type: TypeModel, title: Title, width: number): Overlay[] {
  const flags = title.flags ?? [];
  return type.overlays
    .filter((o) => flags.includes(o.flag) && (o.minWidth ?? 0) <= width)
    .map((o) => ({ source: { s3: { bucket, key: o.source } }, gravity: o.gravity, scale: o.scale }));
}

/** One artwork type as the studio page shows it. */
/** A type as `listTypes` reports it: the studio's `StudioType` (shared), named by `type`. */
export type TypeSummary = Omit<StudioType, 'name'> & { type: string };

/** The rules' artwork types with their sizes and formats, in document order. */
export function listTypes(rules: Rules): TypeSummary[] {
  return typeNames(rules).map((name) => {
    const t = typeModel(rules, name) as TypeModel;
    return {
      type: name,
      description: t.rules.description,
      aspect: t.rules.aspect,
      sizes: t.sizes.map(formatSize),
      sizePolicy: t.sizePolicy,
      maxWidth: t.rules.maxWidth,
      maxHeight: t.rules.maxHeight,
      formats: [...t.formats],
      fit: t.fit,
      dpr: [...rules.dpr],
      enlarge: t.enlarge,
      renders: t.renders,
    };
  });
}
