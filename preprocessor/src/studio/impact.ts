import { Worker } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import { MarqueeError, type Impact } from '@marquee/shared';
import type { Histogram } from 'prom-client';
import type { DiffCosts, RulesDiff } from '../rules/diff.js';
import type { Rules } from '../rules/schema.js';
import type { RulesState } from '../rules/poller.js';
import type { SavedDraft } from './drafts.js';
import type { DiffAnswer, DiffJob } from './impact-worker.js';
import { IMPACTS_KEPT, IMPACT_TIMEOUT_MS } from './limits.js';

/** Paths listed per impact report: enough to see what kind of URLs change; the counts are complete. */
export const IMPACT_PATHS_SHOWN = 100;

/** Invocations this instance must have measured before its mean stands for the cost of a render. */
const MIN_MEASURED = 20;

/** The worker module beside this one: compiled (dist, .js), or the source when run through tsx (tests). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = new URL(FROM_SOURCE ? './impact-worker.ts' : './impact-worker.js', import.meta.url);

/**
 * A worker of `WORKER`. From source, a worker does not inherit the tsx loader that runs its
 * parent: it registers it first (tsx is a dev dependency; compiled code never takes this path).
 * Messages posted meanwhile wait in the port until the module listens.
 */
function newWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER);
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER.href)}); });`;
  return new Worker(boot, { eval: true });
}

/**
 * The Generator's mean invocation time as this Preprocessor measured it (the
 * `marquee_generator_duration_seconds` histogram), once there are enough invocations to mean
 * something; else undefined, and the diff states its default figure.
 */
export async function measuredMsPerImage(histogram: Histogram): Promise<number | undefined> {
  const { values } = await histogram.get();
  const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
  return count >= MIN_MEASURED ? Math.round((sum / count) * 1000) : undefined;
}

interface Pending {
  resolve(diff: RulesDiff): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One worker thread that runs rules diffs, started on the first report and kept (unref'd) for
 * the next. It is sent the catalog and rules in force only when their versions change.
 */
class DiffWorker {
  private worker: Worker | undefined;
  private held = { catalog: '', rules: '' };
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  run(state: RulesState, next: Rules, sourcesBucket: string, costs: DiffCosts): Promise<RulesDiff> {
    const worker = this.start();
    const job: DiffJob = {
      id: ++this.nextId,
      sourcesBucket,
      costs,
      catalogEtag: state.catalogEtag,
      rulesEtag: state.rulesEtag,
      next,
    };
    if (this.held.catalog !== state.catalogEtag) job.catalog = state.catalog;
    if (this.held.rules !== state.rulesEtag) job.rules = state.rules;
    this.held = { catalog: state.catalogEtag, rules: state.rulesEtag };
    return new Promise<RulesDiff>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stuck or far too large a catalog: stop it, so the next report starts afresh.
        this.fail(new MarqueeError('TIMEOUT', `The impact report took longer than ${IMPACT_TIMEOUT_MS / 1000} s.`));
        void this.close();
      }, IMPACT_TIMEOUT_MS);
      timer.unref();
      this.pending.set(job.id, { resolve, reject, timer });
      worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.held = { catalog: '', rules: '' };
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = newWorker();
    worker.unref();
    worker.on('message', (answer: DiffAnswer) => {
      const job = this.pending.get(answer.id);
      if (!job) return;
      this.pending.delete(answer.id);
      clearTimeout(job.timer);
      if ('diff' in answer) job.resolve(answer.diff);
      else job.reject(new MarqueeError('INTERNAL', `The impact report failed: ${answer.error}`));
    });
    worker.on('error', (err) => this.fail(new MarqueeError('INTERNAL', 'The impact report failed.', { cause: err })));
    worker.on('exit', () => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.held = { catalog: '', rules: '' };
      }
      this.fail(new MarqueeError('INTERNAL', 'The impact report stopped.'));
    });
    this.worker = worker;
    return worker;
  }

  private fail(err: MarqueeError): void {
    for (const job of this.pending.values()) {
      clearTimeout(job.timer);
      job.reject(err);
    }
    this.pending.clear();
  }
}

/** Where the studio's ms per image comes from (`measuredMsPerImage`), as the cost basis says it. */
export const MEASURED_MS_SOURCE = "measured: this Preprocessor's mean Generator invocation";

function impactOf(state: RulesState, draft: SavedDraft, diff: RulesDiff): Impact {
  return {
    draft: { id: draft.id, rev: draft.rev },
    rulesEtag: state.rulesEtag,
    catalogEtag: state.catalogEtag,
    changed: diff.changed,
    added: diff.added,
    removed: diff.removed,
    unchanged: diff.unchanged,
    titles: diff.titles,
    byType: diff.byType,
    renders: diff.renders,
    renderSeconds: diff.renderSeconds,
    costUsd: diff.costUsd,
    costBasis: diff.costBasis,
    invalidations: diff.invalidations,
    changedPaths: diff.changedPaths.slice(0, IMPACT_PATHS_SHOWN),
    addedPaths: diff.addedPaths.slice(0, IMPACT_PATHS_SHOWN),
    pathsShown: IMPACT_PATHS_SHOWN,
  };
}

/**
 * Impact reports of drafts against the rules and catalog in force (`diffRules`, in a worker),
 * kept per draft revision and document versions, and shared by the requests that ask at once:
 * the panel asks after every save. The cost figures are those of the first report of a revision
 * (the measured mean moves with every render; a report need not).
 */
export class ImpactReports {
  private readonly kept = new LRUCache<string, Promise<Impact>>({ max: IMPACTS_KEPT });
  private readonly worker = new DiffWorker();

  /** `costs`: a `msPerImage` figure here is the measured mean (`measuredMsPerImage`). */
  report(state: RulesState, draft: SavedDraft, sourcesBucket: string, costs: DiffCosts): Promise<Impact> {
    const cacheKey = `${draft.id}@${draft.rev}|${state.rulesEtag}|${state.catalogEtag}`;
    const known = this.kept.get(cacheKey);
    if (known) return known;
    const measured = typeof costs.msPerImage === 'number' ? { ...costs, msSource: MEASURED_MS_SOURCE } : costs;
    const report = this.worker
      .run(state, draft.rules, sourcesBucket, measured)
      .then((diff) => impactOf(state, draft, diff));
    this.kept.set(cacheKey, report);
    report.catch(() => this.kept.delete(cacheKey));
    return report;
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}
