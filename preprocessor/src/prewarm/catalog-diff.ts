import { stableStringify } from '@marquee/shared';
import type { Catalog } from '../rules/schema.js';

/** One artwork of the catalog: a title's type in one locale. */
export interface ArtworkRef {
  titleId: string;
  type: string;
  locale: string;
}

/**
 * The artwork of `next` whose images `previous` did not have: a new title, type or locale; a new
 * version or source (how a catalog service publishes a new master); or anything else the images
 * are made from (a moved focal point, the title's flags, which choose its badges). Each is a new
 * spec key, so its images are new objects for the store. Removed artwork is not listed: nothing
 * to render.
 */
export function changedArtwork(previous: Catalog, next: Catalog): ArtworkRef[] {
  const out: ArtworkRef[] = [];
  for (const [titleId, title] of Object.entries(next.titles)) {
    const before = Object.hasOwn(previous.titles, titleId) ? previous.titles[titleId] : undefined;
    const flagsChanged = stableStringify(before?.flags ?? []) !== stableStringify(title.flags ?? []);
    for (const [type, byLocale] of Object.entries(title.artwork)) {
      const old = before !== undefined && Object.hasOwn(before.artwork, type) ? before.artwork[type] : undefined;
      for (const [locale, entry] of Object.entries(byLocale)) {
        const was = old !== undefined && Object.hasOwn(old, locale) ? old[locale] : undefined;
        if (flagsChanged || was === undefined || stableStringify(was) !== stableStringify(entry)) {
          out.push({ titleId, type, locale });
        }
      }
    }
  }
  return out;
}
