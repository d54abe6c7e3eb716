/**
 * The catalog document as the Preprocessor's rules engine reads it
 * (`catalog.json` in the sources bucket). Titles → artwork per type and
 * locale → source key, version, focal point; plus the title's flags.
 */
export interface CatalogFocal {
  /** 0..1 from the left. */
  x: number;
  /** 0..1 from the top. */
  y: number;
}

export interface CatalogArtwork {
  /** Object key in the sources bucket. */
  source: string;
  /** Bumped when the artwork is replaced: part of the cache key. */
  version: string;
  /** Where the subject is; absent: the renderer picks (attention strategy). */
  focal?: CatalogFocal;
  width?: number;
  height?: number;
}

export interface CatalogTitle {
  name: string;
  /** e.g. `top10`, `new`: the rules map flags to overlays. */
  flags: string[];
  /** type (`boxshot`, `billboard`, `logo`) → locale (BCP 47) → artwork. */
  artwork: Record<string, Record<string, CatalogArtwork>>;
}

export interface Catalog {
  version: 1;
  /** Keyed by title id (8 digits). */
  titles: Record<string, CatalogTitle>;
}

export const CATALOG_KEY = 'catalog.json';
