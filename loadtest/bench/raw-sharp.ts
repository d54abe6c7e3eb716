import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import sharp from 'sharp';
import type { BenchKey } from './sources.js';
import type { Figures } from './figures.js';

export interface InProcessResult extends Figures {
  tool: 'in-process';
}

/** The Generator's WebP effort: rules effort 4 on 0..9, scaled onto libwebp's 0..6. */
export const GENERATOR_WEBP_EFFORT = Math.round((4 / 9) * 6);

/** One render as the Generator does it for these keys: cover resize, WebP at the rules' quality and effort. */
export function render(source: Buffer, key: BenchKey): Promise<Buffer> {
  return sharp(source)
    .resize(key.width, key.height, { fit: 'cover' })
    .webp({ quality: key.quality, effort: GENERATOR_WEBP_EFFORT })
    .toBuffer();
}

/** Raw sharp in this process, `concurrency` pipelines, cycling through the keys: the limit. */
export async function benchRawSharp(
  keys: readonly BenchKey[],
  sources: ReadonlyMap<string, Buffer>,
  concurrency: number,
  durationS: number,
): Promise<InProcessResult> {
  const h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let next = 0;
  const start = performance.now();
  const deadline = start + durationS * 1000;
  const worker = async (offset: number) => {
    let i = offset * 7919;
    while (performance.now() < deadline) {
      const key = keys[(i++ + next) % keys.length] as BenchKey;
      const t0 = performance.now();
      await render(sources.get(key.sourceKey) as Buffer, key);
      h.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
    }
  };
  next = 0;
  await Promise.all(Array.from({ length: concurrency }, (_, c) => worker(c)));
  const elapsed = (performance.now() - start) / 1000;
  const r: InProcessResult = {
    tool: 'in-process',
    requests: h.totalCount,
    durationS: elapsed,
    rps: h.totalCount / elapsed,
    meanMs: h.mean / 1000,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p90Ms: h.getValueAtPercentile(90) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    maxMs: h.maxValue / 1000,
    non2xx: 0,
    socketErrors: 0,
  };
  h.destroy();
  return r;
}
