import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MarqueeError } from '@marquee/shared';
import { RENDER_PARAMS_SCHEMA, parseRenderParams } from '../render-params.js';
import { signUrl } from '../signing.js';
import { publishedSources } from './catalog.js';
import { MAX_SIGN_BATCH, PREVIEW_TTL_SECONDS } from './limits.js';
import { isStagingKey } from './upload.js';

const Render = Type.Object(
  {
    src: Type.String({ minLength: 1, maxLength: 512 }),
    ...RENDER_PARAMS_SCHEMA,
  },
  { additionalProperties: false },
);
export type RenderRequest = Static<typeof Render>;

const Body = Type.Object(
  { renders: Type.Array(Render, { minItems: 1, maxItems: MAX_SIGN_BATCH }) },
  { additionalProperties: false },
);

/** `/v1/render` accepts versions of this shape; others are left out (the URL still renders). */
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

/** Focal points are clicks on a preview: four decimals is a tenth of a pixel on an 8K master. */
function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** The `/v1/render` parameters of one request, or a 4xx naming the request at fault. */
function renderParams(
  r: RenderRequest,
  index: number,
  published: Map<string, string>,
): Record<string, string | number> {
  const version = published.get(r.src);
  if (version === undefined && !isStagingKey(r.src)) {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', `renders[${index}].src: not a catalog source or a staging upload`);
  }
  const p = parseRenderParams(r, `renders[${index}].`);
  const params: Record<string, string | number> = { src: r.src, w: p.w, h: p.h };
  if (p.fit) params.fit = p.fit;
  if (p.fmt) params.fmt = p.fmt;
  if (p.q !== undefined) params.q = p.q;
  if (p.fx !== undefined && p.fy !== undefined) {
    params.fx = round4(p.fx);
    params.fy = round4(p.fy);
  }
  if (version !== undefined && VERSION.test(version)) params.v = version;
  return params;
}

/** POST /studio/api/sign: signed, expiring `/v1/render` URLs for catalog sources and staged uploads. */
export const signRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/studio/api/sign', { schema: { body: Body } }, async (request) => {
    const { catalog } = app.rulesStore.current();
    const published = publishedSources(catalog);
    const now = Date.now();
    const renders = request.body.renders.map((r, i) => ({
      ...r,
      url: signUrl('/v1/render', renderParams(r, i, published), app.config.signingKey, PREVIEW_TTL_SECONDS, now),
    }));
    return { expiresAt: new Date(now + PREVIEW_TTL_SECONDS * 1000).toISOString(), renders };
  });
};
