// The bench's contenders, one function each: what runs where, driven by which tool.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { ZipfSampler, mulberry32 } from '../scenarios/zipf.js';
import { selfMeter, settleTree, treeMeter, type CpuMeter } from './cpu.js';
import { goodRequests, type CpuFigures } from './figures.js';
import { benchRawSharp, type InProcessResult } from './raw-sharp.js';
import type { StageBreakdown } from './stages.js';
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
  /** CPU of every process of the contender over the measured window (Linux /proc; absent elsewhere). */
  cpu?: CpuFigures;
  /** Uncached Marquee arms: where the wall time of an image goes. */
  stages?: StageBreakdown;
}

export interface ArmContext {
  durationS: number;
  warmupS: number;
}

/** What is measured around an arm's window, besides wall throughput and latency. */
export interface Instruments {
  /** Root pid of the contender's process tree, or 'self' (work done in the bench process). */
  cpu?: number | 'self';
  /** Called after the warm-up, before the window; returns what to call after it (outside the CPU window). */
  around?: () => Promise<(result: Measurement) => Promise<void>>;
  /** Read every reply's Server-Timing header (wrk). */
  serverTiming?: boolean;
}

function startMeter(cpu: Instruments['cpu'], what: string): CpuMeter | undefined {
  if (cpu === undefined) return undefined;
  if (cpu === 'self') return selfMeter();
  return process.platform === 'linux' ? treeMeter(cpu, what) : undefined;
}

/**
 * Runs `measure` as the window: hooks first, then the CPU meter around it. For a server (a pid),
 * the window opens once the server is idle (nothing left in flight by the warm-up) and closes
 * once it is idle again: the `inFlightAtEnd` requests wrk abandoned when it stopped are finished
 * inside the window, so they count as images for CPU per image (a closed loop: one per connection).
 */
async function windowed<T extends Measurement>(
  inst: Instruments,
  what: string,
  measure: () => Promise<T>,
  inFlightAtEnd = 0,
): Promise<{ result: T; cpu?: CpuFigures }> {
  const server = typeof inst.cpu === 'number' ? inst.cpu : undefined;
  if (server !== undefined) await settleTree(server);
  const after = inst.around ? await inst.around() : undefined;
  const meter = startMeter(inst.cpu, what);
  const result = await measure();
  if (server !== undefined) await settleTree(server);
  const w = meter?.stop();
  if (after) await after(result);
  if (!w) return { result };
  const images = goodRequests(result) + (server !== undefined ? inFlightAtEnd : 0);
  return {
    result,
    cpu: {
      cpuMs: w.cpuMs,
      cpuPerImageMs: images > 0 ? w.cpuMs / images : Number.NaN,
      cores: result.durationS > 0 ? w.cpuMs / 1000 / result.durationS : 0,
      processes: w.processes,
      source: w.source,
    },
  };
}

/** A short unmeasured run first: cold Lambda environments, JIT, connection set-up. */
async function wrkMeasured(
  ctx: ArmContext,
  origin: string,
  paths: readonly string[],
  connections: number,
  inst: Instruments = {},
  what = 'server',
  warm = true,
): Promise<{ result: WrkResult; cpu?: CpuFigures }> {
  if (warm && ctx.warmupS > 0) await runWrk({ origin, paths, connections, durationS: ctx.warmupS });
  return windowed(
    inst,
    what,
    () =>
      runWrk({
        origin,
        paths,
        connections,
        durationS: ctx.durationS,
        ...(inst.serverTiming ? { serverTiming: true } : {}),
      }),
    connections,
  );
}

/** An arm driven by wrk: its measured window (and CPU, where instrumented) as one row. */
async function wrkArm(
  ctx: ArmContext,
  row: Pick<ArmResult, 'id' | 'label' | 'work'>,
  origin: string,
  paths: readonly string[],
  connections: number,
  inst: Instruments,
  what: string,
  warm = true,
): Promise<ArmResult> {
  const { result, cpu } = await wrkMeasured(ctx, origin, paths, connections, inst, what, warm);
  return { ...row, driver: `wrk -t1 -c${connections}`, concurrency: connections, result, ...(cpu ? { cpu } : {}) };
}

export async function rawSharpArm(
  ctx: ArmContext,
  id: string,
  work: string,
  keys: readonly BenchKey[],
  sources: ReadonlyMap<string, Buffer>,
  concurrency: number,
  label = 'raw sharp in-process (the limit)',
): Promise<ArmResult> {
  // Warm-up: libvips' caches and the JIT, as the HTTP arms get.
  await benchRawSharp(keys, sources, concurrency, Math.min(ctx.warmupS, 2));
  const { result, cpu } = await windowed({ cpu: 'self' }, 'bench process', () =>
    benchRawSharp(keys, sources, concurrency, ctx.durationS),
  );
  return {
    id,
    label,
    work,
    driver: `in-process, ${concurrency} pipelines`,
    concurrency,
    result,
    ...(cpu ? { cpu } : {}),
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
  inst: Instruments = {},
): Promise<ArmResult> {
  return wrkArm(ctx, { id, label, work }, origin, paths, connections, inst, 'embedded stack', warm);
}

export async function ipxArm(
  ctx: ArmContext,
  id: string,
  label: string,
  work: string,
  ipxOrigin: string,
  paths: readonly string[],
  connections: number,
  inst: Instruments = {},
): Promise<ArmResult> {
  return wrkArm(ctx, { id, label, work }, ipxOrigin, paths, connections, inst, 'ipx server');
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
    const row = { id: 'bare', label: 'bare Fastify route, same bytes', work: `${body.length} B reply` };
    return await wrkArm(ctx, row, server.url, [path0], connections, { cpu: server.pid }, 'bare Fastify');
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
