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
