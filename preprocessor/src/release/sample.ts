import { createHash } from 'node:crypto';
import type { Format, GeneratorRequest, ImageSpec } from '@marquee/shared';
import type { Catalog, Rules } from '../rules/schema.js';
import { eachDerivativeUrl, type UniverseFilter } from '../rules/universe.js';

/**
 * The derivatives a release gate renders: a deterministic sample of the catalog's derivative
 * universe (`eachDerivativeUrl`, what the artwork route serves), chosen so that every kind of
 * render is in it before any kind is in it twice. A kind is what could render differently in
 * a Generator: the type (its aspect and overlays), format, fit, crop (catalog focal point,
 * sharp's attention strategy, none), badges, and pixel ratio.
 *
 * One derivative of each kind comes first (by a hash of its key, so the pick spreads over titles
 * and is the same run to run); the rest of the sample is drawn from the whole universe in the
 * same hash order, so that it weighs kinds as the catalog does rather than repeating the rare,
 * costly ones (a 3x AVIF billboard renders in seconds, a 1x JPEG boxshot in tens of ms).
 */

export interface SampleFilter extends UniverseFilter {
  /** Only these formats (a quicker gate while developing; a release gates them all). */
  formats?: readonly Format[];
}

export interface SampleItem {
  /** The canonical URL it is served under (the first found). */
  path: string;
  key: string;
  kind: string;
  request: GeneratorRequest;
}

export interface Sample {
  items: SampleItem[];
  /** Distinct kinds in the universe, and how many of them the sample holds. */
  kinds: number;
  covered: number;
  /** Distinct images in the universe (by spec key). */
  universe: number;
}

function cropKind(spec: ImageSpec): string {
  if (spec.fit !== 'cover') return 'none';
  return spec.focal !== undefined ? 'focal' : 'attention';
}

/** Sorting by a hash of the key spreads each kind's picks over titles, and stays the same run to run. */
function rank(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function releaseSample(
  rules: Rules,
  catalog: Catalog,
  sourcesBucket: string,
  size: number,
  filter: SampleFilter = {},
): Sample {
  const byKind = new Map<string, SampleItem[]>();
  const seen = new Set<string>();
  const { formats, ...universe } = filter;
  for (const url of eachDerivativeUrl(rules, catalog, { sourcesBucket, filter: universe })) {
    // `auto` serves one of the concrete formats, each already a URL of its own.
    if (url.format === 'auto' || seen.has(url.key)) continue;
    if (formats !== undefined && !formats.includes(url.spec.format)) continue;
    seen.add(url.key);
    const spec = url.spec;
    const kind = [
      url.type,
      spec.format,
      spec.fit,
      cropKind(spec),
      (spec.overlays?.length ?? 0) > 0 ? 'badges' : 'plain',
      `${url.dpr}x`,
    ].join(' ');
    const request: GeneratorRequest = {
      v: 1,
      id: `release-${url.key}`,
      source: url.source,
      spec,
      ...(url.version !== undefined ? { version: url.version } : {}),
    };
    const list = byKind.get(kind) ?? [];
    list.push({ path: url.path, key: url.key, kind, request });
    byKind.set(kind, list);
  }
  const kinds = [...byKind.keys()].sort();
  const ranked = (list: SampleItem[]) =>
    list
      .map((item) => ({ item, rank: rank(item.key) }))
      .sort((a, b) => (a.rank < b.rank ? -1 : 1))
      .map((r) => r.item);
  const firsts = ranked(kinds.map((kind) => ranked(byKind.get(kind) ?? [])[0] as SampleItem));
  const items = firsts.slice(0, size);
  const chosen = new Set(items.map((i) => i.key));
  const rest = ranked([...byKind.values()].flat().filter((i) => !chosen.has(i.key)));
  items.push(...rest.slice(0, Math.max(0, size - items.length)));
  const covered = new Set(items.map((i) => i.kind)).size;
  return { items, kinds: kinds.length, covered, universe: seen.size };
}
