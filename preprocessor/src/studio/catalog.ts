import type { Catalog, StudioCatalog, StudioTitle, StudioType } from '@marquee/shared';
import type { Rules } from '../rules/schema.js';
import { listTypes, type TypeSummary } from '../rules/resolve.js';

type Assert<T extends true> = T;
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
/**
 * The page gets every field of the rules' summary of a type, `type` renamed `name`: a field
 * added to `TypeSummary` and not to the wire's `StudioType` (or the other way) fails here, and
 * `studioTypes` checks each field's type. (The catalog reply's schema would drop the extra field.)
 */
type _TypeSummaryMatchesStudioType = Assert<SameKeys<Omit<TypeSummary, 'type'>, Omit<StudioType, 'name'>>>;

function studioTypes(rules: Rules): StudioType[] {
  return listTypes(rules).map(({ type, ...rest }) => ({ name: type, ...rest }));
}

/** The catalog as the studio page shows it: titles by name, each with its artwork per type and locale. */
export function studioCatalog(rules: Rules, catalog: Catalog): StudioCatalog {
  const titles = Object.entries(catalog.titles)
    .map(([id, title]): StudioTitle => ({ id, name: title.name, flags: title.flags ?? [], artwork: title.artwork }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  return { defaultLocale: rules.defaultLocale, types: studioTypes(rules), titles };
}

/** Built once per catalog document (catalogs are replaced on reload, never mutated). */
const published = new WeakMap<Catalog, Map<string, string>>();

/** The source keys the catalog publishes, with their versions: what a studio may sign besides staging. */
export function publishedSources(catalog: Catalog): Map<string, string> {
  const known = published.get(catalog);
  if (known) return known;
  const sources = new Map<string, string>();
  published.set(catalog, sources);
  for (const title of Object.values(catalog.titles)) {
    for (const byLocale of Object.values(title.artwork)) {
      for (const entry of Object.values(byLocale)) sources.set(entry.source, entry.version);
    }
  }
  return sources;
}
