import pLimit from 'p-limit';
import type { Catalog } from '@marquee/shared';
import { artworkUsing, parseRecord, type Change, type SqsRecordLike, type Watched } from './events.js';

/**
 * One batch of SQS records → renders into the derivative store → the records to retry. The
 * prewarm work itself (the warm set, the store check, the render) is the engine's; this decides
 * what to plan for each record, how much runs at once, and which records failed.
 */

/** Rules and catalog as loaded for this batch; the engine's own state rides along. */
export interface World {
  readonly catalog: Catalog;
}

/** Which part of the warm set to plan: nothing set is all of it. */
export interface PlanFilter {
  titleId?: string;
  type?: string;
  locale?: string;
}

/** One output of the warm set. */
export interface WarmEntry {
  /** Its derivative object key: the same key from two records is one render. */
  readonly id: string;
}

/** What the consumer needs from the prewarm engine (`@marquee/preprocessor`). */
export interface Engine<W extends World, E extends WarmEntry> {
  /** Rules and catalog as they are now in S3 (a warm container reuses what has not changed). */
  load(): Promise<W>;
  /** The warm set's outputs for `filter`. */
  plan(world: W, filter: PlanFilter): readonly E[];
  /** Whether the store already has it (a HEAD): prewarming is idempotent and resumes where it stopped. */
  isStored(entry: E): Promise<boolean>;
  /**
   * Renders it into the store through the Generator's `live` alias. Resolves `refused` when the
   * Generator turned the image down for good (a missing or broken source: retrying cannot help, and
   * the artwork renders its error on demand); rejects when it did not land for a reason that may pass
   * (throttled, timed out, unreachable), so its records are retried.
   */
  render(entry: E): Promise<'rendered' | { refused: string }>;
}

/** The logger the consumer writes (pino's shape). */
export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ConsumeOptions {
  watched: Watched;
  /** Renders in flight at most: this consumer's share of the Generator (the CDK app's budget). */
  concurrency: number;
  /** Store checks in flight at most (HEADs are cheap and take nothing from the Generator). */
  checkConcurrency: number;
  /** Time left in this invocation (Lambda's `getRemainingTimeInMillis`). */
  remainingMs(): number;
  /** A render is not started with less time left than this: it would be cut off mid-way. */
  renderReserveMs: number;
  log: Log;
}

/** Lambda's partial batch response: the records that go back to the queue. */
export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export interface ConsumeTotals {
  records: number;
  planned: number;
  stored: number;
  rendered: number;
  /** Turned down for good by the Generator: logged, not retried. */
  refused: number;
  failed: number;
  /** Not started for lack of time: their records are retried and resume from the store. */
  deferred: number;
}

/** Never throws: whatever goes wrong fails the records it concerns, and only those. */
export async function consume<W extends World, E extends WarmEntry>(
  records: readonly SqsRecordLike[],
  engine: Engine<W, E>,
  opts: ConsumeOptions,
): Promise<BatchResponse & { totals: ConsumeTotals }> {
  const failed = new Set<string>();
  const totals: ConsumeTotals = {
    records: records.length,
    planned: 0,
    stored: 0,
    rendered: 0,
    refused: 0,
    failed: 0,
    deferred: 0,
  };
  const done = (): BatchResponse & { totals: ConsumeTotals } => ({
    batchItemFailures: records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })),
    totals,
  });

  // 1. Read every record: one that cannot be read fails alone.
  const active: { messageId: string; changes: ReturnType<typeof changesOf> }[] = [];
  for (const record of records) {
    const parsed = parseRecord(record, opts.watched);
    if (!parsed.ok) {
      failed.add(parsed.messageId);
      opts.log.warn({ messageId: parsed.messageId, reason: parsed.reason }, 'prewarm: unreadable record');
      continue;
    }
    if (parsed.ignored.length > 0)
      opts.log.info({ messageId: parsed.messageId, ignored: parsed.ignored }, 'prewarm: nothing to warm');
    if (parsed.changes.length > 0) active.push({ messageId: parsed.messageId, changes: changesOf(parsed.changes) });
  }
  if (active.length === 0) return done();

  // 2. Rules and catalog, once for the batch.
  let world: W;
  try {
    world = await engine.load();
  } catch (err) {
    for (const { messageId } of active) failed.add(messageId);
    opts.log.error({ err }, 'prewarm: cannot load rules and catalog');
    return done();
  }

  // 3. What each record asks for, as plan filters; one filter planned once for every record asking.
  const byFilter = new Map<string, { filter: PlanFilter; records: Set<string> }>();
  const want = (filter: PlanFilter, messageId: string): void => {
    const key = JSON.stringify([filter.titleId, filter.type, filter.locale]);
    const slot = byFilter.get(key) ?? { filter, records: new Set<string>() };
    slot.records.add(messageId);
    byFilter.set(key, slot);
  };
  for (const { messageId, changes } of active) {
    if (changes.everything) want({}, messageId);
    for (const key of changes.artwork) {
      const refs = artworkUsing(world.catalog, key);
      if (refs.length === 0) opts.log.info({ messageId, key }, 'prewarm: source not in the catalog yet');
      for (const ref of refs) want({ titleId: ref.titleId, type: ref.type, locale: ref.locale }, messageId);
    }
  }
  const entries = new Map<string, { entry: E; records: Set<string> }>();
  for (const { filter, records: asking } of byFilter.values()) {
    let planned: readonly E[];
    try {
      planned = engine.plan(world, filter);
    } catch (err) {
      for (const id of asking) failed.add(id);
      opts.log.error({ err, filter }, 'prewarm: cannot plan');
      continue;
    }
    for (const entry of planned) {
      const slot = entries.get(entry.id) ?? { entry, records: new Set<string>() };
      for (const id of asking) slot.records.add(id);
      entries.set(entry.id, slot);
    }
  }
  totals.planned = entries.size;

  // 4. Check the store, render what it lacks; a failure fails every record that asked for it.
  const checks = pLimit(opts.checkConcurrency);
  const renders = pLimit(opts.concurrency);
  const fail = (asking: Set<string>): void => asking.forEach((id) => failed.add(id));
  await Promise.all(
    [...entries.values()].map(async ({ entry, records: asking }) => {
      let stored: boolean;
      try {
        stored = await checks(() => engine.isStored(entry));
      } catch (err) {
        totals.failed++;
        fail(asking);
        opts.log.warn({ err, key: entry.id }, 'prewarm: store check failed');
        return;
      }
      if (stored) {
        totals.stored++;
        return;
      }
      await renders(async () => {
        if (opts.remainingMs() < opts.renderReserveMs) {
          totals.deferred++;
          fail(asking);
          return;
        }
        try {
          const outcome = await engine.render(entry);
          if (outcome === 'rendered') totals.rendered++;
          else {
            totals.refused++;
            opts.log.warn({ key: entry.id, reason: outcome.refused }, 'prewarm: the Generator refused it');
          }
        } catch (err) {
          totals.failed++;
          fail(asking);
          opts.log.warn({ err, key: entry.id }, 'prewarm: render failed');
        }
      });
    }),
  );
  const result = done();
  opts.log.info({ ...totals, retried: result.batchItemFailures.length }, 'prewarm: batch done');
  return result;
}

/** A record's changes folded: any catalog or rules change plans everything; sources plan their artwork. */
function changesOf(changes: readonly Change[]): { everything: boolean; artwork: string[] } {
  const artwork = new Set<string>();
  let everything = false;
  for (const c of changes) {
    if (c.kind === 'artwork') artwork.add(c.key);
    else everything = true;
  }
  return { everything, artwork: everything ? [] : [...artwork] };
}
