import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CompareReplySchema,
  CompareRequestSchema,
  MarqueeError,
  PreviewReplySchema,
  PreviewRequestSchema,
  isMarqueeError,
  type CompareItem,
  type PreviewResult,
} from '@marquee/shared';
import type { ResolveState } from '../rules/resolve.js';
import { compareTitle } from './compare.js';
import type { SavedDrafts, SavedDraft } from './drafts.js';
import { MAX_SIGN_BATCH, PREVIEW_TTL_SECONDS } from './limits.js';
import { DIFF_PATH, RENDER_PATH, signPreview, type DraftRef } from './preview-urls.js';
import { previewOf, resolvePreview, type PreviewTarget } from './resolve-preview.js';

/** Tiles per compare reply: every changed file of a boxshot at one DPR is 9; a logo's ladder, 39. */
const MAX_COMPARE_ITEMS = 48;

/**
 * `POST /studio/api/previews` (artwork as the artwork route resolves it, under the rules in force
 * or a draft's, each with a signed URL of `/studio/render`) and `POST /studio/api/compare` (a
 * title's files under both, what changes, and heat maps).
 */
export const previewRoutes: FastifyPluginAsyncTypebox<{ drafts: SavedDrafts }> = async (app, { drafts }) => {
  const sign = (
    path: typeof RENDER_PATH | typeof DIFF_PATH,
    t: PreviewTarget,
    draft: DraftRef | undefined,
    now: number,
  ) => signPreview(path, t, draft, app.config.signingKey, now);

  app.post(
    '/studio/api/previews',
    { schema: { body: PreviewRequestSchema, response: { 200: PreviewReplySchema } } },
    async (request) => {
      const { renders, draft: ref } = request.body;
      if (renders.length > MAX_SIGN_BATCH) {
        throw new MarqueeError('INVALID_PARAMETER', `renders: at most ${MAX_SIGN_BATCH} per request`);
      }
      const wantsDraft = renders.some((r) => r.rules === 'draft');
      if (wantsDraft && !ref)
        throw new MarqueeError('INVALID_PARAMETER', 'draft: required for renders of rules: draft');
      const draft: SavedDraft | undefined = wantsDraft && ref ? await drafts.at(ref.id, ref.rev) : undefined;
      const { rules, catalog } = app.rulesPoller.current();
      const now = Date.now();
      const results = renders.map((item): PreviewResult => {
        const under = item.rules === 'draft' && draft ? draft.rules : rules;
        try {
          const resolution = resolvePreview(under, catalog, app.config.sourcesBucket, item);
          const url = sign(RENDER_PATH, item, item.rules === 'draft' ? ref : undefined, now);
          return { ...item, preview: previewOf(item, resolution, url) };
        } catch (err) {
          // What the artwork route would answer (a 4xx: not served here), shown on the tile.
          if (isMarqueeError(err) && err.status < 500)
            return { ...item, error: { code: err.code, message: err.message } };
          throw err;
        }
      });
      return { expiresAt: new Date(now + PREVIEW_TTL_SECONDS * 1000).toISOString(), renders: results };
    },
  );

  app.post(
    '/studio/api/compare',
    { schema: { body: CompareRequestSchema, response: { 200: CompareReplySchema } } },
    async (request) => {
      const { draft: ref, type, titleId, dpr, formats } = request.body;
      const draft = await drafts.at(ref.id, ref.rev);
      const { rules, catalog } = app.rulesPoller.current();
      const bucket = app.config.sourcesBucket;
      const current: ResolveState = { rules, catalog, sourcesBucket: bucket };
      const next: ResolveState = { rules: draft.rules, catalog, sourcesBucket: bucket };
      const { files, locales } = compareTitle(current, next, titleId, type);
      if (locales.length === 0) {
        throw new MarqueeError('ARTWORK_NOT_FOUND', `title ${titleId} has no ${type} artwork under either rules`);
      }
      const wanted = request.body.locale?.toLowerCase();
      const locale =
        locales.find((c) => c.locale.toLowerCase() === wanted)?.locale ??
        locales.find((c) => c.locale === rules.defaultLocale)?.locale ??
        locales[0]!.locale;
      const now = Date.now();
      const items = files
        .filter((f) => f.locale === locale && f.dpr === dpr && formats.includes(f.format))
        .slice(0, MAX_COMPARE_ITEMS)
        .map((f): CompareItem => {
          const target: PreviewTarget = {
            type,
            titleId,
            locale,
            width: f.width,
            height: f.height,
            dpr,
            format: f.format,
          };
          const { width, height, format, path, status } = f;
          const item: CompareItem = { width, height, dpr, format, path, status };
          if (f.status !== 'added') {
            item.current = previewOf(
              target,
              resolvePreview(rules, catalog, bucket, target),
              sign(RENDER_PATH, target, undefined, now),
            );
          }
          if (f.status === 'changed' || f.status === 'added') {
            item.draft = previewOf(
              target,
              resolvePreview(draft.rules, catalog, bucket, target),
              sign(RENDER_PATH, target, ref, now),
            );
          }
          if (f.status === 'changed') item.diff = sign(DIFF_PATH, target, ref, now);
          return item;
        });
      return { expiresAt: new Date(now + PREVIEW_TTL_SECONDS * 1000).toISOString(), locale, items, locales };
    },
  );
};
