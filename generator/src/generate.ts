import {
  MarqueeError,
  contentTypeOf,
  type GeneratorRequest,
  type GeneratorSuccess,
  type Source,
} from '@marquee/shared';
import type { Deps } from './deps.js';
import { derivativeTarget, fitsInline, putDerivative } from './output.js';
import { fetchSource } from './source/index.js';
import { probe } from './steps/detect.js';
import { OverlayCache, sourceIdentity } from './steps/overlay-cache.js';
import { planRender, prepareOverlay, render, type RenderLimits } from './steps/render.js';

/** A rendered result; the handler adds `coldStart`, which only it can know. */
export type Generated = Omit<GeneratorSuccess, 'coldStart'>;

const ms = (from: number) => Math.round((performance.now() - from) * 100) / 100;

/**
 * Fetches the source and every overlay in parallel. The first failure aborts
 * the others, and all are settled before returning, so nothing keeps running
 * after the invocation ends.
 */
async function fetchAll(sources: readonly Source[], deps: Deps, version?: string): Promise<Buffer[]> {
  const controller = new AbortController();
  let first: Error | undefined;
  const settled = await Promise.allSettled(
    // The version is the master's (the first source); badges are not versioned.
    sources.map((s, i) =>
      fetchSource(s, deps, controller.signal, i === 0 ? version : undefined).catch((err: unknown) => {
        first ??= err instanceof Error ? err : new Error(String(err));
        controller.abort();
        throw err;
      }),
    ),
  );
  if (first !== undefined) throw first;
  return settled.map((r) => (r as PromiseFulfilledResult<Buffer>).value);
}

/**
 * Badges of each environment (`Deps` is made once per environment), prepared once per size.
 * With the source cache turned off, badge bytes are fetched on every use as every source is;
 * their prepared pixels are still kept, checked against the bytes.
 */
const overlayCaches = new WeakMap<Deps, OverlayCache>();

function overlayCacheOf(deps: Deps): OverlayCache {
  let cache = overlayCaches.get(deps);
  if (cache === undefined) {
    cache = deps.sourceCache === undefined ? new OverlayCache(undefined, 0) : new OverlayCache();
    overlayCaches.set(deps, cache);
  }
  return cache;
}

/** Fetch → probe → render → deliver (inline or to S3). Throws MarqueeError for every expected failure. */
export async function generate(request: GeneratorRequest, deps: Deps): Promise<Generated> {
  const { spec } = request;
  const { config } = deps;
  const limits: RenderLimits = { maxInputPixels: config.maxInputPixels, renderTimeoutMs: config.renderTimeoutMs };
  const overlays = spec.overlays ?? [];
  const badges = overlays.length > 0 ? overlayCacheOf(deps) : undefined;
  // Badge bytes fetched and probed within the freshness window are used as they are.
  const held = overlays.map((o) => badges?.fresh(sourceIdentity(o.source)));

  const fetchStart = performance.now();
  const toFetch = [request.source, ...overlays.filter((_, i) => held[i] === undefined).map((o) => o.source)];
  const [sourceBytes, ...fetched] = await fetchAll(toFetch, deps, request.version);
  if (sourceBytes === undefined) throw new MarqueeError('INTERNAL', 'source fetch returned nothing');
  const fetchMs = ms(fetchStart);

  const renderStart = performance.now();
  const source = await probe(sourceBytes, config.maxInputPixels);
  const plan = planRender(source, spec);
  let next = 0;
  const prepared = await Promise.all(
    overlays.map(async (overlay, i) => {
      let bytes = held[i];
      if (bytes === undefined) {
        bytes = fetched[next++];
        if (bytes === undefined) throw new MarqueeError('INTERNAL', 'overlay fetch returned nothing');
        await probe(bytes, config.maxInputPixels, 'overlay');
        badges?.hold(sourceIdentity(overlay.source), bytes);
      }
      return prepareOverlay(bytes, overlay, plan.geometry, limits, badges);
    }),
  );
  const { data, info } = await render(sourceBytes, source, spec, plan, prepared, limits);
  const renderMs = ms(renderStart);

  const contentType = contentTypeOf(spec.format);
  const result: Generated = {
    ok: true,
    contentType,
    width: info.width,
    height: info.height,
    bytes: data.length,
    timings: { fetchMs, renderMs },
  };
  if (fitsInline(result, data.length, config.maxInlineBytes)) return { ...result, body: data.toString('base64') };

  const target = derivativeTarget(request, deps);
  if (target === undefined) {
    throw new MarqueeError(
      'OUTPUT_TOO_LARGE',
      `output of ${data.length} bytes is too large to return inline and no derivatives bucket is configured`,
    );
  }
  await putDerivative(target, data, contentType, deps);
  return { ...result, s3: target };
}
