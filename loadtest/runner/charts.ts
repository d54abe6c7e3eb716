// The report's charts: throughput, replies by class, latency percentiles (with a baseline run's
// dashed), what reached the origin, CPU, memory, Generator slots, the phases shaded on each.
import { STATUS_CLASSES, type StatusClass } from './classify.js';
import type { RunReport } from './run.js';
import { chart, type Band, type Series } from './svg.js';
import { coresBetween, type CoresBusy, type UsagePoint } from './usage.js';

const CLASS_COLORS: Record<StatusClass, string> = {
  ok: '#2e9e4f',
  notModified: '#7cc48f',
  redirect: '#5b8def',
  shed: '#f0a030',
  clientError: '#b05fd0',
  serverError: '#d33',
  networkError: '#800',
  dropped: '#999',
};

/** What each status class is called in a legend or a table. */
const CLASS_NAMES: Record<StatusClass, string> = {
  ok: '200 OK',
  notModified: '304 Not Modified',
  redirect: '308 redirect',
  shed: 'shed (429/503 + Retry-After)',
  clientError: 'other 4xx',
  serverError: '5xx without Retry-After',
  networkError: 'network error / time-out',
  dropped: 'dropped by the load generator',
};

function bands(r: RunReport): Band[] {
  return r.windows.map((w) => ({ name: w.name, from: w.startS, to: w.endS }));
}

/** The baseline run's latency timeline, for the dashed lines. */
function baselineTimeline(r: RunReport, q: 'p95' | 'p99'): Array<readonly [number, number]> {
  return (r.comparison?.timeline ?? []).filter((p) => p[q] > 0).map((p) => [p.t, p[q]] as const);
}

/** The charts of a run: throughput, status, latency, origin, CPU, memory, Generator slots. */
export function charts(r: RunReport): string[] {
  const xMax = Math.max(r.windows[r.windows.length - 1]?.endS ?? 0, r.timeline.length);
  const b = bands(r);
  const tl = r.timeline;
  const throughput: Series[] = [
    { name: 'target arrival rate', color: '#333', points: tl.map((p) => [p.t, p.targetRps] as const) },
    { name: 'requests sent', color: '#5b8def', points: tl.map((p) => [p.t, p.sent] as const) },
    {
      name: 'successful (200/304)',
      color: CLASS_COLORS.ok,
      points: tl.map((p) => [p.t, p.classes.ok + p.classes.notModified] as const),
    },
    { name: CLASS_NAMES.shed, color: CLASS_COLORS.shed, points: tl.map((p) => [p.t, p.classes.shed] as const) },
  ];
  const status: Series[] = STATUS_CLASSES.filter((c) => tl.some((p) => p.classes[c] > 0)).map((c) => ({
    name: CLASS_NAMES[c],
    color: CLASS_COLORS[c],
    points: tl.map((p) => [p.t, p.classes[c]] as const),
  }));
  const lat = (q: 'p50' | 'p90' | 'p95' | 'p99') => tl.filter((p) => p[q] > 0).map((p) => [p.t, p[q]] as const);
  const latency: Series[] = [
    { name: 'p50', color: '#2e9e4f', points: lat('p50') },
    { name: 'p90', color: '#f0a030', points: lat('p90') },
    { name: 'p95', color: '#b05fd0', points: lat('p95') },
    { name: 'p99', color: '#d33', points: lat('p99') },
    { name: 'p95, baseline run', color: '#b05fd0', dashed: true, points: baselineTimeline(r, 'p95') },
    { name: 'p99, baseline run', color: '#d33', dashed: true, points: baselineTimeline(r, 'p99') },
  ];
  const pts = r.metrics.points;
  const rate = (f: (p: (typeof pts)[number]) => number) =>
    pts.slice(1).map((p, i) => {
      const prev = pts[i] as (typeof pts)[number];
      return [p.t, Math.max(0, (f(p) - f(prev)) / Math.max(0.001, p.t - prev.t))] as const;
    });
  const origin: Series[] = [
    { name: 'origin requests/s (artwork route)', color: '#333', points: rate((p) => p.originRequests ?? 0) },
    { name: 'Generator renders/s', color: '#d33', points: rate((p) => p.generatorInvocations) },
    { name: 'renders kept (asked to store)/s', color: '#b05fd0', points: rate((p) => p.storeWrites ?? 0) },
    { name: 'output cache hits/s', color: '#2e9e4f', points: rate((p) => p.cacheHits) },
    { name: 'coalesced/s', color: '#5b8def', points: rate((p) => p.cacheCoalesced) },
    { name: 'shed by the Preprocessor/s', color: '#f0a030', points: rate((p) => p.shed) },
  ];
  const up = r.usage.points;
  const steps = up
    .slice(1)
    .map((p, i) => [p.t, coresBetween(up[i] as UsagePoint, p)] as const)
    .filter((x): x is readonly [number, CoresBusy] => x[1] !== undefined);
  const cores = (f: (c: CoresBusy) => number | undefined) =>
    steps.flatMap(([t, c]) => {
      const v = f(c);
      return v === undefined ? [] : [[t, v] as const];
    });
  const cpu: Series[] = [
    { name: 'machine (everything on the host)', color: '#999', points: cores((c) => c.machine) },
    { name: 'stack tree (with the Generator environments)', color: '#d33', points: cores((c) => c.stackTree) },
    {
      name: 'stack main process (Preprocessor, s3rver, Lambda endpoint)',
      color: '#5b8def',
      points: cores((c) => c.stackMain),
    },
    { name: 'load generator', color: '#2e9e4f', points: cores((c) => c.loadGen) },
  ];
  const memory: Series[] = [
    { name: 'Preprocessor RSS (MB)', color: '#333', points: pts.map((p) => [p.t, p.rssBytes / 1048576] as const) },
    { name: 'output cache (MB)', color: '#5b8def', points: pts.map((p) => [p.t, p.cacheBytes / 1048576] as const) },
  ];
  const slots: Series[] = [
    { name: 'Generator calls in flight', color: '#d33', points: pts.map((p) => [p.t, p.generatorInFlight] as const) },
    {
      name: 'renders queued for a slot',
      color: '#f0a030',
      points: pts.map((p) => [p.t, p.generatorQueued ?? 0] as const),
    },
  ];
  const c = (title: string, yLabel: string, series: Series[], extra: { stacked?: boolean; log?: boolean } = {}) =>
    chart({ title, yLabel, xMax, series, bands: b, ...extra });
  return [
    c('Throughput by arrival second', 'requests/s', throughput),
    c('Replies by class, by arrival second', 'replies', status, { stacked: true }),
    c('Latency percentiles of 200/304 by arrival second (log scale)', 'ms', latency, { log: true }),
    c('What reached the origin (Preprocessor /metrics)', 'per second', origin),
    c('CPU (cores busy)', 'cores', cpu),
    c('Preprocessor memory', 'MB', memory),
    c('Generator slots', 'calls', slots),
  ];
}
