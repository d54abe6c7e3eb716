import { setTimeout as sleep } from 'node:timers/promises';
import { MarqueeError } from '@marquee/shared';
import type { GeneratorClient } from '../lambda/generator-client.js';
import type { Metrics } from '../plugins/metrics.js';
import type { DerivativeStore } from '../store/reader.js';
import type { WarnLogger } from '@marquee/shared';
import { prewarmObjectKey, prewarmRequest } from './request.js';
import type { WarmEntry } from './warm-set.js';

export type PrewarmMetrics = Pick<
  Metrics,
  'prewarmQueued' | 'prewarmRendered' | 'prewarmSkipped' | 'prewarmFailed' | 'prewarmInFlight'
>;

export interface PrewarmerOptions {
  /** Renders go through the live client at `prewarm` priority: its scheduler, deadline, throttling retries and metrics. */
  generator: Pick<GeneratorClient, 'render'>;
  /** Asked (HeadObject) before each render: what the store has is skipped. */
  store: Pick<DerivativeStore, 'has' | 'bucket'>;
  /** The Generator slots (`MARQUEE_MAX_INFLIGHT`): live and prewarm renders share them. */
  maxInFlight: number;
  /** The fraction of them prewarm renders may hold at once (at least one when above 0). */
  share: number;
  metrics: PrewarmMetrics;
  logger: WarnLogger;
  /** How often a batch logs its progress. */
  progressEveryMs?: number;
  /** Attempts of a render refused for load (throttled, overloaded, timed out) before it counts as failed. */
  attempts?: number;
}

export interface PrewarmSummary {
  /** Distinct images in the batch. */
  total: number;
  rendered: number;
  /** The store had them (or another batch was already prewarming them and did). */
  skipped: number;
  failed: number;
  ms: number;
}

export interface PrewarmProgress extends PrewarmSummary {
  reason: string;
  done: number;
}

export interface RunOptions {
  /** Why (`catalog`, `rules publish`, `cli`): in every log line. */
  reason: string;
  /** Called after each image (the CLI's progress bar). */
  onProgress?: (progress: PrewarmProgress) => void;
  /** Called for each image that failed, with why (an error code; `CLOSED` when the prewarmer stopped first). */
  onFailure?: (entry: WarmEntry, code: string) => void;
}

type Outcome = 'rendered' | 'skipped' | 'failed';

class Batch {
  readonly started = performance.now();
  rendered = 0;
  skipped = 0;
  failed = 0;
  lastLog = performance.now();
  private resolve!: (summary: PrewarmSummary) => void;
  readonly done: Promise<PrewarmSummary>;

  constructor(
    readonly total: number,
    readonly options: RunOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  get settled(): number {
    return this.rendered + this.skipped + this.failed;
  }

  summary(): PrewarmSummary {
    const { total, rendered, skipped, failed } = this;
    return { total, rendered, skipped, failed, ms: Math.round(performance.now() - this.started) };
  }

  count(outcome: Outcome): void {
    this[outcome]++;
    this.options.onProgress?.({ ...this.summary(), reason: this.options.reason, done: this.settled });
    if (this.settled === this.total) this.resolve(this.summary());
  }
}

interface Task {
  entry: WarmEntry;
  /** Every batch waiting for this image (a second batch joins a task already queued). */
  batches: Batch[];
  /** Why it failed, once it has. */
  code?: string;
}

/** Load refusals worth another try later; anything else (a missing source, a bad image) is final. */
const RETRYABLE = new Set(['THROTTLED', 'OVERLOADED', 'GENERATOR_UNAVAILABLE', 'TIMEOUT']);
const RETRY_BASE_MS = 500;

/**
 * Renders a warm set into the derivative store ahead of requests, without ever standing in front
 * of a live miss:
 *
 * - renders go at `prewarm` priority through the Generator client's one scheduler: they hold at
 *   most `share` of the slots, and a slot goes to a waiting live miss or studio preview before
 *   any prewarm render; at most that many wait here, the rest of the batch queues in this class;
 * - what the store already has (HeadObject) is skipped: re-running a prewarm continues where the
 *   last one stopped, and one image is rendered once however many batches ask for it.
 *
 * Renders go with `store: true` and the object's name, so the Generator writes the output as part
 * of the render and returns no body.
 */
export class Prewarmer {
  /** Prewarm renders (and store checks) at once. */
  readonly limit: number;
  private readonly queue: Task[] = [];
  private readonly tasks = new Map<string, Task>();
  private active = 0;
  private rendering = 0;
  private closed = false;
  private readonly abort = new AbortController();
  private sequence = 0;

  constructor(private readonly opts: PrewarmerOptions) {
    this.limit = opts.share > 0 ? Math.max(1, Math.floor(opts.share * opts.maxInFlight)) : 0;
  }

  /** Images queued or being prewarmed. */
  get pending(): number {
    return this.tasks.size;
  }

  /** Prewarm renders in flight now. */
  get inFlight(): number {
    return this.rendering;
  }

  /**
   * Prewarms `entries` (duplicates by key count once) and resolves when every one is rendered,
   * skipped or failed. Never rejects: a failed image renders on demand later.
   */
  run(entries: readonly WarmEntry[], options: RunOptions): Promise<PrewarmSummary> {
    const unique = new Map<string, WarmEntry>();
    for (const entry of entries) if (!unique.has(entry.key)) unique.set(entry.key, entry);
    const batch = new Batch(unique.size, options);
    if (unique.size === 0) return Promise.resolve(batch.summary());
    if (this.closed || this.limit === 0) {
      for (const entry of unique.values()) {
        options.onFailure?.(entry, this.closed ? 'CLOSED' : 'NO_PREWARM_SHARE');
        batch.count('failed');
      }
      return batch.done;
    }
    this.opts.logger.info({ reason: options.reason, images: unique.size, limit: this.limit }, 'prewarm started');
    for (const entry of unique.values()) {
      const existing = this.tasks.get(entry.key);
      if (existing) {
        existing.batches.push(batch);
        continue;
      }
      const task: Task = { entry, batches: [batch] };
      this.tasks.set(entry.key, task);
      this.queue.push(task);
      this.opts.metrics.prewarmQueued.inc();
    }
    this.pump();
    return batch.done.then((summary) => {
      this.opts.logger.info({ reason: options.reason, ...summary }, 'prewarm done');
      return summary;
    });
  }

  /** Stops: queued images count as failed, renders in flight end with their deadline. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const task of this.queue.splice(0)) this.settle(task, 'failed');
  }

  private pump(): void {
    while (!this.closed && this.active < this.limit) {
      const task = this.queue.shift();
      if (task === undefined) return;
      this.active++;
      void this.prewarm(task)
        .catch((err: unknown): Outcome => {
          task.code = err instanceof MarqueeError ? err.code : 'INTERNAL';
          return 'failed';
        })
        .then((outcome) => {
          this.active--;
          this.settle(task, outcome);
          this.pump();
        });
    }
  }

  private async prewarm(task: Task): Promise<Outcome> {
    const { entry } = task;
    const key = prewarmObjectKey(entry);
    if ((await this.opts.store.has(key)) === true) return 'skipped';
    const attempts = this.opts.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) {
        task.code = 'CLOSED';
        return 'failed';
      }
      const request = prewarmRequest(
        entry,
        this.opts.store.bucket,
        `prewarm-${entry.key.slice(0, 12)}-${++this.sequence}`,
      );
      this.rendering++;
      this.opts.metrics.prewarmInFlight.set(this.rendering);
      try {
        await this.opts.generator.render(request, 'prewarm', this.abort.signal);
        return 'rendered';
      } catch (err) {
        const code = err instanceof MarqueeError ? err.code : undefined;
        if (this.closed || code === undefined || !RETRYABLE.has(code) || attempt >= attempts) {
          task.code = code ?? 'INTERNAL';
          this.opts.logger.warn({ err, url: entry.url, key, code, attempt }, 'prewarm render failed');
          return 'failed';
        }
      } finally {
        this.rendering--;
        this.opts.metrics.prewarmInFlight.set(this.rendering);
      }
      await sleep(RETRY_BASE_MS * 2 ** (attempt - 1), undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  private settle(task: Task, outcome: Outcome): void {
    this.tasks.delete(task.entry.key);
    const { metrics } = this.opts;
    if (outcome === 'rendered') metrics.prewarmRendered.inc();
    else if (outcome === 'skipped') metrics.prewarmSkipped.inc();
    else metrics.prewarmFailed.inc();
    const every = this.opts.progressEveryMs ?? 5000;
    for (const batch of task.batches) {
      if (outcome === 'failed') batch.options.onFailure?.(task.entry, task.code ?? 'CLOSED');
      batch.count(outcome);
      if (batch.settled < batch.total && performance.now() - batch.lastLog >= every) {
        batch.lastLog = performance.now();
        this.opts.logger.info(
          { reason: batch.options.reason, done: batch.settled, ...batch.summary() },
          'prewarm progress',
        );
      }
    }
  }
}
