import { MarqueeError, extensionOf, type Format, type ImageSpec, type Source } from '@marquee/shared';
import { formatArtworkFile } from '../routes/artwork-url.js';
import { negotiateFormat } from './accept.js';
import { typeModel, typeNames, type TypeModel } from './model.js';
import { resolveArtwork, type ArtworkRequest, type ResolveState } from './resolve.js';
import type { Catalog, Rules } from './schema.js';

/**
 * Every canonical artwork URL the rules and catalog serve, with the image each one is: what a rules
 * diff compares, prewarm renders and the studio counts. Each image comes from `resolveArtwork`, the
 * function the artwork route calls, so a diff cannot disagree with what is served.
 */

/** One format an `auto` URL may serve, with the image it is. */
export interface AutoVariant {
  format: Format;
  key: string;
  spec: ImageSpec;
}

export interface DerivativeUrl {
  /** The canonical URL, path and image-selecting query, spelled as the artwork route's 308 spells it. */
  path: string;
  type: string;
  titleId: string;
  /** The catalog locale served, in the catalog's spelling. */
  locale: string;
  /** The URL's `locale` parameter; undefined when it has none (the rules' default locale is served). */
  requestLocale: string | undefined;
  /** Logical size and pixel ratio, as in the URL. */
  width: number;
  height: number;
  dpr: number;
  format: Format | 'auto';
  /**
   * The spec key, as `resolveArtwork` computes it (the route's ETag). For `auto`, whose image is
   * the set of formats it may negotiate, the keys of `variants` joined by `+`, best first.
   */
  key: string;
  source: Source;
  /** For `auto`: the first (best) variant's. */
  spec: ImageSpec;
  /** The catalog version of the artwork served. */
  version: string;
  /** `auto` only: every format it may serve, best first. */
  variants?: readonly AutoVariant[];
}

export interface UniverseFilter {
  titleId?: string;
  type?: string;
  /** A catalog locale (compared case-insensitively): the URLs that serve it. */
  locale?: string;
}

export interface UniverseOptions {
  sourcesBucket: string;
  filter?: UniverseFilter;
}

/**
 * The `Accept` headers that decide `auto`, as the CDN collapses them (infra/aws edge-functions.ts:
 * which of AVIF and WebP the client takes; JPEG and PNG every client takes).
 */
const ACCEPT_CLASSES = ['', 'image/avif', 'image/webp', 'image/avif,image/webp'] as const;

/** Every canonical derivative URL the rules and catalog serve (see `eachDerivativeUrl`). */
export function derivativeUrls(rules: Rules, catalog: Catalog, opts: UniverseOptions): DerivativeUrl[] {
  return [...eachDerivativeUrl(rules, catalog, opts)];
}

/**
 * The canonical URLs one at a time, title by title in catalog order: titles × the rules' types the
 * title has artwork for × locales × the sizes that render at each of the rules' DPRs (the listed
 * sizes within the max; an `any` type's ladder) × the type's formats and `auto`.
 *
 * Locales: the URL without `locale` (the default chain), each locale the catalog has any artwork
 * in, and each locale the rules give an explicit fallback chain, each served the artwork its chain
 * finds (a locale that finds none serves no URL). Other tags (`fr-CA`, falling back to `fr`) serve
 * the same images under URLs no list can hold: a diff's invalidations cover them only under a
 * wildcard.
 */
export function* eachDerivativeUrl(rules: Rules, catalog: Catalog, opts: UniverseOptions): Generator<DerivativeUrl> {
  const state: ResolveState = { rules, catalog, sourcesBucket: opts.sourcesBucket };
  const wanted = opts.filter?.titleId;
  const titleIds = wanted === undefined ? Object.keys(catalog.titles) : [wanted];
  for (const titleId of titleIds) yield* titleUrls(state, titleId, opts.filter);
}

/** One title's canonical URLs (see `eachDerivativeUrl`); none for a title the catalog lacks. */
export function titleDerivativeUrls(
  state: ResolveState,
  titleId: string,
  filter: Omit<UniverseFilter, 'titleId'> = {},
): DerivativeUrl[] {
  return [...titleUrls(state, titleId, filter)];
}

function* titleUrls(state: ResolveState, titleId: string, filter: UniverseFilter = {}): Generator<DerivativeUrl> {
  for (const plan of planTitle(state, titleId, filter)) yield* planUrls(state, plan);
}

/** One canonical file (size, DPR, format) of a type: what every locale of it is resolved for. */
interface FileSpec {
  width: number;
  height: number;
  dpr: number;
  format: Format;
}

/**
 * One title's URLs of one type before any image is resolved: its files, and its URL locales
 * grouped by the catalog artwork they are served. Enough to count the URLs; `planUrls` resolves them.
 */
export interface TypePlan {
  type: TypeModel;
  titleId: string;
  files: readonly FileSpec[];
  /** The formats its `auto` URLs may serve, best first. */
  autoFormats: readonly Format[];
  /** Catalog locale served → the URL `locale` values (undefined: none) that are served it. */
  served: ReadonlyMap<string, ReadonlyArray<string | undefined>>;
}

/** The plans of one title's types, in the rules' order; none for a title the catalog lacks. */
export function planTitle(state: ResolveState, titleId: string, filter: UniverseFilter = {}): TypePlan[] {
  const title = Object.hasOwn(state.catalog.titles, titleId) ? state.catalog.titles[titleId] : undefined;
  if (!title) return [];
  const plans: TypePlan[] = [];
  for (const name of typeNames(state.rules)) {
    if (filter.type !== undefined && filter.type !== name) continue;
    if (!Object.hasOwn(title.artwork, name)) continue;
    const plan = planType(state, titleId, typeModel(state.rules, name) as TypeModel, filter.locale);
    if (plan) plans.push(plan);
  }
  return plans;
}

/** How many URLs a plan holds: each locale's files, plus one `auto` per size. */
export function planSize(plan: TypePlan): number {
  const perLocale = plan.files.length + plan.files.length / plan.type.formats.length;
  let size = 0;
  for (const locales of plan.served.values()) size += locales.length * perLocale;
  return size;
}

function requestFor(type: TypeModel, titleId: string, file: FileSpec, locale: string | undefined): ArtworkRequest {
  return {
    type: type.name,
    titleId,
    width: file.width,
    height: file.height,
    dpr: file.dpr,
    ext: extensionOf(file.format),
    ...(locale !== undefined ? { locale } : {}),
  };
}

function planType(
  state: ResolveState,
  titleId: string,
  type: TypeModel,
  localeFilter: string | undefined,
): TypePlan | undefined {
  const files: FileSpec[] = [];
  for (const dpr of state.rules.dpr) {
    for (const size of type.sizesAt.get(dpr) ?? []) {
      for (const format of type.formats) files.push({ width: size.width, height: size.height, dpr, format });
    }
  }
  const first = files[0];
  if (!first) return undefined;
  // Which catalog artwork a locale picks does not depend on the size or format asked: one
  // resolution says which it is, and every URL of the locales that pick the same artwork is that
  // artwork's resolution (`planUrls` resolves it once, asking with the catalog's own spelling).
  const served = new Map<string, Array<string | undefined>>();
  for (const requestLocale of requestLocales(state.rules, state.catalog)) {
    const locale = servedLocale(state, requestFor(type, titleId, first, requestLocale));
    if (locale === undefined) continue;
    if (localeFilter !== undefined && locale.toLowerCase() !== localeFilter.toLowerCase()) continue;
    served.set(locale, [...(served.get(locale) ?? []), requestLocale]);
  }
  return { type, titleId, files, autoFormats: negotiableFormats(type), served };
}

/** A plan's URLs, each image resolved by `resolveArtwork`: per locale, per size, its formats then `auto`. */
export function* planUrls(state: ResolveState, plan: TypePlan): Generator<DerivativeUrl> {
  for (const { path, requestLocale, image } of planEntries(state, plan)) yield { ...image, requestLocale, path };
}

/** A URL and its image, shared by every locale served the same artwork (the image's `path` is empty). */
export interface PlanEntry {
  path: string;
  requestLocale: string | undefined;
  image: DerivativeUrl;
}

/** `planUrls` without a copy per URL: a diff over a whole catalog keeps one object per image. */
export function* planEntries(state: ResolveState, plan: TypePlan): Generator<PlanEntry> {
  const { type, titleId, files, autoFormats } = plan;
  const perSize = type.formats.length;
  for (const [served, requestLocales] of plan.served) {
    const images: DerivativeUrl[] = [];
    for (const file of files) {
      const r = resolveArtwork(state, requestFor(type, titleId, file, served));
      // Every file here is one of the sizes that render: a redirect would be a bug in this list.
      if (r.kind !== 'render' || r.locale !== served) {
        throw new MarqueeError(
          'INTERNAL',
          `universe: ${type.name}/${titleId} ${file.width}x${file.height}@${file.dpr}x did not render`,
        );
      }
      images.push({
        path: '',
        type: type.name,
        titleId,
        locale: served,
        requestLocale: undefined,
        width: r.width,
        height: r.height,
        dpr: r.dpr,
        format: r.format,
        key: r.key,
        source: r.source,
        spec: r.spec,
        version: r.version,
      });
    }
    // Files come size by size, each size in the type's format order: `auto` follows each size.
    const withAuto: Array<{ image: DerivativeUrl; file: string }> = [];
    const base = `/v1/artwork/${type.name}/${titleId}/`;
    for (let i = 0; i < images.length; i += perSize) {
      const group = images.slice(i, i + perSize);
      for (const image of group) {
        const ext = extensionOf(image.format as Format);
        withAuto.push({ image, file: base + formatArtworkFile(image.width, image.height, image.dpr, ext) });
      }
      const head = group[0] as DerivativeUrl;
      const variants = autoFormats.map((format) => {
        const image = group.find((g) => g.format === format) as DerivativeUrl;
        return { format, key: image.key, spec: image.spec };
      });
      const auto: DerivativeUrl = {
        ...head,
        format: 'auto',
        key: variants.map((v) => v.key).join('+'),
        spec: (variants[0] as AutoVariant).spec,
        variants,
      };
      withAuto.push({ image: auto, file: base + formatArtworkFile(head.width, head.height, head.dpr, 'auto') });
    }
    for (const requestLocale of requestLocales) {
      const query = localeQuery(requestLocale);
      for (const { image, file } of withAuto) yield { path: file + query, requestLocale, image };
    }
  }
}

/**
 * The formats `auto` can answer with: `negotiateFormat` (the route's own) over every `Accept` the
 * CDN lets through, best first. A format after JPEG or PNG is never negotiated.
 */
function negotiableFormats(type: TypeModel): Format[] {
  const chosen = new Set(ACCEPT_CLASSES.map((accept) => negotiateFormat(type.formats, accept)));
  return type.formats.filter((f) => chosen.has(f));
}

/** Every locale the catalog has artwork in, any title and type, in first-seen order. */
const catalogLocales = new WeakMap<Catalog, readonly string[]>();

function localesOf(catalog: Catalog): readonly string[] {
  let locales = catalogLocales.get(catalog);
  if (!locales) {
    const seen = new Set<string>();
    for (const title of Object.values(catalog.titles)) {
      for (const byLocale of Object.values(title.artwork)) for (const locale of Object.keys(byLocale)) seen.add(locale);
    }
    locales = [...seen];
    catalogLocales.set(catalog, locales);
  }
  return locales;
}

/**
 * The `locale` values an artwork URL may carry (undefined: none), without case duplicates: the
 * catalog's locales (a French page asks for every title's billboard in `fr`, whether or not that
 * billboard has French artwork) and those the rules give a fallback chain.
 */
function requestLocales(rules: Rules, catalog: Catalog): Array<string | undefined> {
  const out: Array<string | undefined> = [undefined];
  const seen = new Set<string>();
  for (const tag of [...localesOf(catalog), ...Object.keys(rules.localeFallback ?? {})]) {
    const folded = tag.toLowerCase();
    if (seen.has(folded)) continue;
    seen.add(folded);
    out.push(tag);
  }
  return out;
}

/** The catalog locale a request is served, or undefined when the locale finds no artwork. */
function servedLocale(state: ResolveState, request: ArtworkRequest): string | undefined {
  try {
    const r = resolveArtwork(state, request);
    return r.kind === 'render' ? r.locale : undefined;
  } catch (err) {
    if (err instanceof MarqueeError && err.code === 'ARTWORK_NOT_FOUND') return undefined;
    throw err;
  }
}

/** The image-selecting query of a canonical URL, as the artwork route spells its 308 `Location`. */
function localeQuery(locale: string | undefined): string {
  if (locale === undefined) return '';
  return `?${new URLSearchParams({ locale }).toString()}`;
}
