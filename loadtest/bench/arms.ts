// The bench's contenders, one function each: what runs where, driven by which tool.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ZipfSampler, mulberry32 } from '../scenarios/zipf.js';
import { benchRawSharp, type InProcessResult } from './raw-sharp.js';
import { startChildServer } from './servers.js';
import type { BenchKey } from './sources.js';
import { runWrk, type WrkResult } from './wrk.js';

export type Measurement = WrkResult | InProcessResult;

export interface ArmResult {
  id: string;
  label: string;
  work: string;
  driver: string;
  concurrency: number;
  result: Measurement;
}

export interface ArmContext {
  durationS: number;
  warmupS: number;
}

/** A short unmeasured run first: cold Lambda environments, JIT, connection set-up. */
async function wrkMeasured(
  ctx: ArmContext,
  origin: string,
  paths: readonly string[],
  connections: number,
): Promise<WrkResult> {
  if (ctx.warmupS > 0) await runWrk({ origin, paths, connections, durationS: ctx.warmupS });
  return runWrk({ origin, paths, connections, durationS: ctx.durationS });
}

export async function rawSharpArm(
  ctx: ArmContext,
  id: string,
  work: string,
  keys: readonly BenchKey[],
  sources: ReadonlyMap<string, Buffer>,
  concurrency: number,
): Promise<ArmResult> {
  // Warm-up: libvips' caches and the JIT, as the HTTP arms get.
  await benchRawSharp(keys, sources, concurrency, Math.min(ctx.warmupS, 2));
  const result = await benchRawSharp(keys, sources, concurrency, ctx.durationS);
  return {
    id,
    label: 'raw sharp in-process (the limit)',
    work,
    driver: `in-process, ${concurrency} pipelines`,
    concurrency,
    result,
  };
}

export async function marqueeArm(
  ctx: ArmContext,
  id: string,
  label: string,
  work: string,
  origin: string,
  paths: readonly string[],
  connections: number,
  warm = true,
): Promise<ArmResult> {
  const result = warm
    ? await wrkMeasured(ctx, origin, paths, connections)
    : await runWrk({ origin, paths, connections, durationS: ctx.durationS });
  return { id, label, work, driver: `wrk -t1 -c${connections}`, concurrency: connections, result };
}

export async function ipxArm(
  ctx: ArmContext,
  id: string,
  label: string,
  work: string,
  ipxOrigin: string,
  paths: readonly string[],
  connections: number,
): Promise<ArmResult> {
  const result = await wrkMeasured(ctx, ipxOrigin, paths, connections);
  return { id, label, work, driver: `wrk -t1 -c${connections}`, concurrency: connections, result };
}

/** A bare Fastify route (own process, like the Preprocessor) replying with the bytes of a Marquee cache hit. */
export async function bareFastifyArm(
  ctx: ArmContext,
  dir: string,
  body: Buffer,
  contentType: string,
  path0: string,
  connections: number,
): Promise<ArmResult> {
  const file = path.join(dir, 'cached-reply.bin');
  await writeFile(file, body);
  const server = await startChildServer(['bare', file, contentType]);
  try {
    const result = await wrkMeasured(ctx, server.url, [path0], connections);
    return {
      id: 'bare',
      label: 'bare Fastify route, same bytes',
      work: `${body.length} B reply`,
      driver: `wrk -t1 -c${connections}`,
      concurrency: connections,
      result,
    };
  } finally {
    await server.close();
  }
}

/** GETs a path and returns the reply (to warm a cache entry and copy its bytes). */
export async function fetchReply(
  origin: string,
  p: string,
): Promise<{ status: number; body: Buffer; contentType: string; xCache: string | undefined }> {
  const res = await request(`${origin}${p}`, { headers: { accept: 'image/webp,*/*' } });
  const body = Buffer.from(await res.body.arrayBuffer());
  const h = (n: string) => {
    const v = res.headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  return {
    status: res.statusCode,
    body,
    contentType: h('content-type') ?? 'application/octet-stream',
    xCache: h('x-cache'),
  };
}

/** A fixed sequence of Zipf draws over the keys (most popular first), the same for every contender. */
export function zipfSequence(keys: readonly BenchKey[], draws: number, s = 0.9, seed = 42): BenchKey[] {
  const z = new ZipfSampler(keys.length, s, mulberry32(seed));
  return Array.from({ length: draws }, () => keys[z.sample()] as BenchKey);
}
