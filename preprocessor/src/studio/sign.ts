import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  MarqueeError,
  RenderRequestSchema,
  SignReplySchema,
  SignRequestSchema,
  type SignedRender,
  type RenderRequest,
  type SignRequest,
} from '@marquee/shared';
import { RENDER_PARAMS_SCHEMA, parseRenderParams } from '../render-params.js';
import { signUrl } from '../signing.js';
import type { Rules } from '../rules/schema.js';
import { publishedSources } from './catalog.js';
import { judgeProposal } from './proposal.js';
import { MAX_SIGN_BATCH, PREVIEW_TTL_SECONDS } from './limits.js';
import { isStagingKey } from './upload.js';

/**
 * What the body schema lets through: the parameters as text or JSON numbers, read by
 * `parseRenderParams` (as `/v1/render` reads them), not coerced by ajv.
 */
const RawRender = Type.Object(
  { src: RenderRequestSchema.properties.src, ...RENDER_PARAMS_SCHEMA },
  { additionalProperties: false },
);
type RawRender = Static<typeof RawRender>;

const Body = Type.Object(
  {
    renders: Type.Array(RawRender, { minItems: 1, maxItems: MAX_SIGN_BATCH }),
    type: SignRequestSchema.properties.type,
  },
  { additionalProperties: false },
);

type Assert<T extends true> = T;
/** Whatever the page sends as a `SignRequest` passes the body schema. */
type _SignRequestPasses = Assert<SignRequest extends Static<typeof Body> ? true : false>;

/** `/v1/render` accepts versions of this shape; others are left out (the URL still renders). */
const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

/** Focal points are clicks on a preview: four decimals is a tenth of a pixel on an 8K master. */
function round4(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** One request as it is signed (numbers read, focal point rounded), or a 4xx naming the request at fault. */
function readRender(r: RawRender, index: number, published: Map<string, string>): RenderRequest {
  if (!published.has(r.src) && !isStagingKey(r.src)) {
    throw new MarqueeError('SOURCE_NOT_ALLOWED', `renders[${index}].src: not a catalog source or a staging upload`);
  }
  const p = parseRenderParams(r, `renders[${index}].`);
  const render: RenderRequest = { src: r.src, w: p.w, h: p.h };
  if (p.fit) render.fit = p.fit;
  if (p.fmt) render.fmt = p.fmt;
  if (p.q !== undefined) render.q = p.q;
  if (p.fx !== undefined && p.fy !== undefined) {
    render.fx = round4(p.fx);
    render.fy = round4(p.fy);
  }
  return render;
}

/** The `/v1/render` parameters of a request: its own, and the catalog version when it is one `/v1/render` takes. */
function urlParams(render: RenderRequest, version: string | undefined): Record<string, string | number> {
  return version !== undefined && VERSION.test(version) ? { ...render, v: version } : { ...render };
}

/**
 * Held against the current rules of `type`: what they would not serve as asked, and, when the
 * request names no quality, the quality they encode its format at that width.
 */
function judged(render: RenderRequest, rules: Rules, type: string): { render: RenderRequest; notAllowed: string[] } {
  const verdict = judgeProposal(rules, type, render);
  const withQuality =
    render.q === undefined && verdict.quality !== undefined ? { ...render, q: verdict.quality } : render;
  return { render: withQuality, notAllowed: verdict.notAllowed };
}

/** POST /studio/api/sign: signed, expiring `/v1/render` URLs for catalog sources and staged uploads. */
export const signRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/studio/api/sign', { schema: { body: Body, response: { 200: SignReplySchema } } }, async (request) => {
    const { rules, catalog } = app.rulesPoller.current();
    const { type } = request.body;
    const published = publishedSources(catalog);
    const now = Date.now();
    const renders = request.body.renders.map((r, i): SignedRender => {
      const read = readRender(r, i, published);
      const { render, notAllowed } =
        type === undefined ? { render: read, notAllowed: undefined } : judged(read, rules, type);
      const params = urlParams(render, published.get(r.src));
      const url = signUrl('/v1/render', params, app.config.signingKey, PREVIEW_TTL_SECONDS, now);
      return { ...render, url, ...(notAllowed !== undefined ? { notAllowed } : {}) };
    });
    return { expiresAt: new Date(now + PREVIEW_TTL_SECONDS * 1000).toISOString(), renders };
  });
};
