import { createHash } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { RulesDiff } from '../rules/diff.js';
import type { RulesTarget } from './target.js';

/**
 * The publish history beside the rules (`rules-history/`): per publish, the rules it replaced
 * (`<id>.yaml`, what a rollback of that publish restores) and a JSON sidecar (`<id>.json`) saying
 * when, by whom, from which version to which, and what it did to the catalog's URLs.
 */

/** `20261126T051500.123Z-1a2b3c4d`: ISO 8601 basic time (sorts as it happened), then the replaced text's hash. */
export const HISTORY_ID_PATTERN = '^\\d{8}T\\d{6}\\.\\d{3}Z-[0-9a-f]{8}$';
const HISTORY_ID = new RegExp(HISTORY_ID_PATTERN);

const Counts = {
  changed: Type.Integer({ minimum: 0 }),
  added: Type.Integer({ minimum: 0 }),
  removed: Type.Integer({ minimum: 0 }),
  unchanged: Type.Integer({ minimum: 0 }),
};

/** What a publish did, in numbers (the full diff is recomputed by `rules diff`). */
export const ImpactSummarySchema = Type.Object(
  {
    titles: Type.Integer({ minimum: 0 }),
    ...Counts,
    byType: Type.Record(Type.String(), Type.Object(Counts)),
    renders: Type.Integer({ minimum: 0 }),
    renderSeconds: Type.Number({ minimum: 0 }),
    costUsd: Type.Number({ minimum: 0 }),
    costBasis: Type.String(),
    /** The invalidation paths: how many, and the first few. */
    invalidations: Type.Integer({ minimum: 0 }),
    invalidationSample: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);

export const HistoryEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: HISTORY_ID_PATTERN }),
    /** ISO 8601. */
    time: Type.String(),
    author: Type.String(),
    /** Where the rules were published. */
    target: Type.String(),
    /** The version replaced (the one `<id>.yaml` holds); null when there were no rules before. */
    previousEtag: Type.Union([Type.String(), Type.Null()]),
    /** The version published, as the rules poller (and `/readyz`) reports it. */
    publishedEtag: Type.String(),
    /** SHA-256 of the published text, to find it again whatever tag the target gives it. */
    publishedSha256: Type.String(),
    /** Set when this publish restored the rules saved by an earlier one. */
    rollbackOf: Type.Optional(Type.String()),
    impact: ImpactSummarySchema,
    /** What the CDN invalidation did, once it has run. */
    invalidation: Type.Optional(
      Type.Object(
        {
          backend: Type.String(),
          paths: Type.Integer({ minimum: 0 }),
          requests: Type.Integer({ minimum: 0 }),
          ids: Type.Array(Type.String()),
          error: Type.Optional(Type.String()),
          /** The plan sent: the diff's cache tags (with their fallback paths), or its paths. */
          plan: Type.Optional(Type.Union([Type.Literal('tags'), Type.Literal('paths')])),
          tags: Type.Optional(Type.Integer({ minimum: 0 })),
          /** Objects the CDN said the tags purged (Varnish's xkey says; CloudFront does not). */
          purged: Type.Optional(Type.Integer({ minimum: 0 })),
          /** Unchanged objects the plan invalidated too (refetched, not rendered). */
          overInvalidated: Type.Optional(Type.Integer({ minimum: 0 })),
          /** A paced invalidation: its waves, those sent, the renders estimated, the budget in words. */
          waves: Type.Optional(
            Type.Object(
              {
                count: Type.Integer({ minimum: 0 }),
                sent: Type.Integer({ minimum: 0 }),
                renders: Type.Number({ minimum: 0 }),
                basis: Type.String(),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ImpactSummary = Static<typeof ImpactSummarySchema>;
export type HistoryEntry = Static<typeof HistoryEntrySchema>;

const checkEntry = TypeCompiler.Compile(HistoryEntrySchema);
/** Enough paths to see what a publish invalidated; the rest are recomputed by `rules diff`. */
const INVALIDATION_SAMPLE = 20;

export function historyId(time: Date, previousText: string | undefined): string {
  const basic = time.toISOString().replace(/[-:]/g, '');
  return `${basic}-${createHash('sha256')
    .update(previousText ?? '')
    .digest('hex')
    .slice(0, 8)}`;
}

export function isHistoryId(text: string): boolean {
  return HISTORY_ID.test(text);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function summarise(diff: RulesDiff): ImpactSummary {
  return {
    titles: diff.titles,
    changed: diff.changed,
    added: diff.added,
    removed: diff.removed,
    unchanged: diff.unchanged,
    byType: diff.byType,
    renders: diff.renders,
    renderSeconds: diff.renderSeconds,
    costUsd: diff.costUsd,
    costBasis: diff.costBasis,
    invalidations: diff.invalidations.length,
    invalidationSample: diff.invalidations.slice(0, INVALIDATION_SAMPLE),
  };
}

export async function saveEntry(target: RulesTarget, entry: HistoryEntry): Promise<void> {
  await target.putHistory(`${entry.id}.json`, `${JSON.stringify(entry, null, 2)}\n`, 'application/json');
}

/** The history, newest first. A sidecar that is not an entry (edited by hand, cut short) is skipped. */
export async function readHistory(target: RulesTarget): Promise<HistoryEntry[]> {
  const ids = (await target.listHistory())
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .filter(isHistoryId)
    .sort()
    .reverse();
  const entries: HistoryEntry[] = [];
  for (const id of ids) {
    const text = await target.getHistory(`${id}.json`);
    let value: unknown;
    try {
      value = text === undefined ? undefined : JSON.parse(text);
    } catch {
      continue;
    }
    if (checkEntry.Check(value)) entries.push(value);
  }
  return entries;
}
