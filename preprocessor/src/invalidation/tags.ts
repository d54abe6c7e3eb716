import { cacheTagProblem } from '@marquee/shared';

/**
 * The tags sorted and without duplicates, each checked against CloudFront's rules (the strictest
 * CDN's, `shared/src/cache-tags.ts`: visible ASCII without commas, at most 256 characters, no `*`),
 * so a tag one backend accepts the other accepts too. Throws a RangeError naming the first bad one.
 */
export function normaliseTags(tags: readonly string[]): string[] {
  for (const tag of tags) {
    const problem = cacheTagProblem(tag);
    if (problem !== undefined) throw new RangeError(`cache tag ${JSON.stringify(tag.slice(0, 100))} ${problem}`);
  }
  return [...new Set(tags)].sort();
}
