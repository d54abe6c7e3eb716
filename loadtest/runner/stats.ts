import * as hdr from 'hdr-histogram-js';
import { STATUS_CLASSES, ERROR_CLASSES, type StatusClass } from './classify.js';
import { phaseAt, type PhaseWindow } from './schedule.js';

/** Latencies are recorded in microseconds; one hour is the ceiling. */
const MAX_TRACKABLE_US = 3_600_000_000;

export interface Outcome {
  /** Seconds into the run when the request was due (its arrival), which decides its phase. */
  arrivalS: number;
  latencyMs: number;
  cls: StatusClass;
  status: number;
  xCache?: string;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export type ClassCounts = Record<StatusClass, number>;

export interface PhaseSummary {
  name: string;
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
  /** Latency (ms) of successful replies (200/304). */
  latency: LatencySummary;
  errorRate: number;
  shedRate: number;
}

export interface TimelinePoint {
  t: number;
  targetRps: number;
  sent: number;
  classes: ClassCounts;
  p50: number;
  p90: number;
  p99: number;
}

function zeroClasses(): ClassCounts {
  return Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as ClassCounts;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: MAX_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
  });
}

function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us / 10) / 100;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

class PhaseAccumulator {
  readonly histogram = newHistogram();
  readonly classes = zeroClasses();
  readonly statuses: Record<string, number> = {};
  readonly xCache: Record<string, number> = {};
  sent = 0;
}

class SecondAccumulator {
  readonly histogram = newHistogram();
  readonly classes = zeroClasses();
  sent = 0;
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** Per-phase HDR histograms and counts, and a per-second timeline, of one run. */
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
    for (const acc of [phase, this.total]) {
      if (!acc) continue;
      acc.sent++;
      acc.classes[o.cls]++;
      if (o.status > 0) bump(acc.statuses, String(o.status));
      if (o.xCache !== undefined) bump(acc.xCache, o.xCache);
    }
    second.sent++;
    second.classes[o.cls]++;
    if (o.cls === 'ok' || o.cls === 'notModified') {
      const us = Math.max(1, Math.min(MAX_TRACKABLE_US, Math.round(o.latencyMs * 1000)));
      phase?.histogram.recordValue(us);
      this.total.histogram.recordValue(us);
      second.histogram.recordValue(us);
    }
  }

  private second(arrivalS: number): SecondAccumulator {
    const i = Math.max(0, Math.floor(arrivalS));
    while (this.seconds.length <= i) this.seconds.push(new SecondAccumulator());
    return this.seconds[i] as SecondAccumulator;
  }

  /** Percentile (ms) of successful replies that arrived within [fromS, toS); undefined when none did. */
  windowPercentile(fromS: number, toS: number, percentile: number): number | undefined {
    const merged = newHistogram();
    for (let i = Math.max(0, Math.floor(fromS)); i < Math.min(this.seconds.length, Math.ceil(toS)); i++) {
      const s = this.seconds[i];
      if (s) merged.add(s.histogram);
    }
    const value = merged.totalCount > 0 ? Math.round(merged.getValueAtPercentile(percentile) / 10) / 100 : undefined;
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
      toSummary(w.name, w.startS, w.endS, (w.fromRate + w.toRate) / 2, this.phases[i] as PhaseAccumulator),
    );
  }

  totalSummary(): PhaseSummary {
    const last = this.windows[this.windows.length - 1];
    const endS = last?.endS ?? 0;
    const planned = this.windows.reduce((s, w) => s + ((w.fromRate + w.toRate) / 2) * w.durationS, 0);
    return toSummary('total', 0, endS, endS > 0 ? planned / endS : 0, this.total);
  }

  timeline(rateAt: (tS: number) => number): TimelinePoint[] {
    return this.seconds.map((s, t) => {
      const l = summarize(s.histogram);
      return {
        t,
        targetRps: Math.round(rateAt(t + 0.5) * 100) / 100,
        sent: s.sent,
        classes: { ...s.classes },
        p50: l.p50,
        p90: l.p90,
        p99: l.p99,
      };
    });
  }
}

function toSummary(name: string, startS: number, endS: number, targetRps: number, acc: PhaseAccumulator): PhaseSummary {
  const duration = Math.max(1e-9, endS - startS);
  const replies = acc.sent - acc.classes.dropped;
  const errors = ERROR_CLASSES.reduce((s, c) => s + acc.classes[c], 0);
  return {
    name,
    startS,
    endS,
    targetRps: Math.round(targetRps * 100) / 100,
    sent: acc.sent,
    completedRps: Math.round((replies / duration) * 100) / 100,
    classes: { ...acc.classes },
    statuses: { ...acc.statuses },
    xCache: { ...acc.xCache },
    latency: summarize(acc.histogram),
    errorRate: acc.sent > 0 ? errors / acc.sent : 0,
    shedRate: acc.sent > 0 ? acc.classes.shed / acc.sent : 0,
  };
}
