import type { CompareCounts, CompareStatus, Format } from '@marquee/shared';
import type { ResolveState } from '../rules/resolve.js';
import { titleDerivativeUrls, type DerivativeUrl } from '../rules/universe.js';

/** One artwork file (size, DPR, format) of a title in one locale, under both rules. */
export interface ComparedFile {
  path: string;
  locale: string;
  width: number;
  height: number;
  dpr: number;
  format: Format;
  status: CompareStatus;
}

export interface TitleComparison {
  /** Every file of every locale, changed first. */
  files: ComparedFile[];
  locales: CompareCounts[];
}

const ORDER: Record<CompareStatus, number> = { changed: 0, added: 1, removed: 2, unchanged: 3 };

/**
 * A title's files of one type, one per locale, size, DPR and explicit format: the URLs of the
 * universe (`universe.ts`, what the impact panel counts) that name their locale as the catalog
 * spells it. `auto` URLs and fallback aliases serve these same images.
 */
function filesOf(state: ResolveState, titleId: string, type: string): Map<string, DerivativeUrl> {
  const files = new Map<string, DerivativeUrl>();
  for (const url of titleDerivativeUrls(state, titleId, { type })) {
    if (url.format === 'auto' || url.requestLocale?.toLowerCase() !== url.locale.toLowerCase()) continue;
    files.set(url.path, url);
  }
  return files;
}

/**
 * How a draft changes one title's artwork of one type: per file, whether the image changes (spec
 * keys differ), appears, goes or stays; per locale, the counts. Both sides come from the same
 * resolution as the artwork route, so "unchanged" means byte-identical.
 */
export function compareTitle(
  current: ResolveState,
  next: ResolveState,
  titleId: string,
  type: string,
): TitleComparison {
  const before = filesOf(current, titleId, type);
  const after = filesOf(next, titleId, type);
  const files: ComparedFile[] = [];
  const counts = new Map<string, CompareCounts>();
  const add = (url: DerivativeUrl, status: CompareStatus) => {
    const { path, locale, width, height, dpr } = url;
    files.push({ path, locale, width, height, dpr, format: url.format as Format, status });
    const c = counts.get(locale) ?? { locale, changed: 0, added: 0, removed: 0, unchanged: 0 };
    c[status] += 1;
    counts.set(locale, c);
  };
  for (const [path, was] of before) {
    const is = after.get(path);
    add(was, !is ? 'removed' : is.key === was.key ? 'unchanged' : 'changed');
  }
  for (const [path, is] of after) if (!before.has(path)) add(is, 'added');
  files.sort(
    (a, b) =>
      ORDER[a.status] - ORDER[b.status] ||
      a.dpr - b.dpr ||
      a.width - b.width ||
      a.height - b.height ||
      a.format.localeCompare(b.format),
  );
  const locales = [...counts.values()].sort((a, b) => a.locale.localeCompare(b.locale));
  return { files, locales };
}
