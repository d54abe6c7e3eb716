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
import { planRender, prepareOverlay, render, type RenderLimits } from './steps/render.js';

/** A rendered result; the handler adds `coldStart`, which only it can know. */
export type Generated = Omit<GeneratorSuccess, 'coldStart'>;

const ms = (from: number) => Math.round((performance.now() - from) * 100) / 100;

/**
 * Fetches the source and every overlay in parallel. The first failure aborts
 * the others, and all are settled before returning, so nothing keeps running
 * after the invocation ends.
 */
async function fetchAll(sources: readonly Source[], deps: Deps): Promise<Buffer[]> {
  const controller = new AbortController();
  let first: Error | undefined;
  const settled = await Promise.allSettled(
    sources.map((s) =>
      fetchSource(s, deps, controller.signal).catch((err: unknown) => {
        first ??= err instanceof Error ? err : new Error(String(err));
        controller.abort();
        throw err;
      }),
    ),
  );
  if (first !== undefined) throw first;
  return settled.map((r) => (r as PromiseFulfilledResult<Buffer>).value);
}

/** Fetch → probe → render → deliver (inline or to S3). Throws MarqueeError for every expected failure. */
export async function generate(request: GeneratorRequest, deps: Deps): Promise<Generated> {
  const { spec } = request;
  const { config } = deps;
  const limits: RenderLimits = { maxInputPixels: config.maxInputPixels, renderTimeoutMs: config.renderTimeoutMs };
  const overlays = spec.overlays ?? [];

  const fetchStart = performance.now();
  const [sourceBytes, ...overlayBytes] = await fetchAll([request.source, ...overlays.map((o) => o.source)], deps);
  if (sourceBytes === undefined) throw new MarqueeError('INTERNAL', 'source fetch returned nothing');
  const fetchMs = ms(fetchStart);

  const renderStart = performance.now();
  const source = await probe(sourceBytes, config.maxInputPixels);
  const plan = planRender(source, spec);
  const prepared = await Promise.all(
    overlays.map(async (overlay, i) => {
      const bytes = overlayBytes[i] as Buffer;
      await probe(bytes, config.maxInputPixels, 'overlay');
      return prepareOverlay(bytes, overlay, plan.geometry, limits);
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
