import t from 'tap';
import { classifyStatus } from '../runner/classify.js';
import { phaseWindows } from '../runner/schedule.js';
import { Latencies, RunStats, percentileOf } from '../runner/stats.js';
import { cdnResult } from '../runner/load.js';
import { measureRecovery } from '../runner/recovery.js';
import type { ScenarioDef } from '../scenarios/definitions.js';

const def: ScenarioDef = {
  name: 'test',
  description: 'test',
  baseRate: 10,
  phases: [
    { name: 'base', durationS: 10, fromX: 1, toX: 1 },
    { name: 'spike', durationS: 10, fromX: 20, toX: 20 },
    { name: 'recovery', durationS: 30, fromX: 1, toX: 1 },
  ],
  maxInFlight: 100,
  zipfS: 1,
  seed: 1,
  thresholds: { maxErrorRate: 0.01, maxShedRate: 0.01, p95Ms: 100, p99Ms: 200, maxMemoryGrowthMb: 64 },
};

t.test('status classes: shedding needs Retry-After to be shedding', async (t) => {
  const table: Array<[number, boolean, string]> = [
    [200, false, 'ok'],
    [304, false, 'notModified'],
    [308, false, 'redirect'],
    [503, true, 'shed'],
    [429, true, 'shed'],
    [503, false, 'serverError'],
    [429, false, 'clientError'],
    [404, false, 'clientError'],
    [502, true, 'serverError'],
  ];
  for (const [status, retryAfter, cls] of table)
    t.equal(classifyStatus(status, retryAfter), cls, `${status} retry-after=${retryAfter}`);
});

t.test('per-phase HDR percentiles, counts and the timeline', async (t) => {
  const stats = new RunStats(phaseWindows(def));
  // Base: 100 replies of 1..100 ms. Spike: 50 at 500 ms, 10 shed, 2 errors. Recovery: 10 ms.
  for (let i = 1; i <= 100; i++)
    stats.record({ arrivalS: (i - 1) / 10, latencyMs: i, cls: 'ok', status: 200, xCache: i % 2 ? 'hit' : 'miss' });
  for (let i = 0; i < 50; i++) stats.record({ arrivalS: 10 + i / 5, latencyMs: 500, cls: 'ok', status: 200 });
  for (let i = 0; i < 10; i++) stats.record({ arrivalS: 12, latencyMs: 1, cls: 'shed', status: 503 });
  stats.record({ arrivalS: 13, latencyMs: 3, cls: 'serverError', status: 500 });
  stats.record({ arrivalS: 13, latencyMs: 3000, cls: 'networkError', status: 0 });
  for (let i = 0; i < 300; i++) stats.record({ arrivalS: 20 + i / 10, latencyMs: 10, cls: 'ok', status: 200 });

  const [base, spike, recovery] = stats.phaseSummaries();
  t.equal(base?.sent, 100);
  t.ok(Math.abs((base?.latency.p50 ?? 0) - 50) <= 0.1, `p50 ${base?.latency.p50}`);
  t.ok(Math.abs((base?.latency.p99 ?? 0) - 99) <= 0.1, `p99 ${base?.latency.p99}`);
  t.same(base?.xCache, { hit: 50, miss: 50 });
  t.equal(spike?.classes.shed, 10);
  t.equal(spike?.classes.serverError, 1);
  t.equal(spike?.classes.networkError, 1);
  t.same(spike?.statuses, { '200': 50, '503': 10, '500': 1 }, 'network errors have no status');
  t.ok(Math.abs((spike?.latency.p50 ?? 0) - 500) < 1, 'shed and failed replies stay out of the latency');
  t.equal(spike?.errorRate, 2 / 62);
  t.equal(spike?.shedRate, 10 / 62);
  t.ok(Math.abs((recovery?.latency.p99 ?? 0) - 10) < 0.02, 'HDR keeps 3 significant digits');
  t.ok(Math.abs((base?.latency.p95 ?? 0) - 95) <= 0.1, `p95 ${base?.latency.p95}`);
  t.equal(base?.latency.max, 100);
  t.equal(base?.latency.mean, 50.5, 'the exact mean');
  t.same(spike?.retryAfter, {}, 'no Retry-After header recorded');
  t.equal(stats.totalSummary().sent, 462);
  const tl = stats.timeline(() => 10);
  t.equal(tl.length, 50);
  t.equal(tl[12]?.classes.shed, 10);
  t.equal(
    tl.reduce((s, p) => s + p.sent, 0),
    462,
  );
});

t.test('recovery: seconds after the spike until latency is back under the bar', async (t) => {
  const stats = new RunStats(phaseWindows(def));
  for (let s = 0; s < 10; s++)
    for (let i = 0; i < 10; i++) stats.record({ arrivalS: s + i / 10, latencyMs: 20, cls: 'ok', status: 200 });
  for (let s = 10; s < 20; s++)
    for (let i = 0; i < 10; i++) stats.record({ arrivalS: s + i / 10, latencyMs: 2000, cls: 'ok', status: 200 });
  // Slow for 7 more seconds after the spike, then back to 20 ms.
  for (let s = 20; s < 50; s++)
    for (let i = 0; i < 10; i++)
      stats.record({ arrivalS: s + i / 10, latencyMs: s < 27 ? 900 : 20, cls: 'ok', status: 200 });
  const r = measureRecovery(stats, phaseWindows(def));
  t.ok(Math.abs((r.baselineP95Ms ?? 0) - 20) < 0.05, `baseline p95 ${r.baselineP95Ms}`);
  t.ok(Math.abs((r.thresholdMs ?? 0) - 45) < 0.05, 'bar: baseline + 25 ms');
  t.equal(r.spikeEndS, 20);
  t.equal(r.recoveredAfterS, 7);
});

t.test('recovery is undefined for a scenario without a spike', async (t) => {
  const flat: ScenarioDef = { ...def, phases: [{ name: 'steady', durationS: 10, fromX: 1, toX: 1 }] };
  const r = measureRecovery(new RunStats(phaseWindows(flat)), phaseWindows(flat));
  t.equal(r.recoveredAfterS, undefined);
});

t.test('no percentile above the maximum, whatever the bucket', async (t) => {
  // HDR keeps 3 significant digits: 1,234.567 ms falls in a bucket whose top is 1,234.943 ms.
  const l = new Latencies();
  for (let i = 0; i < 50; i++) l.record(5);
  l.record(1234.567);
  const s = l.summary();
  t.equal(s.max, 1234.57);
  for (const q of ['p50', 'p90', 'p95', 'p99', 'p999'] as const) t.ok(s[q] <= s.max, `${q} ${s[q]} ≤ max ${s.max}`);
  t.equal(s.p999, s.max, 'the top percentile is the maximum itself, not its bucket');
  // Random samples: every percentile of every size stays within [min, max].
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 5000;
  for (const n of [1, 2, 3, 10, 99, 1000]) {
    const h = new Latencies();
    const values = Array.from({ length: n }, rand);
    values.forEach((v) => h.record(v));
    const max = Math.max(...values);
    for (const p of [50, 90, 95, 99, 99.9, 100]) {
      const v = h.percentile(p) ?? Infinity;
      t.ok(v <= Math.round(max * 100) / 100 + 0.005, `n=${n} p${p} ${v} ≤ ${max}`);
    }
    h.destroy();
  }
  l.destroy();
});

t.test('nearest-rank percentiles are observed values', async (t) => {
  t.equal(percentileOf([], 50), undefined);
  t.equal(percentileOf([7], 99), 7);
  t.equal(percentileOf([1, 2, 3, 4], 50), 2);
  t.equal(percentileOf([1, 2, 3, 4], 95), 4);
  t.equal(percentileOf([1, 2, 3, 4], 100), 4);
  t.equal(percentileOf([1, 2, 3, 4], 0), 1);
});

t.test('Retry-After values and Server-Timing stages are kept per phase', async (t) => {
  const stats = new RunStats(phaseWindows(def));
  stats.record({ arrivalS: 11, latencyMs: 1, cls: 'shed', status: 503, retryAfter: '1' });
  stats.record({ arrivalS: 11, latencyMs: 1, cls: 'shed', status: 503, retryAfter: '1' });
  stats.record({ arrivalS: 12, latencyMs: 1, cls: 'shed', status: 429, retryAfter: '2' });
  const timing = (render: number) => `queue;dur=3, invoke;dur=${render + 10}, fetch;dur=2, render;dur=${render}`;
  for (const render of [40, 50, 60])
    stats.record({ arrivalS: 12, latencyMs: 80, cls: 'ok', status: 200, xCache: 'miss', serverTiming: timing(render) });
  // A coalesced reply repeats its leader's timings: not another render.
  stats.record({ arrivalS: 12, latencyMs: 80, cls: 'ok', status: 200, xCache: 'coalesced', serverTiming: timing(999) });
  const spike = stats.phaseSummaries()[1];
  t.same(spike?.retryAfter, { '1': 2, '2': 1 });
  t.equal(spike?.stages.render.count, 3);
  t.equal(spike?.stages.render.mean, 50);
  t.equal(spike?.stages.render.p50, 50);
  t.equal(spike?.stages.render.p95, 60);
  t.equal(spike?.stages.queue.mean, 3);
  t.equal(spike?.stages.fetch.max, 2);
  t.equal(spike?.stages.invoke.p95, 70);
});

t.test('the warm-up is reported but kept out of the baseline', async (t) => {
  const withWarmup: ScenarioDef = {
    ...def,
    phases: [{ name: 'warm-up', durationS: 10, fromX: 1, toX: 1, warmup: true }, ...def.phases],
  };
  const windows = phaseWindows(withWarmup);
  const stats = new RunStats(windows);
  // Warm-up: cold environments, 3 s each. Base: 20 ms. Spike: 2 s. After: 20 ms.
  const at = (from: number, to: number, ms: number) => {
    for (let s = from; s < to; s++)
      for (let i = 0; i < 10; i++) stats.record({ arrivalS: s + i / 10, latencyMs: ms, cls: 'ok', status: 200 });
  };
  at(0, 10, 3000);
  at(10, 20, 20);
  at(20, 30, 2000);
  at(30, 60, 20);
  const phases = stats.phaseSummaries();
  t.equal(phases[0]?.warmup, true, 'the warm-up is flagged');
  t.equal(phases[0]?.latency.p50, 3000, 'and reported');
  t.equal(phases[1]?.warmup, false);
  const r = measureRecovery(stats, windows);
  t.ok(
    Math.abs((r.baselineP95Ms ?? 0) - 20) < 0.05,
    `baseline p95 ${r.baselineP95Ms} ms: the warm-up's 3 s are not in it`,
  );
  t.equal(r.recoveredAfterS, 0);
  t.equal(stats.totalSummary().latency.max, 3000, 'the total still holds every request');
});

t.test('recovery never seen is null; a run too short to judge it says so', async (t) => {
  const stats = new RunStats(phaseWindows(def));
  for (let s = 0; s < 50; s++)
    for (let i = 0; i < 10; i++)
      stats.record({ arrivalS: s + i / 10, latencyMs: s < 10 ? 20 : 900, cls: 'ok', status: 200 });
  const r = measureRecovery(stats, phaseWindows(def));
  t.equal(r.recoveredAfterS, null);
  t.equal(r.windowS, 5);
  const short: ScenarioDef = { ...def, phases: [...def.phases.slice(0, 2), { ...def.phases[2]!, durationS: 6 }] };
  const tooShort = measureRecovery(new RunStats(phaseWindows(short)), phaseWindows(short));
  t.match(tooShort.unjudgeable, /6\.0 s after the spike, shorter than two 5-s windows/);
  const slow: ScenarioDef = { ...def, baseRate: 1 };
  const sparse = measureRecovery(new RunStats(phaseWindows(slow)), phaseWindows(slow));
  t.equal(sparse.windowS, 10, 'at 1/s a window is widened to hold 10 replies');
  t.equal(sparse.unjudgeable, undefined, '30 s after the spike holds two of them');
  const fewBase: ScenarioDef = { ...def, baseRate: 0.5 };
  t.match(
    measureRecovery(new RunStats(phaseWindows(fewBase)), phaseWindows(fewBase)).unjudgeable,
    /base phase expects 5 replies/,
  );
});

t.test('through a CDN: its result by arrival, and a hit is not an origin render', async (t) => {
  t.equal(cdnResult('HIT', 'miss'), 'HIT', "Varnish's X-CDN");
  t.equal(cdnResult(undefined, 'Hit from cloudfront'), 'HIT');
  t.equal(cdnResult(undefined, 'RefreshHit from cloudfront'), 'HIT');
  t.equal(cdnResult(undefined, 'Miss from cloudfront'), 'MISS');
  t.equal(cdnResult(undefined, 'miss'), undefined, "the origin's own X-Cache is no CDN");
  const stats = new RunStats(phaseWindows(def));
  const timing = 'queue;dur=1, invoke;dur=50, fetch;dur=2, render;dur=40';
  stats.record({
    arrivalS: 1,
    latencyMs: 60,
    cls: 'ok',
    status: 200,
    cdn: 'MISS',
    xCache: 'miss',
    serverTiming: timing,
  });
  // The stored object still says X-Cache: miss and carries its Server-Timing: served by the CDN, rendered by no one.
  for (let i = 0; i < 3; i++)
    stats.record({
      arrivalS: 2,
      latencyMs: 1,
      cls: 'ok',
      status: 200,
      cdn: 'HIT',
      xCache: 'miss',
      serverTiming: timing,
    });
  const base = stats.phaseSummaries()[0];
  t.same(base?.cdn, { MISS: 1, HIT: 3 });
  t.equal(base?.stages.render.count, 1, 'one render');
  t.same(base?.xCache, { miss: 1 }, "the origin's X-Cache of CDN hits is not counted");
});
