import t from 'tap';
import { classifyStatus } from '../runner/classify.js';
import { phaseWindows } from '../runner/schedule.js';
import { RunStats } from '../runner/stats.js';
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
  thresholds: { maxErrorRate: 0.01, p95Ms: 100, p99Ms: 200 },
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
