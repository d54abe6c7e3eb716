import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { contentTypeOf } from '@marquee/shared';
import { verifySignedUrl } from '../signing.js';
import type { SavedDrafts } from './drafts.js';
import { heatMap } from './heatmap.js';
import { DIFF_PATH, PreviewQuery, RENDER_PATH, readPreview } from './preview-urls.js';
import { resolvePreview, type PreviewTarget, type Rendered } from './resolve-preview.js';

/**
 * The two signed routes the studio's tiles load: `GET /studio/render` (one artwork URL's bytes
 * under the rules in force or a draft's) and `GET /studio/diff` (a heat map of the two). The
 * signature is the authority, as for `/v1/render`: the page fetches them without credentials.
 * Both answer `Cache-Control: private, no-store` (the studio plugin's hook): a draft's look is
 * nobody's to keep.
 */
export const previewRenderRoutes: FastifyPluginAsyncTypebox<{ drafts: SavedDrafts }> = async (app, { drafts }) => {
  // The signature is checked on the raw query, before any parameter is trusted.
  const verify = async (request: FastifyRequest) => {
    const url = new URL(request.url, 'http://studio.invalid');
    verifySignedUrl(url.pathname, url.searchParams, app.config.signingKey);
  };

  /** The resolution under the rules in force, or under the draft at the revision signed. */
  const resolveUnder = async (target: PreviewTarget, draft: { id: string; rev: string } | undefined) => {
    const { rules, catalog } = app.rulesPoller.current();
    const under = draft ? (await drafts.at(draft.id, draft.rev)).rules : rules;
    return resolvePreview(under, catalog, app.config.sourcesBucket, target);
  };

  /** The bytes, through the artwork route's own path: output cache, single flight, Generator. */
  const render = (resolution: Rendered, requestId: string) =>
    app.images.get({
      key: resolution.key,
      source: resolution.source,
      spec: resolution.spec,
      format: resolution.format,
      requestId,
      version: resolution.version,
      // A partner previewing waits behind live misses, never behind prewarm.
      priority: 'studio',
    });

  app.get(RENDER_PATH, { schema: { querystring: PreviewQuery }, preValidation: verify }, async (request, reply) => {
    const { target, draft } = readPreview(request.query);
    const resolution = await resolveUnder(target, draft);
    const { image, cache } = await render(resolution, request.id);
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('x-artwork-key', resolution.key)
      .header('x-artwork-locale', resolution.locale)
      .header('x-artwork-size', `${resolution.spec.width}x${resolution.spec.height}`)
      .header('x-cache', cache)
      .header('content-type', contentTypeOf(resolution.format))
      .header('content-length', image.body.length)
      .send(image.body);
  });

  app.get(DIFF_PATH, { schema: { querystring: PreviewQuery }, preValidation: verify }, async (request, reply) => {
    const { target, draft } = readPreview(request.query);
    const [current, next] = await Promise.all([resolveUnder(target, undefined), resolveUnder(target, draft)]);
    const [a, b] = await Promise.all([render(current, request.id), render(next, request.id)]);
    const map = await heatMap(a.image.body, b.image.body);
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('x-diff-changed', map.changed.toFixed(4))
      .header('x-diff-max', String(map.maxDelta))
      .header('x-diff-resized', map.resized ? '1' : '0')
      .header('content-type', 'image/png')
      .header('content-length', map.png.length)
      .send(map.png);
  });
};
