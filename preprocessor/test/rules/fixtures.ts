import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseCatalog, parseRules, type Catalog, type Rules } from '../../src/rules/index.js';
import type { ArtworkRequest, ResolveState } from '../../src/rules/resolve.js';

export const RULES_PATH = fileURLToPath(new URL('../../config/rules.yaml', import.meta.url));
export const RULES_TEXT = readFileSync(RULES_PATH, 'utf8');
export const SOURCES_BUCKET = 'marquee-sources';

/** The shipped default rules: every resolution test runs against the README's example. */
export const defaultRules: Rules = parseRules(RULES_TEXT, 'rules.yaml');

/** The catalog format as the seed script writes it. */
export const CATALOG_DOC = {
  version: 1,
  titles: {
    '80000001': {
      name: 'The Long Night',
      flags: ['top10'],
      artwork: {
        boxshot: {
          en: {
            source: 'titles/80000001/boxshot/en.jpg',
            version: '1',
            focal: { x: 0.5, y: 0.32 },
            width: 1000,
            height: 1500,
          },
          'pt-BR': { source: 'titles/80000001/boxshot/pt-BR.jpg', version: '1' },
          fr: { source: 'titles/80000001/boxshot/fr.jpg', version: '2' },
        },
        billboard: { en: { source: 'titles/80000001/billboard/en.jpg', version: '1' } },
        logo: { en: { source: 'titles/80000001/logo/en.png', version: '1' } },
      },
    },
    // No flags, a bare `pt` boxshot and no billboard.
    '80000002': {
      name: 'Quiet Harbour',
      artwork: {
        boxshot: {
          en: { source: 'titles/80000002/boxshot/en.jpg', version: '3' },
          pt: { source: 'titles/80000002/boxshot/pt.jpg', version: '3' },
        },
      },
    },
    '80000003': {
      name: 'New and Popular',
      flags: ['new', 'top10'],
      artwork: { boxshot: { en: { source: 'titles/80000003/boxshot/en.jpg', version: '1' } } },
    },
    // French only: English requests find nothing.
    '80000004': {
      name: 'Le Dernier Été',
      flags: [],
      artwork: { boxshot: { fr: { source: 'titles/80000004/boxshot/fr.jpg', version: '1' } } },
    },
  },
};

export const CATALOG_TEXT = JSON.stringify(CATALOG_DOC, null, 2);
export const defaultCatalog: Catalog = parseCatalog(CATALOG_TEXT, 'catalog.json');

export const state: ResolveState = { rules: defaultRules, catalog: defaultCatalog, sourcesBucket: SOURCES_BUCKET };

/** A boxshot request for title 80000001 at 342x513 jpg; override what a case is about. */
export function req(overrides: Partial<ArtworkRequest> = {}): ArtworkRequest {
  return { type: 'boxshot', titleId: '80000001', width: 342, height: 513, dpr: 1, ext: 'jpg', ...overrides };
}

/**
 * The default rules plus extra artwork types (through YAML and `parseRules`,
 * so test rules pass the same validation as real ones).
 */
export function rulesWith(types: Record<string, object>, extra: Record<string, unknown> = {}): Rules {
  const doc = { ...structuredClone(defaultRules), ...extra };
  doc.types = { ...doc.types, ...(types as Rules['types']) };
  return parseRules(stringify(doc), 'test-rules.yaml');
}

/**
 * The default state plus made-up artwork types, each with English artwork
 * (focal point 0.1/0.9) for title 80000001.
 */
export function stateWith(types: Record<string, object>): ResolveState {
  const catalog = catalogDoc();
  for (const type of Object.keys(types)) {
    at(catalog, 'titles', '80000001', 'artwork')[type] = {
      en: { source: `titles/80000001/${type}/en.jpg`, version: '1', focal: { x: 0.1, y: 0.9 } },
    };
  }
  return {
    rules: rulesWith(types),
    catalog: parseCatalog(JSON.stringify(catalog), 'catalog.json'),
    sourcesBucket: SOURCES_BUCKET,
  };
}

/** A minimal valid type, for types made up in tests. */
export const posterType = {
  aspect: '2:3',
  sizes: ['171x256', '342x513', '684x1026'],
  maxWidth: 2052,
  maxHeight: 3078,
  formats: ['avif', 'webp', 'jpeg'],
};

/** A rules or catalog document as plain data (what YAML or JSON parses to), to break one field at a time. */
export type Doc = Record<string, unknown>;

/** The value at `path` inside `doc`, or a TypeError naming the path (as a property read of `undefined` would). */
function walk(doc: Doc, path: Array<string | number>): unknown {
  let value: unknown = doc;
  for (const [i, key] of path.entries()) {
    if (typeof value !== 'object' || value === null)
      throw new TypeError(`nothing at /${path.slice(0, i + 1).join('/')}`);
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** The mapping at `path` inside `doc` (`at(d, 'types', 'boxshot').maxWidth = 'big'`), to edit in place. */
export function at(doc: Doc, ...path: Array<string | number>): Doc {
  const value = walk(doc, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(`no mapping at /${path.join('/')}`);
  return value as Doc;
}

/** The list at `path` inside `doc` (`list(d, 'types', 'boxshot', 'sizes').push('2100x3150')`), to edit in place. */
export function list(doc: Doc, ...path: Array<string | number>): unknown[] {
  const value = walk(doc, path);
  if (!Array.isArray(value)) throw new TypeError(`no list at /${path.join('/')}`);
  return value as unknown[];
}

/** The default rules as a plain object, to break one field at a time. */
export function rulesDoc(): Doc {
  return structuredClone(defaultRules);
}

/** Catalog for the same titles, ready to break one field at a time. */
export function catalogDoc(): Doc {
  return structuredClone(CATALOG_DOC);
}
