import * as hdr from 'hdr-histogram-js';
import { parseServerTiming } from '../bench/stages.js';
import { STATUS_CLASSES, ERROR_CLASSES, type StatusClass } from './classify.js';
import { phaseAt, type PhaseWindow } from './schedule.js';

/** Latencies are recorded in microseconds; one hour is the ceiling. */
const MAX_TRACKABLE_US = 3_600_000_000;

/** The Generator stages a MISS reply's `Server-Timing` names (preprocessor/src/images.ts). */
export const STAGES = ['queue', 'invoke', 'fetch', 'render'] as const;
export type Stage = (typeof STAGES)[number];

export interface Outcome {
  /** Seconds into the run when the request was due (its arrival), which decides its phase. */
  arrivalS: number;
  latencyMs: number;
  cls: StatusClass;
  status: number;
  xCache?: string;
  /** What a CDN in front did: HIT, MISS, PASS (from its headers). */
  cdn?: string;
  /** The `Retry-After` header, as sent. */
  retryAfter?: string;
  /** The `Server-Timing` header of a reply that rendered (X-Cache: miss). */
  serverTiming?: string;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** One Generator stage over the renders of a phase (ms). */
export interface StageSummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

export type ClassCounts = Record<StatusClass, number>;

export interface PhaseSummary {
  name: string;
  /** A warm-up phase: reported, never judged, not part of the baseline. */
  warmup: boolean;
  startS: number;
  endS: number;
  /** Mean arrival rate the schedule asked for. */
  targetRps: number;
  sent: number;
  /** Replies of any kind per second of phase. */
  completedRps: number;
  classes: ClassCounts;
  statuses: Record<string, number>;
  xCache: Record<string, number>;
  /** CDN results by arrival (HIT, MISS, PASS), when the load went through one that says. */
  cdn: Record<string, number>;
  /** Latency (ms) of successful replies (200/304). */
  latency: LatencySummary;
  errorRate: number;
  shedRate: number;
  /** `Retry-After` values seen, with how often. */
  retryAfter: Record<string, number>;
  /** Generator stages of the renders this phase's requests caused (Server-Timing of X-Cache: miss replies). */
  stages: Record<Stage, StageSummary>;
}

export interface TimelinePoint {
  t: number;
  targetRps: number;
  sent: number;
  classes: ClassCounts;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

function zeroClasses(): ClassCounts {
  return Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as ClassCounts;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/**
 * Nearest-rank percentile of ascending `sorted` values: an observed value, so never above the
 * maximum nor below the minimum. Undefined for no values.
 */
export function percentileOf(sorted: readonly number[], percentile: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((percentile / 100) * sorted.length)));
  return sorted[rank - 1];
}

/**
 * An HDR histogram (3 significant digits) with the exact maximum and sum beside it. HDR reports a
 * percentile as the top of its bucket, which can lie above every value recorded (1,234,567 µs
 * recorded → p99 1,234,943 µs): percentiles are clamped to the exact maximum, and the mean is the
 * exact one.
 */
export class Latencies {
  private readonly h = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
  private maxUs = 0;
  private sumUs = 0;

  get count(): number {
    return this.h.totalCount;
  }

  record(latencyMs: number): void {
    const us = Math.max(1, Math.min(MAX_TRACKABLE_US, Math.round(latencyMs * 1000)));
    this.h.recordValue(us);
    this.maxUs = Math.max(this.maxUs, us);
    this.sumUs += us;
  }

  add(other: Latencies): void {
    this.h.add(other.h);
    this.maxUs = Math.max(this.maxUs, other.maxUs);
    this.sumUs += other.sumUs;
  }

  /** Percentile in ms, never above the largest value recorded; undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.h.totalCount === 0) return undefined;
    return round2(Math.min(this.h.getValueAtPercentile(p), this.maxUs) / 1000);
  }

  summary(): LatencySummary {
    const n = this.h.totalCount;
    if (n === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    const p = (x: number) => this.percentile(x) ?? 0;
    return {
      count: n,
      p50: p(50),
      p90: p(90),
      p95: p(95),
      p99: p(99),
      p999: p(99.9),
      max: round2(this.maxUs / 1000),
      mean: round2(this.sumUs / n / 1000),
    };
  }

  destroy(): void {
    this.h.destroy();
  }
}

function stageSummary(values: readonly number[]): StageSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { count: 0, mean: 0, p50: 0, p95: 0, max: 0 };
  return {
    count: n,
    mean: round2(sorted.reduce((s, v) => s + v, 0) / n),
    p50: round2(percentileOf(sorted, 50) ?? 0),
    p95: round2(percentileOf(sorted, 95) ?? 0),
    max: round2(sorted[n - 1] ?? 0),
  };
}

class PhaseAccumulator {
  readonly latencies = new Latencies();
  readonly classes = zeroClasses();
  readonly statuses: Record<string, number> = {};
  readonly xCache: Record<string, number> = {};
  readonly cdn: Record<string, number> = {};
  readonly retryAfter: Record<string, number> = {};
  readonly stages: Record<Stage, number[]> = { queue: [], invoke: [], fetch: [], render: [] };
  sent = 0;
}

class SecondAccumulator {
  readonly latencies = new Latencies();
  readonly classes = zeroClasses();
  sent = 0;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** Per-phase latency histograms and counts, and a per-second timeline, of one run. */
export class RunStats {
  private readonly phases: PhaseAccumulator[];
  private readonly seconds: SecondAccumulator[] = [];
  readonly total = new PhaseAccumulator();

  constructor(private readonly windows: readonly PhaseWindow[]) {
    this.phases = windows.map(() => new PhaseAccumulator());
  }

  record(o: Outcome): void {
    const phase = this.phases[phaseAt(this.windows, o.arrivalS).index];
    const second = this.second(o.arrivalS);
    // A CDN hit carries the headers the origin sent when the object was stored: not this request's.
    const fromOrigin = o.cdn !== 'HIT';
    const xCache = fromOrigin ? o.xCache : undefined;
    // Only the request that caused the render reports it: coalesced replies repeat the leader's timings.
    const timings = o.serverTiming !== undefined && xCache === 'miss' ? parseServerTiming(o.serverTiming) : undefined;
    for (const acc of [phase, this.total]) {
      if (!acc) continue;
      acc.sent++;
      acc.classes[o.cls]++;
      if (o.status > 0) bump(acc.statuses, String(o.status));
      if (xCache !== undefined) bump(acc.xCache, xCache);
      if (o.cdn !== undefined) bump(acc.cdn, o.cdn);
      if (o.retryAfter !== undefined) bump(acc.retryAfter, o.retryAfter);
      if (timings)
        for (const s of STAGES) {
          const v = timings.get(s);
          if (v !== undefined) acc.stages[s].push(v);
        }
    }
    second.sent++;
    second.classes[o.cls]++;
    if (o.cls === 'ok' || o.cls === 'notModified') {
      phase?.latencies.record(o.latencyMs);
      this.total.latencies.record(o.latencyMs);
      second.latencies.record(o.latencyMs);
    }
  }

  private second(arrivalS: number): SecondAccumulator {
    const i = Math.max(0, Math.floor(arrivalS));
    while (this.seconds.length <= i) this.seconds.push(new SecondAccumulator());
    return this.seconds[i] as SecondAccumulator;
  }

  /** Percentile (ms) of successful replies that arrived within [fromS, toS); undefined when none did. */
  windowPercentile(fromS: number, toS: number, percentile: number): number | undefined {
    const merged = new Latencies();
    for (let i = Math.max(0, Math.floor(fromS)); i < Math.min(this.seconds.length, Math.ceil(toS)); i++) {
      const s = this.seconds[i];
      if (s) merged.add(s.latencies);
    }
    const value = merged.percentile(percentile);
    merged.destroy();
    return value;
  }

  /** Replies of a class among arrivals within [fromS, toS). */
  windowCount(fromS: number, toS: number, cls: StatusClass): number {
    let n = 0;
    for (let i = Math.max(0, Math.floor(fromS)); i < Math.min(this.seconds.length, Math.ceil(toS)); i++)
      n += this.seconds[i]?.classes[cls] ?? 0;
    return n;
  }

  phaseSummaries(): PhaseSummary[] {
    return this.windows.map((w, i) =>
      toSummary(
        { name: w.name, warmup: w.warmup === true, startS: w.startS, endS: w.endS },
        (w.fromRate + w.toRate) / 2,
        this.phases[i] as PhaseAccumulator,
      ),
    );
  }

  totalSummary(): PhaseSummary {
    const last = this.windows[this.windows.length - 1];
    const endS = last?.endS ?? 0;
    const planned = this.windows.reduce((s, w) => s + ((w.fromRate + w.toRate) / 2) * w.durationS, 0);
    return toSummary({ name: 'all', warmup: false, startS: 0, endS }, endS > 0 ? planned / endS : 0, this.total);
  }

  timeline(rateAt: (tS: number) => number): TimelinePoint[] {
    return this.seconds.map((s, t) => {
      const l = s.latencies.summary();
      return {
        t,
        targetRps: round2(rateAt(t + 0.5)),
        sent: s.sent,
        classes: { ...s.classes },
        p50: l.p50,
        p90: l.p90,
        p95: l.p95,
        p99: l.p99,
      };
    });
  }
}

interface Span {
  name: string;
  warmup: boolean;
  startS: number;
  endS: number;
}

function toSummary(span: Span, targetRps: number, acc: PhaseAccumulator): PhaseSummary {
  const duration = Math.max(1e-9, span.endS - span.startS);
  const replies = acc.sent - acc.classes.dropped;
  const errors = ERROR_CLASSES.reduce((s, c) => s + acc.classes[c], 0);
  return {
    ...span,
    targetRps: round2(targetRps),
    sent: acc.sent,
    completedRps: round2(replies / duration),
    classes: { ...acc.classes },
    statuses: { ...acc.statuses },
    xCache: { ...acc.xCache },
    cdn: { ...acc.cdn },
    latency: acc.latencies.summary(),
    errorRate: acc.sent > 0 ? errors / acc.sent : 0,
    shedRate: acc.sent > 0 ? acc.classes.shed / acc.sent : 0,
    retryAfter: { ...acc.retryAfter },
    stages: {
      queue: stageSummary(acc.stages.queue),
      invoke: stageSummary(acc.stages.invoke),
      fetch: stageSummary(acc.stages.fetch),
      render: stageSummary(acc.stages.render),
    },
  };
}
