import type { Fit, Format } from '@marquee/shared';
import type { CachePolicy, CropPolicy, OverlayRule, Rules, SizeClass, SizePolicy, TypeRules } from './schema.js';

/** A logical size, parsed once. */
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
}

export interface Tuning {
  quality: number;
  effort: number | undefined;
}

export const DEFAULT_SIZE_POLICY: SizePolicy = 'snap';
export const DEFAULT_FIT: Fit = 'cover';
export const DEFAULT_CROP: CropPolicy = 'focal';

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
  };
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
