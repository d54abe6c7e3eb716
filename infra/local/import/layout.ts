import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The folder layout `npm start -- --images DIR` reads:
 *
 *   DIR/<titleId>/<type>.<ext>            the rules' default locale
 *   DIR/<titleId>/<type>.<locale>.<ext>   another locale (`boxshot.pt-BR.jpg`)
 *   DIR/<titleId>/<type>.json             optional: { "focal": { "x": 0.5, "y": 0.3 } } for every locale of the type
 *   DIR/<titleId>/title.json              optional: { "name": "…", "flags": ["top10"] }
 *
 * Everything else is reported by name. Hidden files and editors' backups are passed over quietly.
 */

/** Title ids as the catalog contract has them: they appear in URLs and keys. */
export const TITLE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** `<type>[.<locale>].<ext>`: a type as the rules name them, a BCP 47 tag as the artwork route takes it. */
const ARTWORK_FILE = /^([a-z][a-z0-9-]{0,31})(?:\.([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}))?\.([A-Za-z0-9]{1,5})$/;
/** Not ours to read: `.DS_Store`, `.boxshot.jpg.swp`, `boxshot.jpg~`, `#boxshot.jpg#`. */
const IGNORED = /^[.#]|~$/;

export const TITLE_FILE = 'title.json';
export const LAYOUT_HINT =
  'expected <type>.<ext> or <type>.<locale>.<ext> (boxshot.jpg, boxshot.fr.jpg), <type>.json or title.json';

/** One artwork file, by where it sits and what its name says. */
export interface ArtworkFile {
  titleId: string;
  type: string;
  /** As spelled in the name; undefined for the default locale. */
  locale: string | undefined;
  /** Relative to the folder, with `/`: how it is named in reports. */
  file: string;
  path: string;
}

export interface TitleFolder {
  titleId: string;
  artwork: ArtworkFile[];
  /** `title.json`, when present. */
  titleFile: { file: string; path: string } | undefined;
  /** `<type>.json` by type. */
  sidecars: Map<string, { file: string; path: string }>;
}

export interface SkippedFile {
  /** Relative to the folder. */
  file: string;
  reason: string;
}

export interface FolderLayout {
  titles: TitleFolder[];
  skipped: SkippedFile[];
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Reads the folder's layout (names only: the files are checked by the importer). Throws when `dir` is unreadable. */
export async function readLayout(dir: string): Promise<FolderLayout> {
  const titles: TitleFolder[] = [];
  const skipped: SkippedFile[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort(byName)) {
    if (IGNORED.test(entry.name)) continue;
    if (!entry.isDirectory()) {
      skipped.push({ file: entry.name, reason: 'not in a title folder: expected DIR/<titleId>/<file>' });
      continue;
    }
    if (!TITLE_ID.test(entry.name)) {
      skipped.push({ file: `${entry.name}/`, reason: 'a title id is 1-64 of A-Z a-z 0-9 _ -' });
      continue;
    }
    titles.push(await readTitle(dir, entry.name, skipped));
  }
  return { titles, skipped };
}

async function readTitle(dir: string, titleId: string, skipped: SkippedFile[]): Promise<TitleFolder> {
  const folder: TitleFolder = { titleId, artwork: [], titleFile: undefined, sidecars: new Map() };
  for (const entry of (await readdir(path.join(dir, titleId), { withFileTypes: true })).sort(byName)) {
    if (IGNORED.test(entry.name)) continue;
    const file = `${titleId}/${entry.name}`;
    const where = { file, path: path.join(dir, titleId, entry.name) };
    if (entry.isDirectory()) {
      skipped.push({ file: `${file}/`, reason: 'folders inside a title folder are not read' });
      continue;
    }
    if (entry.name === TITLE_FILE) {
      folder.titleFile = where;
      continue;
    }
    const m = ARTWORK_FILE.exec(entry.name);
    if (!m) {
      skipped.push({ file, reason: LAYOUT_HINT });
      continue;
    }
    const [, type, locale, ext] = m as unknown as [string, string, string | undefined, string];
    if (ext.toLowerCase() === 'json') {
      if (locale !== undefined) skipped.push({ file, reason: `a focal point is given per type: ${type}.json` });
      else folder.sidecars.set(type, where);
      continue;
    }
    folder.artwork.push({ titleId, type, locale, ...where });
  }
  return folder;
}
