import type { Catalog, Rules } from '../rules/schema.js';
import { eachDerivativeUrl } from '../rules/universe.js';
import { warmSet, type WarmEntry, type WarmFilter } from './warm-set.js';

/**
 * What a rules publish gives to prewarm: the warm set under the `next` rules, less the images the
 * `current` rules already serve (same spec key: the store or the CDN has them, or would render
 * them the same). A new look is a new key, so exactly the changed and added images are left.
 */
export function warmSetOfRulesChange(
  current: Rules,
  next: Rules,
  catalog: Catalog,
  sourcesBucket: string,
  filters: readonly WarmFilter[] = [{}],
): WarmEntry[] {
  const served = new Set<string>();
  for (const filter of filters) {
    for (const url of eachDerivativeUrl(current, catalog, { sourcesBucket, filter })) served.add(url.key);
  }
  return warmSet(next, catalog, sourcesBucket, filters).filter((entry) => !served.has(entry.key));
}

/**
 * Which images a publish renders into the store before the flip: every changed or added image, or
 * those of the rules' `prewarm` sections. There is no "most requested first": the Preprocessor
 * keeps no request count per URL or spec key (its output cache orders by recency, its metrics by
 * route), so it cannot tell which changed URLs are the popular ones.
 */
export type PublishWarmSet = 'changed' | 'prewarm-set';
export const PUBLISH_WARM_SETS: readonly PublishWarmSet[] = ['changed', 'prewarm-set'];

/**
 * Every image a canonical URL serves under `next` and not under `current`: each changed or added
 * URL, whatever the rules' `prewarm` section says, and each format an `auto` URL may negotiate.
 * After a publish that stores them all, no changed URL renders live.
 */
export function changedImages(current: Rules, next: Rules, catalog: Catalog, sourcesBucket: string): WarmEntry[] {
  const served = new Set<string>();
  for (const url of eachDerivativeUrl(current, catalog, { sourcesBucket })) {
    for (const variant of url.variants ?? [url]) served.add(variant.key);
  }
  const entries = new Map<string, WarmEntry>();
  for (const url of eachDerivativeUrl(next, catalog, { sourcesBucket })) {
    const variants =
      url.variants ?? (url.format === 'auto' ? [] : [{ key: url.key, spec: url.spec, format: url.format }]);
    for (const v of variants) {
      if (served.has(v.key) || entries.has(v.key)) continue;
      entries.set(v.key, {
        key: v.key,
        source: url.source,
        spec: v.spec,
        version: url.version,
        url: url.path,
        type: url.type,
        titleId: url.titleId,
        locale: url.locale,
        format: v.format,
      });
    }
  }
  return [...entries.values()];
}

/** The images of `set` for a publish from `current` (undefined: none) to `next`. */
export function publishWarmSet(
  set: PublishWarmSet,
  current: Rules | undefined,
  next: Rules,
  catalog: Catalog,
  sourcesBucket: string,
): WarmEntry[] {
  const before = current ?? { ...next, types: {} };
  return set === 'changed'
    ? changedImages(before, next, catalog, sourcesBucket)
    : warmSetOfRulesChange(before, next, catalog, sourcesBucket);
}

/**
 * How many of `paths` (canonical URLs a publish changes or adds) will render live on their first
 * request: those whose image, or for `auto` any format it may negotiate, is one of `missing` (the
 * new images, `changedImages`, that the prewarm left out or failed to store).
 */
export function urlsLeftLive(
  next: Rules,
  catalog: Catalog,
  sourcesBucket: string,
  paths: readonly string[],
  missing: ReadonlySet<string>,
): number {
  if (missing.size === 0) return 0;
  const wanted = new Set(paths);
  let live = 0;
  for (const url of eachDerivativeUrl(next, catalog, { sourcesBucket })) {
    if (!wanted.has(url.path)) continue;
    const keys = url.variants ? url.variants.map((v) => v.key) : [url.key];
    if (keys.some((key) => missing.has(key))) live++;
  }
  return live;
}
