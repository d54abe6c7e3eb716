/**
 * Where the seed writes the catalog document in the sources bucket. Its shape is the wire
 * contract's `Catalog` (`shared/src/catalog.ts`), the schema the Preprocessor's rules engine
 * validates it against.
 */
export const CATALOG_KEY = 'catalog.json';
