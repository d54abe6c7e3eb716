/**
 * The prewarm of a rules publish, run before the rules are written (the CLI's `rules publish
 * --prewarm` and the studio's publish): the looks the draft changes or adds have spec keys that do
 * not depend on which rules are live, so they can be rendered into the store while the old rules
 * still serve. After the flip a CDN refetch of a changed URL is answered from the store.
 */
import type { Catalog, Rules } from '../rules/schema.js';
import type { Prewarmer, PrewarmProgress } from './engine.js';
import { changedImages, publishWarmSet, urlsLeftLive, type PublishWarmSet } from './rules-change.js';

export interface BeforeFlipRequest {
  rules: Rules;
  /** The rules in force (undefined: none the Preprocessors accept, so every URL is new). */
  previous: Rules | undefined;
  catalog: Catalog;
  /** The canonical URLs the publish changes or adds. */
  paths: readonly string[];
  reason: string;
}

/** What the publish report says of its prewarm. */
export interface BeforeFlipOutcome {
  set: PublishWarmSet;
  /** Images in the set (one per spec key). */
  images: number;
  rendered: number;
  /** Already in the store. */
  skipped: number;
  failed: number;
  ms: number;
  /** Why renders failed: a count per error code. */
  failures: Record<string, number>;
  /** Changed or added URLs. */
  urls: number;
  /** Of those, the URLs whose new image is not in the store: each renders live on its first request. */
  liveUrls: number;
}

export interface BeforeFlipOptions {
  set: PublishWarmSet;
  sourcesBucket: string;
  onProgress?: (progress: PrewarmProgress) => void;
}

/** Renders the publish's warm set and counts what it leaves to live renders. Never rejects for a failed image. */
export async function prewarmBeforeFlip(
  prewarmer: Pick<Prewarmer, 'run'>,
  request: BeforeFlipRequest,
  options: BeforeFlipOptions,
): Promise<BeforeFlipOutcome> {
  const { set, sourcesBucket } = options;
  const { rules, previous, catalog } = request;
  const entries = publishWarmSet(set, previous, rules, catalog, sourcesBucket);
  const failures: Record<string, number> = {};
  const failedKeys = new Set<string>();
  const summary = await prewarmer.run(entries, {
    reason: request.reason,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onFailure: (entry, code) => {
      failedKeys.add(entry.key);
      failures[code] = (failures[code] ?? 0) + 1;
    },
  });
  // The new images the set leaves out (the rules' prewarm set is a part of them) or failed to store.
  const warmed = new Set(entries.filter((e) => !failedKeys.has(e.key)).map((e) => e.key));
  const all =
    set === 'changed' ? entries : changedImages(previous ?? { ...rules, types: {} }, rules, catalog, sourcesBucket);
  const missing = new Set(all.filter((e) => !warmed.has(e.key)).map((e) => e.key));
  return {
    set,
    images: summary.total,
    rendered: summary.rendered,
    skipped: summary.skipped,
    failed: summary.failed,
    ms: summary.ms,
    failures,
    urls: request.paths.length,
    liveUrls: urlsLeftLive(rules, catalog, sourcesBucket, request.paths, missing),
  };
}

/** `~12 s left`, from the pace so far; empty before the first image. */
export function timeLeft(p: Pick<PrewarmProgress, 'done' | 'total' | 'ms'>): string {
  if (p.done === 0 || p.done >= p.total) return '';
  return `~${Math.ceil(((p.total - p.done) * p.ms) / p.done / 1000)} s left`;
}
