import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { ScenarioDef } from '../scenarios/definitions.js';
import type { RequestKey } from '../scenarios/universe.js';
import { ZipfSampler, mulberry32 } from '../scenarios/zipf.js';
import { classifyStatus } from './classify.js';
import { cumulativeArrivals, phaseWindows, rateAt, type PhaseWindow } from './schedule.js';
import { RunStats } from './stats.js';

/** How often the arrival loop wakes; arrivals due within a tick go out together. */
const TICK_MS = 4;

export interface Reply {
  key: RequestKey;
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export interface LoadOptions {
  baseUrl: string;
  scenario: ScenarioDef;
  /** The universe, most popular first; a Zipf draws from it. */
  keys: readonly RequestKey[];
  /** Per-request deadline (headers and body). */
  timeoutMs?: number;
  /** Called with each 200 reply; bodies are otherwise read and dropped. */
  onReply?: (reply: Reply) => void;
  /** Called about once a second while the load runs. */
  onTick?: (live: LiveState) => void;
  /** Called with `performance.now()` of second 0 of the schedule: samplers share the load's clock. */
  onStart?: (startMs: number) => void;
  signal?: AbortSignal;
}

export interface LiveState {
  tS: number;
  phase: PhaseWindow;
  targetRps: number;
  sent: number;
  inFlight: number;
  stats: RunStats;
}

export interface LoadResult {
  stats: RunStats;
  windows: PhaseWindow[];
  uniqueKeys: number;
  sent: number;
  durationS: number;
  /** Requests still unanswered when the drain deadline passed (counted as network errors). */
  abandoned: number;
}

/**
 * What the CDN did with a request, from its headers: the embedded Varnish sets `X-CDN: HIT|MISS|PASS`
 * (infra/local/cdn/marquee.vcl); CloudFront writes `X-Cache: Hit from cloudfront` (over the origin's).
 */
export function cdnResult(xCdn: string | undefined, xCache: string | undefined): string | undefined {
  if (xCdn !== undefined) return xCdn.toUpperCase();
  const cf = xCache !== undefined ? /^(\w+) from cloudfront/i.exec(xCache) : null;
  if (!cf) return undefined;
  const kind = (cf[1] ?? '').toLowerCase();
  return kind === 'hit' || kind === 'refreshhit' ? 'HIT' : kind === 'miss' ? 'MISS' : kind.toUpperCase();
}

/**
 * The open-model generator: request n leaves when the schedule's integral passes n, however slow
 * the replies are; past `maxInFlight` an arrival is dropped and counted (as k6 does past maxVUs).
 * Latency is measured from the arrival, so queueing anywhere shows up in it.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const windows = phaseWindows(o.scenario);
  const endS = windows[windows.length - 1]?.endS ?? 0;
  const stats = new RunStats(windows);
  const sampler = new ZipfSampler(o.keys.length, o.scenario.zipfS, mulberry32(o.scenario.seed));
  const url = new URL(o.baseUrl);
  const prefix = url.pathname.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 30_000;
  const pool = new Pool(url.origin, {
    connections: o.scenario.maxInFlight,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const unique = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;

  const fire = (key: RequestKey, arrivalS: number, arrivalMs: number): void => {
    sent++;
    unique.add(`${key.path}\n${key.accept}`);
    if (inFlight.size >= o.scenario.maxInFlight) {
      stats.record({ arrivalS, latencyMs: 0, cls: 'dropped', status: 0 });
      return;
    }
    const p = pool
      .request({ path: prefix + key.path, method: 'GET', headers: { accept: key.accept } })
      .then(async (res) => {
        const body = Buffer.from(await res.body.arrayBuffer());
        const latencyMs = performance.now() - arrivalMs;
        const header = (name: string) => {
          const v = res.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        const xCache = header('x-cache');
        const cdn = cdnResult(header('x-cdn'), xCache);
        const retryAfter = header('retry-after');
        const serverTiming = header('server-timing');
        stats.record({
          arrivalS,
          latencyMs,
          status: res.statusCode,
          cls: classifyStatus(res.statusCode, retryAfter !== undefined),
          ...(cdn !== undefined ? { cdn } : {}),
          ...(xCache !== undefined && !/from cloudfront/i.test(xCache) ? { xCache } : {}),
          ...(retryAfter !== undefined ? { retryAfter } : {}),
          ...(serverTiming !== undefined ? { serverTiming } : {}),
        });
        if (res.statusCode === 200)
          o.onReply?.({ key, status: res.statusCode, contentType: header('content-type'), body });
      })
      .catch(() => {
        stats.record({ arrivalS, latencyMs: performance.now() - arrivalMs, cls: 'networkError', status: 0 });
      })
      .finally(() => {
        inFlight.delete(p);
      });
    inFlight.add(p);
  };

  const startMs = performance.now();
  o.onStart?.(startMs);
  let lastTick = -1;
  await new Promise<void>((resolve) => {
    const loop = () => {
      const nowMs = performance.now();
      const tS = (nowMs - startMs) / 1000;
      if (tS >= endS || o.signal?.aborted) {
        resolve();
        return;
      }
      const due = Math.floor(cumulativeArrivals(windows, tS) + 1e-9);
      while (sent < due) {
        const key = o.keys[sampler.sample()];
        if (key) fire(key, tS, nowMs);
        else sent++;
      }
      const second = Math.floor(tS);
      if (second !== lastTick && o.onTick) {
        lastTick = second;
        o.onTick({
          tS,
          phase: windows.find((w) => tS < w.endS) ?? (windows[0] as PhaseWindow),
          targetRps: rateAt(windows, tS),
          sent,
          inFlight: inFlight.size,
          stats,
        });
      }
      setTimeout(loop, TICK_MS);
    };
    loop();
  });

  // Drain: every request gets its own deadline; past it, stop waiting.
  const drained = await Promise.race([
    Promise.allSettled([...inFlight]).then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs + 1000).unref()),
  ]);
  const abandoned = drained ? 0 : inFlight.size;
  await pool.destroy().catch(() => undefined);
  return { stats, windows, uniqueKeys: unique.size, sent, durationS: (performance.now() - startMs) / 1000, abandoned };
}
