import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DraftIdSchema, MarqueeError, PublishDraftSchema, PublishReplySchema, plural } from '@marquee/shared';
import { invalidatorFor } from '../invalidation/backends.js';
import { warmSetOfRulesChange } from '../prewarm/rules-change.js';
import { warmSet } from '../prewarm/warm-set.js';
import { PublishConflictError, publishRules, type PublishResult } from '../publish/index.js';
import type { SavedDrafts } from './drafts.js';
import { MEASURED_MS_SOURCE, measuredMsPerImage } from './impact.js';

const Params = Type.Object({ id: DraftIdSchema });

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
  return `${inv.backend}: ${inv.paths} ${plural(inv.paths, 'path')} in ${inv.requests} ${plural(inv.requests, 'request')}`;
}

function prewarmText(r: PublishResult, prewarmsOnReload: boolean): string {
  const warm = r.prewarm;
  if ('error' in warm) return `FAILED: ${warm.error}`;
  if ('done' in warm) {
    const queued = (warm.result as { queued?: number } | undefined)?.queued;
    return queued === undefined ? 'done' : `${queued} new images queued for the store (marquee_prewarm_* metrics)`;
  }
  if (warm.skipped === 'no prewarm configured') {
    return prewarmsOnReload
      ? 'this Preprocessor renders the rules’ warm set as it reloads them'
      : 'not run: `npm run prewarm` renders the warm set into the store';
  }
  return `not needed: ${warm.skipped}`;
}

/**
 * `POST /studio/api/drafts/:id/publish`: writes the draft (the revision on screen, byte for byte)
 * where this Preprocessor reads its rules, through `publishRules` (history first, then the
 * rules), and reloads them here at once; other Preprocessors pick them up within their poll.
 */
export const publishRoutes: FastifyPluginAsyncTypebox<{ drafts: SavedDrafts }> = async (app, { drafts }) => {
  const { config } = app;
  const invalidator = invalidatorFor(config.invalidation ? [config.invalidation] : [], {
    region: config.region,
    logger: app.log,
  });
  app.post(
    '/studio/api/drafts/:id/publish',
    { schema: { params: Params, body: PublishDraftSchema, response: { 200: PublishReplySchema } } },
    async (request) => {
      const { id } = request.params;
      const draft = await drafts.at(id, request.body.rev);
      const { catalog } = app.rulesPoller.current();
      const { prewarm } = app;
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
          // The new looks the store lacks, rendered within the prewarm share; the reply does not wait.
          ...(prewarm
            ? {
                prewarm: (next) => {
                  const entries = next.previous
                    ? warmSetOfRulesChange(next.previous, next.rules, next.catalog, config.sourcesBucket)
                    : warmSet(next.rules, next.catalog, config.sourcesBucket);
                  void prewarm.run(entries, { reason: next.reason }).catch((err: unknown) => {
                    request.log.error({ err }, 'prewarm after publish failed');
                  });
                  return Promise.resolve({ queued: entries.length });
                },
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
        prewarm: prewarmText(result, app.prewarm !== undefined && app.config.prewarm.onReload),
      };
    },
  );
};
