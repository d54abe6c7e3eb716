import type { S3Client } from '@aws-sdk/client-s3';
import { supportsTags, type InvalidationResult, type Invalidator } from '../invalidation/invalidator.js';
import {
  startWaves,
  type InvalidationItems,
  type WavePacing,
  type WaveProgress,
  type WavesResult,
} from '../invalidation/waves.js';
import { diffRules, type DiffCosts, type RulesDiff } from '../rules/diff.js';
import { RulesError, parseRules } from '../rules/load.js';
import type { Catalog, Rules } from '../rules/schema.js';
import { historyId, isHistoryId, readHistory, saveEntry, sha256, summarise, type HistoryEntry } from './history.js';
import { openTarget, type RulesTarget } from './target.js';

/**
 * Publishing rules: validate the draft, measure it against the rules in force, render the looks it
 * changes or adds into the derivative store (their spec keys do not depend on which rules are
 * live), keep the rules in force in the history, write the draft where the Preprocessors read it,
 * wait for them to serve it, then invalidate. A CDN refetch after the invalidation is answered from
 * the store, not rendered live: prewarming after the flip would race the CDN's misses for the same
 * looks (issue 21). A rollback is a publish of the rules an earlier publish replaced.
 */

/** What prewarm is given: the published rules and the URLs whose image they change or add. */
export interface PrewarmRequest {
  rules: Rules;
  /** The rules the publish replaced (undefined: none, or ones the Preprocessors refused). */
  previous: Rules | undefined;
  catalog: Catalog;
  /** Changed, then added URLs (canonical paths, as `derivativeUrls` lists them). */
  paths: readonly string[];
  reason: string;
}

export interface PublishOptions {
  /** The draft as written (comments kept: the published file is the draft, byte for byte). */
  draftText: string;
  /** Names the draft in validation messages. */
  draftOrigin?: string;
  /** Where the Preprocessors read their rules: a file path or `s3://bucket/key`. */
  target: string;
  s3Client?: S3Client;
  author: string;
  catalog: Catalog;
  sourcesBucket: string;
  costs?: DiffCosts;
  /** Only exact paths, no wildcard over unchanged URLs (see `DiffOptions.maxExactPathsPerTitle`). */
  exact?: boolean;
  /** The CDN: the diff's cache tags go to one that purges by tag (`supportsTags`), its paths to any other. */
  invalidator?: Invalidator;
  /**
   * Paces the invalidation to Generator capacity: waves whose live renders stay within the share
   * (`invalidation/waves.ts`), the plan and cursor kept beside the history entry, `resumeWaves`
   * going on after an interruption. Absent: one invalidation of the whole plan.
   */
  invalidationPacing?: WavePacing;
  /** Progress of a paced invalidation, wave by wave (`waveLine` words it). */
  onInvalidationProgress?: (progress: WaveProgress) => void;
  /** Stops a paced invalidation between waves; its cursor stays for `resumeWaves`. */
  invalidationSignal?: AbortSignal;
  /** Waits between waves (tests); default a timer. */
  invalidationSleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  prewarm?: (request: PrewarmRequest) => Promise<unknown>;
  /**
   * Resolves once the Preprocessors serve the published version (its tag as `/readyz` reports
   * it). Invalidating before then lets the CDN refetch the old look from a Preprocessor that has
   * not reloaded yet, and keep it for as long as its cache policy says.
   */
  awaitRollout?: (etag: string) => Promise<void>;
  now?: () => Date;
  /** Set by `rollbackRules`. */
  rollbackOf?: string;
}

/** What a publish's invalidation did: tags and paths apart, and what it invalidated beyond the change. */
export type PublishInvalidation = InvalidationResult & {
  /** `tags`: the diff's cache tags and the paths no tag names; `paths`: its path patterns. */
  plan: 'tags' | 'paths';
  /** Unchanged objects invalidated too (the plan's `overInvalidated`): refetched, not rendered. */
  overInvalidated: number;
  /** Set when paced. */
  waves?: WavesResult['waves'];
};

export interface PublishResult {
  id: string;
  target: string;
  /** Unchanged rules are not published again (no history entry, no invalidation). */
  published: boolean;
  previousEtag: string | undefined;
  etag: string;
  diff: RulesDiff;
  entry: HistoryEntry | undefined;
  invalidation: PublishInvalidation | { skipped: string } | { error: string };
  prewarm: { done: true; result: unknown } | { skipped: string } | { error: string };
}

/** Throws a RulesError (the loader's message, naming the field) for a draft the Preprocessors would refuse. */
export async function publishRules(options: PublishOptions): Promise<PublishResult> {
  const now = options.now ?? (() => new Date());
  const next = parseRules(options.draftText, options.draftOrigin ?? 'draft');
  const target = openTarget(options.target, options.s3Client);
  const previous = await target.read();
  const current = previous === undefined ? undefined : currentRules(previous.text, target);
  // No rules before (a first publish), or rules the Preprocessors refused: nothing they serve is
  // known to come from them, so every URL of the draft is new.
  const diff = diffRules({
    current: current ?? { ...next, types: {} },
    next,
    catalog: options.catalog,
    sourcesBucket: options.sourcesBucket,
    ...(options.costs ? { costs: options.costs } : {}),
    ...(options.exact === true ? { maxExactPathsPerTitle: Infinity } : {}),
  });
  const time = now();
  const id = historyId(time, previous?.text);
  const base = { id, target: target.location, previousEtag: previous?.etag, diff };
  if (previous !== undefined && previous.text === options.draftText) {
    return {
      ...base,
      published: false,
      etag: previous.etag,
      entry: undefined,
      invalidation: { skipped: 'the rules are already in force' },
      prewarm: { skipped: 'the rules are already in force' },
    };
  }

  const reason = `rules publish ${id} by ${options.author}`;
  // Before the flip: nothing serves these looks yet, so rendering them now costs no live miss.
  const prewarm = await runPrewarm(options, next, current, diff, reason);

  // The replaced rules go to the history first: a publish that fails half way never loses them.
  if (previous !== undefined) await target.putHistory(`${id}.yaml`, previous.text, 'application/yaml; charset=utf-8');
  const etag = await target.write(options.draftText, previous?.etag);
  const entry: HistoryEntry = {
    id,
    time: time.toISOString(),
    author: options.author,
    target: target.location,
    previousEtag: previous?.etag ?? null,
    publishedEtag: etag,
    publishedSha256: sha256(options.draftText),
    ...(options.rollbackOf !== undefined ? { rollbackOf: options.rollbackOf } : {}),
    impact: summarise(diff),
  };
  await saveEntry(target, entry);

  if (options.awaitRollout && options.invalidator) await options.awaitRollout(etag);
  const invalidation = await invalidate(options, diff, reason, { store: target, id, prewarm });
  if (!('skipped' in invalidation)) {
    entry.invalidation =
      'error' in invalidation
        ? { backend: options.invalidator?.name ?? 'unknown', paths: 0, requests: 0, ids: [], error: invalidation.error }
        : invalidation;
    await saveEntry(target, entry);
  }
  return { ...base, published: true, etag, entry, invalidation, prewarm };
}

/** The rules at the target, or undefined when the Preprocessors would refuse them too. */
function currentRules(text: string, target: RulesTarget): Rules | undefined {
  try {
    return parseRules(text, target.location);
  } catch (err) {
    if (err instanceof RulesError) return undefined;
    throw err;
  }
}

async function invalidate(
  options: PublishOptions,
  diff: RulesDiff,
  reason: string,
  publish: { store: RulesTarget; id: string; prewarm?: PublishResult['prewarm'] },
): Promise<PublishResult['invalidation']> {
  const { invalidator } = options;
  if (diff.invalidations.length === 0) return { skipped: 'no URL changed or was removed' };
  if (!invalidator) return { skipped: 'no invalidator configured' };
  // Tags where the CDN stores them: exactly the changed objects, whatever their URLs.
  const byTag = supportsTags(invalidator);
  const items: InvalidationItems = byTag
    ? { kind: 'tags', tags: diff.tagInvalidations, paths: diff.tagFallbackPaths }
    : { kind: 'paths', tags: [], paths: diff.invalidations };
  const overInvalidated = byTag ? diff.tagOverInvalidated : diff.overInvalidated;
  try {
    if (options.invalidationPacing) {
      const result = await startWaves(
        {
          id: publish.id,
          reason,
          items,
          estimate: { changedPaths: diff.changedPaths, liveShare: liveShare(publish.prewarm) },
          pacing: options.invalidationPacing,
        },
        {
          invalidator,
          store: publish.store,
          ...(options.onInvalidationProgress ? { onProgress: options.onInvalidationProgress } : {}),
          ...(options.invalidationSignal ? { signal: options.invalidationSignal } : {}),
          ...(options.invalidationSleep ? { sleep: options.invalidationSleep } : {}),
        },
      );
      return { ...result, plan: items.kind, overInvalidated };
    }
    const result = byTag
      ? await invalidator.invalidateTagged(items, reason)
      : await invalidator.invalidate(items.paths, reason);
    return { ...result, plan: items.kind, overInvalidated };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A paced run keeps its cursor: the rest is sent by a resume, not by publishing again.
    return { error: options.invalidationPacing ? `${message} (resume the waves of publish ${publish.id})` : message };
  }
}

/**
 * The share of the changed URLs that will render live: what the prewarm before the flip left out
 * (its `liveUrls` of `urls`, `prewarm/before-flip.ts`), or all of them when none ran.
 */
function liveShare(prewarm: PublishResult['prewarm'] | undefined): number {
  if (prewarm === undefined || !('done' in prewarm)) return 1;
  const r = prewarm.result as { urls?: unknown; liveUrls?: unknown } | undefined;
  if (typeof r?.urls !== 'number' || typeof r.liveUrls !== 'number' || r.urls <= 0) return 1;
  return Math.min(1, Math.max(0, r.liveUrls / r.urls));
}

async function runPrewarm(
  options: PublishOptions,
  rules: Rules,
  previous: Rules | undefined,
  diff: RulesDiff,
  reason: string,
): Promise<PublishResult['prewarm']> {
  const paths = [...diff.changedPaths, ...diff.addedPaths];
  if (paths.length === 0) return { skipped: 'no URL changed or was added' };
  if (!options.prewarm) return { skipped: 'no prewarm configured' };
  try {
    const result = await options.prewarm({ rules, previous, catalog: options.catalog, paths, reason });
    return { done: true, result };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export interface HistoryOptions {
  target: string;
  s3Client?: S3Client;
}

/** The publishes at `target`, newest first. */
export function listHistory(options: HistoryOptions): Promise<HistoryEntry[]> {
  return readHistory(openTarget(options.target, options.s3Client));
}

/** Publishes again the rules that publish `id` replaced. */
export async function rollbackRules(
  options: Omit<PublishOptions, 'draftText' | 'draftOrigin' | 'rollbackOf'> & { id: string },
): Promise<PublishResult> {
  const { id, ...rest } = options;
  if (!isHistoryId(id))
    throw new RangeError(`not a history id: ${JSON.stringify(id)} (expected like 20261126T051500.123Z-1a2b3c4d)`);
  const target = openTarget(options.target, options.s3Client);
  const text = await target.getHistory(`${id}.yaml`);
  if (text === undefined) {
    throw new RangeError(`no rules saved under ${id} in ${target.historyLocation} (see \`rules history\`)`);
  }
  return publishRules({
    ...rest,
    draftText: text,
    draftOrigin: `${target.historyLocation}/${id}.yaml`,
    rollbackOf: id,
  });
}
