import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DraftIdSchema, MarqueeError, PublishDraftSchema, PublishReplySchema, plural } from '@marquee/shared';
import { invalidatorFor } from '../invalidation/backends.js';
import { prewarmBeforeFlip, timeLeft, type BeforeFlipOutcome } from '../prewarm/before-flip.js';
import type { Prewarmer, PrewarmProgress } from '../prewarm/engine.js';
import { PUBLISH_WARM_SETS, type PublishWarmSet } from '../prewarm/rules-change.js';
import { PublishConflictError, publishRules, type PrewarmRequest, type PublishResult } from '../publish/index.js';
import type { SavedDrafts } from './drafts.js';
import { MEASURED_MS_SOURCE, measuredMsPerImage } from './impact.js';

const Params = Type.Object({ id: DraftIdSchema });
/** `?warmSet=`: every changed URL (default) or the rules' prewarm set, as `rules publish --warm-set`. */
const Query = Type.Object({
  warmSet: Type.Optional(Type.Union(PUBLISH_WARM_SETS.map((set) => Type.Literal(set)))),
});

/** How often a studio publish logs its prewarm's progress. */
const PROGRESS_LOG_MS = 5000;

/** Who a publish is recorded as when the person gives no name: the studio token names no one. */
const DEFAULT_AUTHOR = 'studio';

function invalidationText(r: PublishResult): string {
  const inv = r.invalidation;
  if ('skipped' in inv) {
    return inv.skipped === 'no invalidator configured'
      ? 'not run: this Preprocessor has no CDN to invalidate; run `npm run rules -- publish` with --varnish or --cloudfront-distribution, or let the CDN copies expire'
      : `not needed: ${inv.skipped}`;
  }
  if ('error' in inv) return `FAILED: ${inv.error}`;
  const tags = inv.tags ?? 0;
  const what = [
    ...(tags > 0 ? [`${tags} ${plural(tags, 'tag')}`] : []),
    ...(inv.paths > 0 || tags === 0 ? [`${inv.paths} ${plural(inv.paths, 'path')}`] : []),
  ].join(' and ');
  const purged = inv.purged === undefined ? '' : `, ${inv.purged} ${plural(inv.purged, 'object')} purged`;
  return `${inv.backend}: ${what} in ${inv.requests} ${plural(inv.requests, 'request')}${purged}`;
}

function prewarmText(r: PublishResult): string {
  const warm = r.prewarm;
  if ('error' in warm) return `FAILED: ${warm.error}`;
  if ('done' in warm) {
    const w = warm.result as BeforeFlipOutcome;
    const failed = Object.entries(w.failures).map(([code, n]) => `${n} ${code}`);
    const live =
      w.liveUrls === 0
        ? `none of the ${w.urls} changed or added URLs renders live`
        : `${w.liveUrls} of ${w.urls} changed or added URLs will render live on their first request`;
    return (
      `before the rules were written (set: ${w.set}): ${w.images} ${plural(w.images, 'image')}, ${w.rendered} rendered, ` +
      `${w.skipped} already stored, ${w.failed} failed${failed.length > 0 ? ` (${failed.join(', ')})` : ''}, ` +
      `in ${(w.ms / 1000).toFixed(1)} s; ${live}`
    );
  }
  if (warm.skipped === 'no prewarm configured') {
    return 'not run: this Preprocessor has no derivative store (MARQUEE_DERIVATIVES_BUCKET) or no prewarm share (MARQUEE_PREWARM_SHARE=0)';
  }
  return `not needed: ${warm.skipped}`;
}

/** The publish's prewarm, with a progress line (and the time left) every few seconds. */
function prewarmDraft(
  prewarmer: Prewarmer,
  next: PrewarmRequest,
  { set, sourcesBucket }: { set: PublishWarmSet; sourcesBucket: string },
  log: (progress: PrewarmProgress & { left: string }) => void,
): Promise<BeforeFlipOutcome> {
  let lastLog = 0;
  return prewarmBeforeFlip(prewarmer, next, {
    set,
    sourcesBucket,
    onProgress: (p) => {
      if (p.ms - lastLog < PROGRESS_LOG_MS || p.done === p.total) return;
      lastLog = p.ms;
      log({ ...p, left: timeLeft(p) });
    },
  });
}

/**
 * `POST /studio/api/drafts/:id/publish`: renders the looks the draft changes or adds into the
 * derivative store through this Preprocessor's prewarmer (its one Generator scheduler, at prewarm
 * priority: live misses first, within the prewarm share), then writes the draft (the revision on
 * screen, byte for byte) where this Preprocessor reads its rules, through `publishRules` (history
 * first, then the rules), reloads them here at once, then invalidates the CDN; other Preprocessors
 * pick the rules up within their poll. The reply waits for the prewarm; its progress and the time
 * left are logged every few seconds.
 */
export const publishRoutes: FastifyPluginAsyncTypebox<{ drafts: SavedDrafts }> = async (app, { drafts }) => {
  const { config } = app;
  const invalidator = invalidatorFor(config.invalidation ? [config.invalidation] : [], {
    region: config.region,
    logger: app.log,
  });
  app.post(
    '/studio/api/drafts/:id/publish',
    { schema: { params: Params, querystring: Query, body: PublishDraftSchema, response: { 200: PublishReplySchema } } },
    async (request) => {
      const { id } = request.params;
      const draft = await drafts.at(id, request.body.rev);
      const { catalog } = app.rulesPoller.current();
      const { prewarm } = app;
      const set = request.query.warmSet ?? 'changed';
      const msPerImage = await measuredMsPerImage(app.metrics.generatorDuration);
      let result: PublishResult;
      try {
        result = await publishRules({
          draftText: draft.yaml,
          draftOrigin: `draft ${id}`,
          target: app.config.rules,
          s3Client: app.s3,
          author: request.body.author ?? DEFAULT_AUTHOR,
          catalog,
          sourcesBucket: app.config.sourcesBucket,
          ...(msPerImage !== undefined ? { costs: { msPerImage, msSource: MEASURED_MS_SOURCE } } : {}),
          // This Preprocessor serves the new rules before the CDN is told to drop the old looks.
          awaitRollout: async () => {
            await app.rulesPoller.reload();
          },
          ...(invalidator ? { invalidator } : {}),
          // Before the rules are written: the new looks the store lacks, within the prewarm share.
          ...(prewarm
            ? {
                prewarm: (next) =>
                  prewarmDraft(prewarm, next, { set, sourcesBucket: config.sourcesBucket }, (p) =>
                    request.log.info({ draft: id, ...p }, 'publish prewarm progress'),
                  ),
              }
            : {}),
        });
      } catch (err) {
        if (err instanceof PublishConflictError) {
          throw new MarqueeError('INVALID_PARAMETER', `The rules changed while publishing: ${err.message}`, {
            cause: err,
          });
        }
        throw err;
      }
      await app.rulesPoller.reload();
      const served = app.rulesPoller.current().rulesEtag;
      request.log.info(
        { draft: id, rev: draft.rev, history: result.id, published: result.published, etag: result.etag, served },
        'studio draft published',
      );
      const { diff } = result;
      return {
        published: result.published,
        target: result.target,
        historyId: result.id,
        ...(result.previousEtag !== undefined ? { previousEtag: result.previousEtag } : {}),
        etag: result.etag,
        servedEtag: served,
        changed: diff.changed,
        added: diff.added,
        removed: diff.removed,
        unchanged: diff.unchanged,
        invalidations: diff.invalidations,
        invalidation: invalidationText(result),
        prewarm: prewarmText(result),
      };
    },
  );
};
