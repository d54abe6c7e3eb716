import type { Fit, Format } from '@marquee/shared';
import type {
  CachePolicy,
  CropPolicy,
  Ladder,
  OverlayRule,
  Rules,
  SizeClass,
  SizePolicy,
  TypeRules,
} from './schema.js';

/**
 * A logical size as the rules write it (`WxH`, before the DPR multiplies it into output
 * pixels), parsed once. The Generator's pixel extents are another type, `PixelSize`.
 */
export interface Size {
  width: number;
  height: number;
}

/** One artwork type with every default filled in and its sizes parsed. */
export interface TypeModel {
  name: string;
  rules: TypeRules;
  aspect: Size;
  sizes: Size[];
  sizePolicy: SizePolicy;
  fit: Fit;
  crop: CropPolicy;
  formats: Format[];
  overlays: OverlayRule[];
  cache: CachePolicy;
  /** Whether the source may be scaled up; when not, the spec says `enlarge: false`. */
  enlarge: boolean;
  /**
   * The logical sizes that render, per DPR of the rules: the listed sizes that
   * fit the max at that DPR (`snap`, `strict`), or the ladder (`any`). Every
   * other request is redirected to one of them or refused.
   */
  sizesAt: ReadonlyMap<number, readonly Size[]>;
  /**
   * Distinct output pixel sizes over `sizesAt`: the most renders one title's
   * artwork of this type can cause per locale and format, whatever URLs are
   * requested.
   */
  renders: number;
  /** Whether renders are kept in (and read from) the derivative store. */
  store: boolean;
  /** What is rendered into the store ahead of requests; undefined when nothing is (or not stored). */
  prewarm: PrewarmSet | undefined;
}

/** The outputs of a type that are prewarmed, for every title, locale and version of its artwork. */
export interface PrewarmSet {
  /** Per DPR, the logical sizes: each one the type renders at that DPR (never a redirect). */
  sizesAt: ReadonlyMap<number, readonly Size[]>;
  formats: readonly Format[];
}

export interface Tuning {
  quality: number;
  effort: number | undefined;
}

export const DEFAULT_SIZE_POLICY: SizePolicy = 'snap';
export const DEFAULT_FIT: Fit = 'cover';
export const DEFAULT_CROP: CropPolicy = 'focal';
/** The most renders a ladder may allow per title, locale and format (the loader refuses more). */
export const MAX_LADDER_RENDERS = 100;
/** Artwork is made at the size it is shown: scaling it up adds bytes, not detail. */
export const DEFAULT_ENLARGE = false;
/** Every render is kept in the derivative store unless the type says otherwise. */
export const DEFAULT_STORE = true;
/** The DPRs prewarmed by default (those of them the rules allow): most screens are one or the other. */
export const DEFAULT_PREWARM_DPRS: readonly number[] = [1, 2];

export function parseSize(text: string): Size {
  const [w, h] = text.split('x');
  return { width: Number(w), height: Number(h) };
}

export function formatSize(size: Size): string {
  return `${size.width}x${size.height}`;
}

export function parseAspect(text: string): Size {
  const [w, h] = text.split(':');
  return { width: Number(w), height: Number(h) };
}

/** The height of `width` on `aspect`, rounded to a whole pixel. */
export function heightOn(aspect: Size, width: number): number {
  return Math.max(1, Math.round((width * aspect.height) / aspect.width));
}

/** Built once per rules document (rules objects are never mutated). */
const models = new WeakMap<Rules, Map<string, TypeModel>>();

/** The model of `type`, or undefined when the rules do not define it. */
export function typeModel(rules: Rules, type: string): TypeModel | undefined {
  let byName = models.get(rules);
  if (!byName) {
    byName = new Map(Object.entries(rules.types).map(([name, t]) => [name, buildModel(rules, name, t)]));
    models.set(rules, byName);
  }
  return byName.get(type);
}

export function typeNames(rules: Rules): string[] {
  return Object.keys(rules.types);
}

function buildModel(rules: Rules, name: string, t: TypeRules): TypeModel {
  const sizesAt = renderableSizes(rules, t);
  return {
    name,
    rules: t,
    aspect: parseAspect(t.aspect),
    sizes: t.sizes.map(parseSize),
    sizePolicy: t.sizePolicy ?? DEFAULT_SIZE_POLICY,
    fit: t.fit ?? DEFAULT_FIT,
    crop: t.crop ?? DEFAULT_CROP,
    formats: [...t.formats],
    overlays: t.overlays ?? [],
    cache: t.cache ?? rules.cache,
    enlarge: t.enlarge ?? DEFAULT_ENLARGE,
    sizesAt,
    renders: countRenders(sizesAt),
    store: t.store ?? DEFAULT_STORE,
    prewarm: prewarmSet(rules, t, sizesAt),
  };
}

/**
 * The prewarm set: the type's `prewarm` lists, each defaulting to the type's own (listed sizes,
 * 1x and 2x, its formats), keeping at each DPR only the sizes that render there. Nothing for a
 * type that is not stored (a prewarm renders into the store) or says `prewarm: false`.
 */
function prewarmSet(rules: Rules, t: TypeRules, sizesAt: ReadonlyMap<number, readonly Size[]>): PrewarmSet | undefined {
  if (!(t.store ?? DEFAULT_STORE) || t.prewarm === false) return undefined;
  const wanted = (t.prewarm?.sizes ?? t.sizes).map(parseSize);
  const dprs = t.prewarm?.dprs ?? DEFAULT_PREWARM_DPRS.filter((dpr) => rules.dpr.includes(dpr));
  const byDpr = new Map<number, Size[]>();
  for (const dpr of dprs) {
    const renderable = sizesAt.get(dpr) ?? [];
    const sizes = wanted.filter((w) => renderable.some((r) => r.width === w.width && r.height === w.height));
    if (sizes.length > 0) byDpr.set(dpr, sizes);
  }
  const formats = [...(t.prewarm?.formats ?? t.formats)];
  return byDpr.size > 0 && formats.length > 0 ? { sizesAt: byDpr, formats } : undefined;
}

/** Whether the output of `type` at logical `width`x`height`, `dpr` and `format` is in its prewarm set. */
export function inPrewarmSet(type: TypeModel, width: number, height: number, dpr: number, format: Format): boolean {
  const set = type.prewarm;
  if (set === undefined || !set.formats.includes(format)) return false;
  return (set.sizesAt.get(dpr) ?? []).some((s) => s.width === width && s.height === height);
}

/** Whether logical `size` at `dpr` is within the type's max (output pixels). */
export function fitsMax(t: TypeRules, size: Size, dpr: number): boolean {
  return size.width * dpr <= t.maxWidth && size.height * dpr <= t.maxHeight;
}

/**
 * The sizes that render at each DPR of the rules. An `any` type without a
 * ladder (the loader refuses one) renders only its listed sizes, like `snap`.
 */
export function renderableSizes(rules: Rules, t: TypeRules): Map<number, Size[]> {
  const aspect = parseAspect(t.aspect);
  const listed = t.sizes.map(parseSize);
  const ladder = (t.sizePolicy ?? DEFAULT_SIZE_POLICY) === 'any' ? t.ladder : undefined;
  return new Map(
    rules.dpr.map((dpr) => {
      const fitting = listed.filter((s) => fitsMax(t, s, dpr));
      return [dpr, ladder ? ladderAt(t, ladder, aspect, fitting, dpr) : fitting];
    }),
  );
}

/**
 * The ladder at `dpr`, ascending: `minWidth`, then each `ratio` times the one
 * before, below the widest size that fits the max at this DPR; then that
 * widest size, so every request within the max has a ladder size at or above
 * it. Heights are the aspect's. The listed sizes that fit are on the ladder
 * too (they are what the studio proposes, and they render as listed: `171`
 * on 2:3 stays `171x256`).
 */
function ladderAt(t: TypeRules, ladder: Ladder, aspect: Size, listed: readonly Size[], dpr: number): Size[] {
  const top = widestFitting(t, aspect, dpr);
  const byWidth = new Map<number, Size>();
  const add = (width: number) => byWidth.set(width, { width, height: heightOn(aspect, width) });
  for (let k = 0, w = ladder.minWidth; w < top; k += 1, w = Math.round(ladder.minWidth * ladder.ratio ** k)) add(w);
  if (top > 0) add(top);
  for (const s of listed) byWidth.set(s.width, s);
  return [...byWidth.values()].sort((a, b) => a.width - b.width);
}

/** The largest width whose aspect size fits the max at `dpr` (0 if none does). */
function widestFitting(t: TypeRules, aspect: Size, dpr: number): number {
  const maxHeight = Math.floor(t.maxHeight / dpr);
  // heightOn rounds, so widths a little past maxHeight × aspect may still fit: start there, step down.
  let width = Math.min(Math.floor(t.maxWidth / dpr), Math.ceil(((maxHeight + 0.5) * aspect.width) / aspect.height));
  while (width > 0 && heightOn(aspect, width) > maxHeight) width -= 1;
  return width;
}

/** Distinct output pixel sizes: `600x200@2x` and `1200x400` are one render. */
export function countRenders(sizesAt: ReadonlyMap<number, readonly Size[]>): number {
  const pixels = new Set<string>();
  for (const [dpr, sizes] of sizesAt) for (const s of sizes) pixels.add(`${s.width * dpr}x${s.height * dpr}`);
  return pixels.size;
}

/** The size class of an output `width` pixels wide: the first whose maxWidth holds it, else the last. */
export function sizeClassOf(classes: readonly SizeClass[], width: number): SizeClass | undefined {
  return classes.find((c) => c.maxWidth === undefined || width <= c.maxWidth) ?? classes.at(-1);
}

/**
 * Quality and effort for `format` in size class `cls`, most specific first:
 * the type's class override, the type's format entry, the global class
 * override, the global format entry. Undefined quality means the rules never
 * set one (the loader refuses such rules).
 */
export function tuningOf(rules: Rules, t: TypeRules, format: Format, cls: string | undefined): Partial<Tuning> {
  const own = t.encoding?.[format];
  const global = rules.encoding?.[format];
  const ownClass = cls === undefined ? undefined : own?.sizeClasses?.[cls];
  const globalClass = cls === undefined ? undefined : global?.sizeClasses?.[cls];
  return {
    quality: ownClass?.quality ?? own?.quality ?? globalClass?.quality ?? global?.quality,
    effort: ownClass?.effort ?? own?.effort ?? globalClass?.effort ?? global?.effort,
  };
}
