import type { Format, ImageSpec, Source } from '@marquee/shared';
import { inPrewarmSet, typeModel } from '../rules/model.js';
import type { Catalog, Rules } from '../rules/schema.js';
import { eachDerivativeUrl, type DerivativeUrl, type UniverseFilter } from '../rules/universe.js';

/** One image to prewarm: a canonical URL's image, named by its spec key. */
export interface WarmEntry {
  /** The spec key (`specKey(source, spec, version)`): the object is `derivativeKey(key, spec.format)`. */
  key: string;
  source: Source;
  spec: ImageSpec;
  version: string;
  /** A canonical URL that serves it (for logs and the CLI). */
  url: string;
  type: string;
  titleId: string;
  /** The catalog locale of the artwork. */
  locale: string;
  format: Format;
}

/** Which artwork: a title, a type of it, a catalog locale; each left out means every one. */
export type WarmFilter = UniverseFilter;

function isPrewarmed(rules: Rules, url: DerivativeUrl): url is DerivativeUrl & { format: Format } {
  if (url.format === 'auto') return false;
  const type = typeModel(rules, url.type);
  return type !== undefined && inPrewarmSet(type, url.width, url.height, url.dpr, url.format);
}

/**
 * The warm set: the images of the rules' `prewarm` section (per type: sizes, DPRs, formats) for
 * the artwork the filters select, one entry per distinct image (a URL with `?locale=` that
 * resolves to the same artwork, or `342x513@2x` and `684x1026` when they are one render, is one
 * image). `auto` URLs add nothing: each serves one of its type's formats, prewarmed or not.
 * Several filters (the artwork a catalog change touched) are unioned.
 */
export function warmSet(
  rules: Rules,
  catalog: Catalog,
  sourcesBucket: string,
  filters: readonly WarmFilter[] = [{}],
): WarmEntry[] {
  const entries = new Map<string, WarmEntry>();
  for (const filter of filters) {
    for (const url of eachDerivativeUrl(rules, catalog, { sourcesBucket, filter })) {
      if (entries.has(url.key) || !isPrewarmed(rules, url)) continue;
      entries.set(url.key, {
        key: url.key,
        source: url.source,
        spec: url.spec,
        version: url.version,
        url: url.path,
        type: url.type,
        titleId: url.titleId,
        locale: url.locale,
        format: url.format,
      });
    }
  }
  return [...entries.values()];
}
