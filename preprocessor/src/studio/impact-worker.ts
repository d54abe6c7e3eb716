import { parentPort } from 'node:worker_threads';
import { diffRules, type DiffCosts, type RulesDiff } from '../rules/diff.js';
import type { Catalog, Rules } from '../rules/schema.js';

/**
 * Runs `diffRules` off the Preprocessor's event loop: a diff walks every canonical URL of the
 * catalog (linear in titles, and long even for the 24-title seed, longest cold), and the event
 * loop that long busy would shed artwork requests. The documents in force are sent once per
 * version and kept here.
 */
export interface DiffJob {
  id: number;
  sourcesBucket: string;
  costs: DiffCosts;
  catalogEtag: string;
  /** Sent when the worker does not hold this catalog version yet. */
  catalog?: Catalog;
  rulesEtag: string;
  rules?: Rules;
  next: Rules;
}

export type DiffAnswer = { id: number; diff: RulesDiff } | { id: number; error: string };

let catalog: { etag: string; value: Catalog } | undefined;
let rules: { etag: string; value: Rules } | undefined;

parentPort?.on('message', (job: DiffJob) => {
  try {
    if (job.catalog) catalog = { etag: job.catalogEtag, value: job.catalog };
    if (job.rules) rules = { etag: job.rulesEtag, value: job.rules };
    if (catalog?.etag !== job.catalogEtag || rules?.etag !== job.rulesEtag) {
      throw new Error('the worker does not hold the documents in force');
    }
    const diff = diffRules({
      current: rules.value,
      next: job.next,
      catalog: catalog.value,
      sourcesBucket: job.sourcesBucket,
      costs: job.costs,
    });
    parentPort?.postMessage({ id: job.id, diff } satisfies DiffAnswer);
  } catch (err) {
    parentPort?.postMessage({
      id: job.id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies DiffAnswer);
  }
});
