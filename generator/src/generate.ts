import { MarqueeError, contentTypeOf, type GeneratorRequest, type Source } from '@marquee/shared';
import type { Deps } from './deps.js';
import { BADGE_FRESH_MS, type Reuse } from './source/cache.js';
import { fetchSource } from './source/index.js';
import { probe } from './steps/detect.js';
import { OverlayCache } from './steps/overlay-cache.js';
import { planRender, prepareOverlay, render, type RenderLimits } from './steps/render.js';

/** A rendered image: its bytes and what the handler's prelude says of them. */
export interface Generated {
  data: Buffer;
  contentType: string;
  width: number;
  height: number;
  timings: { fetchMs: number; renderMs: number };
}

const ms = (from: number) => Math.round((performance.now() - from) * 100) / 100;

/**
 * Fetches the source and every overlay in parallel. The first failure aborts
 * the others, and all are settled before returning, so nothing keeps running
 * after the invocation ends.
 */
async function fetchAll(sources: ReadonlyArray<[Source, Reuse]>, deps: Deps): Promise<Buffer[]> {
  const controller = new AbortController();
  let first: Error | undefined;
  const settled = await Promise.allSettled(
    sources.map(([source, reuse]) =>
      fetchSource(source, deps, controller.signal, reuse).catch((err: unknown) => {
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
 * Badges of each environment (`Deps` is made once per environment), prepared once per size,
 * checked against the bytes they were prepared from.
 */
const overlayCaches = new WeakMap<Deps, OverlayCache>();

function overlayCacheOf(deps: Deps): OverlayCache {
  let cache = overlayCaches.get(deps);
  if (cache === undefined) {
    cache = new OverlayCache();
    overlayCaches.set(deps, cache);
  }
  return cache;
}

/** Fetch → probe → render. Throws MarqueeError for every expected failure; the handler delivers. */
export async function generate(request: GeneratorRequest, deps: Deps): Promise<Generated> {
  const { spec } = request;
  const { config } = deps;
  const limits: RenderLimits = { maxInputPixels: config.maxInputPixels, renderTimeoutMs: config.renderTimeoutMs };
  const overlays = spec.overlays ?? [];
  const badges = overlays.length > 0 ? overlayCacheOf(deps) : undefined;
  const fetchStart = performance.now();
  // The master is reused for its catalog version; badges, unversioned, for a freshness window.
  const [sourceBytes, ...fetched] = await fetchAll(
    [
      [request.source, request.version === undefined ? {} : { version: request.version }],
      ...overlays.map((o): [Source, Reuse] => [o.source, { freshMs: BADGE_FRESH_MS }]),
    ],
    deps,
  );
  if (sourceBytes === undefined) throw new MarqueeError('INTERNAL', 'source fetch returned nothing');
  const fetchMs = ms(fetchStart);

  const renderStart = performance.now();
  const source = await probe(sourceBytes, config.maxInputPixels);
  const plan = planRender(source, spec);
  const prepared = await Promise.all(
    overlays.map(async (overlay, i) => {
      const bytes = fetched[i];
      if (bytes === undefined) throw new MarqueeError('INTERNAL', 'overlay fetch returned nothing');
      await probe(bytes, config.maxInputPixels, 'overlay');
      return prepareOverlay(bytes, overlay, plan.geometry, limits, badges);
    }),
  );
  const { data, info } = await render(sourceBytes, source, spec, plan, prepared, limits);
  const renderMs = ms(renderStart);

  if (data.length > config.maxOutputBytes)
    throw new MarqueeError(
      'OUTPUT_TOO_LARGE',
      `output of ${data.length} bytes is past the ${config.maxOutputBytes}-byte limit`,
    );
  return {
    data,
    contentType: contentTypeOf(spec.format),
    width: info.width,
    height: info.height,
    timings: { fetchMs, renderMs },
  };
}
