import { setImmediate as yieldTurn } from 'node:timers/promises';
import type { RulesState } from '../rules/poller.js';
import type { WarnLogger } from '@marquee/shared';
import { changedArtwork } from './catalog-diff.js';
import type { Prewarmer, PrewarmSummary } from './engine.js';
import { warmSet, type WarmEntry } from './warm-set.js';

/** What a catalog reload listener needs: the rules poller's `onChange`. */
export interface ReloadSource {
  onChange(listener: (next: RulesState, previous: RulesState, changed: { catalog: boolean }) => void): () => void;
}

/**
 * The warm set of the artwork a catalog change brought (new versions, sources, titles), computed
 * a title at a time with a turn of the event loop between, so a large catalog change never holds
 * up requests. The rules are those in force with the new catalog: what requests will resolve.
 */
export async function warmSetOfChange(
  previous: RulesState,
  next: RulesState,
  sourcesBucket: string,
): Promise<WarmEntry[]> {
  const byTitle = new Map<string, Array<{ titleId: string; type: string; locale: string }>>();
  for (const ref of changedArtwork(previous.catalog, next.catalog)) {
    byTitle.set(ref.titleId, [...(byTitle.get(ref.titleId) ?? []), ref]);
  }
  const entries = new Map<string, WarmEntry>();
  for (const refs of byTitle.values()) {
    for (const entry of warmSet(next.rules, next.catalog, sourcesBucket, refs)) entries.set(entry.key, entry);
    await yieldTurn();
  }
  return [...entries.values()];
}

/**
 * Prewarms what each catalog reload brings: the rules poller's change listener. `ran` (tests)
 * sees each batch's summary. Returns the unsubscribe function.
 */
export function prewarmOnReload(
  source: ReloadSource,
  prewarmer: Prewarmer,
  sourcesBucket: string,
  logger: WarnLogger,
  ran?: (summary: PrewarmSummary) => void,
): () => void {
  return source.onChange((next, previous, changed) => {
    if (!changed.catalog) return;
    void warmSetOfChange(previous, next, sourcesBucket)
      .then(async (entries) => {
        if (entries.length === 0) return;
        const summary = await prewarmer.run(entries, { reason: 'catalog' });
        ran?.(summary);
      })
      .catch((err: unknown) => logger.warn({ err }, 'prewarm of a catalog change failed'));
  });
}
