/** `1 title`, `2 titles`, `0 titles`: a count and its noun, the count as the studio writes numbers. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}

/** What publishing a draft does to the catalog's URLs, as the Publish confirmation says it. */
export function publishEffect(impact: { changed: number; added: number; removed: number }): string {
  const changed = `${counted(impact.changed, 'URL')} ${impact.changed === 1 ? 'changes' : 'change'}`;
  const added = `${impact.added.toLocaleString('en')} ${impact.added === 1 ? 'is' : 'are'} added`;
  return `${changed}, ${added} and ${impact.removed.toLocaleString('en')} removed.`;
}
