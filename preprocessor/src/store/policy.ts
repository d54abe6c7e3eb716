import type { Source } from '@marquee/shared';
import { typeModel } from '../rules/model.js';
import type { Catalog, Rules } from '../rules/schema.js';

/** The rules and catalog in force (the rules store's state). */
export interface PolicyState {
  rules: Rules;
  catalog: Catalog;
}

/**
 * Which outputs go through the derivative store: those of catalog artwork (a source and version
 * the catalog names) of a type whose rules say `store` (the default). Studio previews and signed
 * `/v1/render` outputs name no catalog version, and are never stored.
 *
 * Decided from the job's source and version, which every artwork render carries: an index of
 * the catalog's (source, version) pairs, rebuilt once per rules or catalog change. A source that
 * several types share is stored if any of them is.
 */
export class StorePolicy {
  private indexed: { rules: Rules; catalog: Catalog; stored: Set<string> } | undefined;

  constructor(
    private readonly state: () => PolicyState,
    private readonly sourcesBucket: string,
  ) {}

  stores(job: { source: Source; version?: string | undefined }): boolean {
    if (job.version === undefined || !('s3' in job.source) || job.source.s3.bucket !== this.sourcesBucket) return false;
    return this.index().has(`${job.source.s3.key}\n${job.version}`);
  }

  private index(): Set<string> {
    const { rules, catalog } = this.state();
    if (this.indexed?.rules === rules && this.indexed.catalog === catalog) return this.indexed.stored;
    const stored = new Set<string>();
    for (const title of Object.values(catalog.titles)) {
      for (const [type, byLocale] of Object.entries(title.artwork)) {
        if (typeModel(rules, type)?.store !== true) continue;
        for (const entry of Object.values(byLocale)) stored.add(`${entry.source}\n${entry.version}`);
      }
    }
    this.indexed = { rules, catalog, stored };
    return stored;
  }
}
