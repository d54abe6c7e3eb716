import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MarqueeError, contentTypeOf, parseImageSpec, specKey, type ImageSpec, type Source } from '@marquee/shared';
import { RENDER_PARAMS_SCHEMA, parseRenderParams } from '../render-params.js';
import { verifySignedUrl } from '../signing.js';
import { etagMatches } from '../images.js';
import { refuseOtherMethods } from '../plugins/methods.js';

/** Keys a studio may render: published sources and the staging prefix, never `..` tricks. */
const SOURCE_KEY = '^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._/-]{0,511}$';

const Query = Type.Object({
  src: Type.String({ pattern: SOURCE_KEY }),
  ...RENDER_PARAMS_SCHEMA,
  v: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
  exp: Type.Optional(Type.String()),
  sig: Type.Optional(Type.String()),
});

/** Studio previews are private to whoever holds the signed URL; they expire with it. */
const PREVIEW_CACHE_CONTROL = 'private, max-age=300';

/** The parameters are checked one by one above; a spec the contract still refuses is the caller's too. */
function specOf(value: unknown): ImageSpec {
  try {
    return parseImageSpec(value);
  } catch (err) {
    throw new MarqueeError('INVALID_PARAMETER', err instanceof Error ? err.message : 'invalid parameters', {
      cause: err,
    });
  }
}

export const renderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  refuseOtherMethods(app, '/v1/render', 'renders');
  app.get(
    '/v1/render',
    {
      schema: { querystring: Query },
      // The signature is checked on the raw query, before any parameter is trusted or coerced.
      preValidation: async (request) => {
        const url = new URL(request.url, 'http://render.invalid');
        verifySignedUrl(url.pathname, url.searchParams, app.config.signingKey);
      },
    },
    async (request, reply) => {
      const q = parseRenderParams(request.query);
      const spec = specOf({
        width: q.w,
        height: q.h,
        fit: q.fit ?? 'cover',
        format: q.fmt ?? 'jpeg',
        quality: q.q ?? 80,
        ...(q.fx !== undefined && q.fy !== undefined ? { focal: { x: q.fx, y: q.fy } } : {}),
        ...(q.fmt === 'avif' ? { effort: 2 } : {}),
      });
      const { src, v } = request.query;
      const source: Source = { s3: { bucket: app.config.sourcesBucket, key: src } };
      const key = specKey(source, spec, v);
      if (etagMatches(request.headers['if-none-match'], `"${key}"`)) {
        reply.header('etag', `"${key}"`);
        reply.header('cache-control', PREVIEW_CACHE_CONTROL);
        return reply.code(304).send();
      }
      const { image, cache } = await app.images.get({ key, source, spec, format: spec.format, requestId: request.id });
      reply.header('x-cache', cache);
      reply.header('etag', image.etag);
      reply.header('cache-control', PREVIEW_CACHE_CONTROL);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('content-type', contentTypeOf(spec.format));
      reply.header('content-length', image.body.length);
      return reply.send(image.body);
    },
  );
};
