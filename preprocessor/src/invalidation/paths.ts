/**
 * CDN paths as CloudFront spells them, for every backend: `/` first, at most 4,000 characters, and
 * `*` (zero or more characters, the query included) only as the last character. An exact path
 * names one URL: with a query, that query; without one, only the URL without a query (CloudFront
 * Developer Guide, "Invalidating files": docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Invalidation.html).
 */

/** CloudFront's longest invalidation path. */
export const MAX_PATH_LENGTH = 4000;

/** The paths sorted and without duplicates, each checked; throws a RangeError naming the first bad one. */
export function normalisePaths(paths: readonly string[]): string[] {
  for (const p of paths) {
    const problem = pathProblem(p);
    if (problem !== undefined) throw new RangeError(`invalidation path ${JSON.stringify(p.slice(0, 100))}: ${problem}`);
  }
  return [...new Set(paths)].sort();
}

function pathProblem(p: string): string | undefined {
  if (!p.startsWith('/')) return 'must start with /';
  if (p.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} characters`;
  if (p.indexOf('*') !== -1 && p.indexOf('*') !== p.length - 1) return '* may only be the last character';
  // Control characters and spaces are not URL characters: a path with them was never a URL served.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
  if (/[\s\x00-\x1f\x7f]/.test(p)) return 'contains whitespace or a control character';
  return undefined;
}

export function isWildcard(p: string): boolean {
  return p.endsWith('*');
}

/** A wildcard path as an anchored regex on the URL (path and query): `/v1/artwork/logo/*` → `^/v1/artwork/logo/`. */
export function wildcardRegex(p: string): string {
  return `^${p.slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
}
