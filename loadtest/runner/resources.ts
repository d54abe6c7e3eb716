// What the server side did in each phase, from the samples taken once a second: the Preprocessor's
// /metrics (origin requests, Generator invocations, its own timings, memory) and CPU. Counters are
// read at the samples nearest each phase's bounds, so a figure covers the work *completed* in about
// that span (the latency tables go by arrival).
import type { MetricsPoint } from './metrics.js';
import type { PhaseWindow } from './schedule.js';
import { coresBetween, type CoresBusy, type UsagePoint } from './usage.js';

export interface PhaseResources {
  name: string;
  /** Requests the origin's artwork route answered, and per second. */
  originRequests?: number;
  originRps?: number;
  /** Through a CDN: the share of the load's requests the CDN answered (1 − origin / sent). */
  cdnHitRatio?: number;
  /** Render invocations (/metrics: the Preprocessor's count, throttled attempts aside). */
  generatorInvocations?: number;
  invocationsPerS?: number;
  /** Renders the Generator was asked to keep (it PUTs each itself after its reply: no invocation of its own). */
  storeWrites?: number;
  storeWritesPerS?: number;
  /** Mean Generator call (ms) as the Preprocessor timed it (marquee_generator_duration_seconds). */
  generatorCallMs?: number;
  /** Mean ms per stage from the Preprocessor's per-stage histogram, when it exports one. */
  stageMsFromMetrics?: Record<string, number>;
  inFlightMax?: number;
  queuedMax?: number;
  rssMaxBytes?: number;
  cpu?: CoresBusy;
  /** CPU ms of the stack's main process per origin request (Preprocessor + s3rver + Lambda endpoint). */
  stackMainCpuMsPerRequest?: number;
}

interface Timed {
  t: number;
}

/** The last sample at or before `fromS` and the first at or after `toS` (the nearest ones inside otherwise). */
export function bracket<T extends Timed>(points: readonly T[], fromS: number, toS: number): [T, T] | undefined {
  if (points.length < 2) return undefined;
  let a = points[0] as T;
  for (const p of points) if (p.t <= fromS + 1e-9) a = p;
  let b = points[points.length - 1] as T;
  for (let i = points.length - 1; i >= 0; i--) {
    const p = points[i] as T;
    if (p.t >= toS - 1e-9) b = p;
  }
  return b.t > a.t ? [a, b] : undefined;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function metricsFigures(points: readonly MetricsPoint[], w: PhaseWindow, sent: number): Partial<PhaseResources> {
  const span = bracket(points, w.startS, w.endS);
  if (!span) return {};
  const [a, b] = span;
  const dt = b.t - a.t;
  const origin = b.originRequests - a.originRequests;
  const invocations = b.generatorInvocations - a.generatorInvocations;
  const calls = b.generatorCalls - a.generatorCalls;
  const inside = points.filter((p) => p.t >= a.t && p.t <= b.t);
  const stageMs: Record<string, number> = {};
  for (const [stage, end] of Object.entries(b.stageSeconds)) {
    const start = a.stageSeconds[stage] ?? { sum: 0, count: 0 };
    const n = end.count - start.count;
    if (n > 0) stageMs[stage] = r2(((end.sum - start.sum) * 1000) / n);
  }
  return {
    originRequests: origin,
    originRps: r2(origin / dt),
    ...(sent > 0 ? { cdnHitRatio: Math.max(0, 1 - origin / sent) } : {}),
    generatorInvocations: invocations,
    invocationsPerS: r2(invocations / dt),
    storeWrites: (b.storeWrites ?? 0) - (a.storeWrites ?? 0),
    storeWritesPerS: r2(((b.storeWrites ?? 0) - (a.storeWrites ?? 0)) / dt),
    ...(calls > 0 ? { generatorCallMs: r2(((b.generatorSeconds - a.generatorSeconds) * 1000) / calls) } : {}),
    ...(Object.keys(stageMs).length > 0 ? { stageMsFromMetrics: stageMs } : {}),
    inFlightMax: Math.max(...inside.map((p) => p.generatorInFlight)),
    queuedMax: Math.max(...inside.map((p) => p.generatorQueued)),
    rssMaxBytes: Math.max(...inside.map((p) => p.rssBytes)),
  };
}

/**
 * Per-phase server-side figures. `sent` per phase (by arrival) gives the CDN hit ratio when the
 * load went through one (`throughCdn`); without a CDN every request reaches the origin.
 */
export function phaseResources(
  windows: readonly PhaseWindow[],
  sentByPhase: readonly number[],
  metrics: readonly MetricsPoint[],
  usage: readonly UsagePoint[],
  throughCdn: boolean,
): PhaseResources[] {
  return windows.map((w, i) => {
    const m = metricsFigures(metrics, w, throughCdn ? (sentByPhase[i] ?? 0) : 0);
    const u = bracket(usage, w.startS, w.endS);
    const cpu = u ? coresBetween(u[0], u[1]) : undefined;
    const perRequest =
      cpu?.stackMainMs !== undefined && m.originRequests ? r2(cpu.stackMainMs / m.originRequests) : undefined;
    return {
      name: w.name,
      ...m,
      ...(cpu ? { cpu } : {}),
      ...(perRequest !== undefined ? { stackMainCpuMsPerRequest: perRequest } : {}),
    };
  });
}

export interface MemoryGrowth {
  /** RSS net of the output cache at the first sample after the warm-up, and at the end (bytes). */
  startNetBytes: number;
  endNetBytes: number;
  growthBytes: number;
  fromS: number;
  toS: number;
}

/**
 * Growth of the Preprocessor's memory net of its output cache (which is bounded and meant to
 * fill): from the first sample at or after the warm-up's end to the last sample.
 */
export function memoryGrowth(points: readonly MetricsPoint[], afterS: number): MemoryGrowth | undefined {
  const withRss = points.filter((p) => p.rssBytes > 0);
  const start = withRss.find((p) => p.t >= afterS - 1e-9) ?? withRss[0];
  const end = withRss[withRss.length - 1];
  if (!start || !end || end === start) return undefined;
  const net = (p: MetricsPoint) => p.rssBytes - p.cacheBytes;
  return {
    startNetBytes: net(start),
    endNetBytes: net(end),
    growthBytes: net(end) - net(start),
    fromS: start.t,
    toS: end.t,
  };
}
