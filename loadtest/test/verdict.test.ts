// The verdict logic on synthetic phases: each check passes when the figure is within its limit and
// fails when it is not; the warm-up is never judged; a limit turned off is not checked.
import t from 'tap';
import type { ScenarioDef } from '../scenarios/definitions.js';
import type { Recovery } from '../runner/recovery.js';
import type { MemoryGrowth } from '../runner/resources.js';
import type { ClassCounts, PhaseSummary } from '../runner/stats.js';
import {
  phaseChecks,
  propertyChecks,
  runChecks,
  storeCheck,
  verdictOf,
  type Check,
  type PropertyInputs,
} from '../runner/verdict.js';

const def: ScenarioDef = {
  name: 'synthetic',
  description: '',
  baseRate: 10,
  phases: [
    { name: 'warm-up', durationS: 5, fromX: 1, toX: 1, warmup: true },
    { name: 'base', durationS: 10, fromX: 1, toX: 1 },
    { name: 'spike', durationS: 10, fromX: 20, toX: 20 },
  ],
  maxInFlight: 100,
  zipfS: 1,
  seed: 1,
  thresholds: { p95Ms: 500, p99Ms: 1000, maxErrorRate: 0.01, maxShedRate: 0.05, recoveryS: 10, maxMemoryGrowthMb: 100 },
};

function classes(o: Partial<ClassCounts> = {}): ClassCounts {
  return {
    ok: 0,
    notModified: 0,
    redirect: 0,
    shed: 0,
    clientError: 0,
    serverError: 0,
    networkError: 0,
    dropped: 0,
    ...o,
  };
}

function phase(
  name: string,
  o: { p95?: number; p99?: number; ok?: number; shed?: number; errors?: number; warmup?: boolean },
) {
  const ok = o.ok ?? 100;
  const shed = o.shed ?? 0;
  const errors = o.errors ?? 0;
  const sent = ok + shed + errors;
  const stage = { count: 0, mean: 0, p50: 0, p95: 0, max: 0 };
  const p: PhaseSummary = {
    name,
    warmup: o.warmup ?? false,
    startS: 0,
    endS: 10,
    targetRps: 10,
    sent,
    completedRps: sent / 10,
    classes: classes({ ok, shed, serverError: errors }),
    statuses: {},
    xCache: {},
    cdn: {},
    latency: {
      count: ok,
      p50: 10,
      p90: 20,
      p95: o.p95 ?? 100,
      p99: o.p99 ?? 200,
      p999: o.p99 ?? 200,
      max: o.p99 ?? 200,
      mean: 15,
    },
    errorRate: sent > 0 ? errors / sent : 0,
    shedRate: sent > 0 ? shed / sent : 0,
    retryAfter: {},
    stages: { queue: stage, invoke: stage, fetch: stage, render: stage },
  };
  return p;
}

const find = (checks: Check[], scope: string, name: string) => checks.find((c) => c.scope === scope && c.name === name);

t.test('phase checks pass within the limits, and the warm-up is not judged', async (t) => {
  const checks = phaseChecks(def, [
    phase('warm-up', { warmup: true, p95: 99999, p99: 99999, errors: 50 }),
    phase('base', {}),
    phase('spike', { shed: 4, errors: 1 }),
  ]);
  t.equal(checks.filter((c) => c.scope === 'warm-up').length, 0, 'nothing judged in the warm-up');
  t.equal(checks.length, 8, 'p95, p99, error rate, shed rate for each judged phase');
  t.ok(
    checks.every((c) => c.status === 'pass'),
    JSON.stringify(checks.filter((c) => c.status !== 'pass')),
  );
  t.equal(verdictOf(checks), 'pass');
  const shed = find(checks, 'spike', 'shed rate');
  t.equal(shed?.figure, 3.81, '4 of 105 requests, in %');
  t.equal(shed?.limit, 5);
  t.match(shed?.detail, /4 shed of 105/);
});

t.test('each phase check fails past its limit', async (t) => {
  const cases: Array<[string, Parameters<typeof phase>[1], string]> = [
    ['p95 of 200/304', { p95: 501 }, 'p95'],
    ['p99 of 200/304', { p99: 1000.5 }, 'p99'],
    ['error rate', { errors: 2 }, 'errors: 2 of 102 > 1 %'],
    ['shed rate', { shed: 6 }, 'shed: 6 of 106 > 5 %'],
  ];
  for (const [name, o, why] of cases) {
    const checks = phaseChecks(def, [phase('base', {}), phase('spike', o)]);
    const c = find(checks, 'spike', name);
    t.equal(c?.status, 'fail', `${name} fails (${why})`);
    t.equal(find(checks, 'base', name)?.status, 'pass', `${name} passes in the phase within it`);
    t.equal(verdictOf(checks), 'fail');
  }
  const allShed = phaseChecks(def, [phase('spike', { ok: 0, shed: 50 })]);
  t.equal(
    find(allShed, 'spike', 'p99 of 200/304')?.status,
    'fail',
    'no successful reply at all fails the latency checks',
  );
});

t.test('a limit turned off is not checked; a phase limit overrides the scenario', async (t) => {
  const off: ScenarioDef = {
    ...def,
    thresholds: { ...def.thresholds, maxShedRate: null },
    phases: def.phases.map((p) => (p.name === 'spike' ? { ...p, limits: { p99Ms: 5000 } } : p)),
  };
  const checks = phaseChecks(off, [phase('spike', { shed: 90, p99: 4000 })]);
  t.equal(find(checks, 'spike', 'shed rate'), undefined);
  t.equal(find(checks, 'spike', 'p99 of 200/304')?.status, 'pass', 'the phase allows 5 s');
  t.equal(find(checks, 'spike', 'p99 of 200/304')?.limit, 5000);
});

const recovery = (after: number | null): Recovery => ({
  baselineP95Ms: 20,
  thresholdMs: 45,
  spikeEndS: 25,
  windowS: 5,
  recoveredAfterS: after,
});
const memory = (growthMb: number): MemoryGrowth => ({
  startNetBytes: 100 * 1048576,
  endNetBytes: (100 + growthMb) * 1048576,
  growthBytes: growthMb * 1048576,
  fromS: 5,
  toS: 60,
});

t.test('recovery and memory growth: pass, fail, and never recovered', async (t) => {
  const pass = runChecks(def.thresholds, recovery(7), memory(30), '');
  t.same(
    pass.map((c) => [c.name, c.status, c.figure, c.limit]),
    [
      ['recovery after the spike', 'pass', 7, 10],
      ['memory growth net of the output cache', 'pass', 30, 100],
    ],
  );
  const late = runChecks(def.thresholds, recovery(12), memory(101), '');
  t.same(
    late.map((c) => c.status),
    ['fail', 'fail'],
  );
  const never = runChecks(def.thresholds, recovery(null), memory(0), '');
  t.equal(never[0]?.status, 'fail');
  t.match(never[0]?.detail, /never back/);
  const unmeasured = runChecks(def.thresholds, recovery(1), undefined, 'no /metrics at http://x');
  t.equal(unmeasured[1]?.status, 'skip', 'memory with nothing to measure it is reported, not passed');
  t.equal(verdictOf(unmeasured), 'pass', 'a skip alone does not fail the run');
  const noSpike = runChecks(def.thresholds, { ...recovery(null), spikeEndS: undefined }, memory(0), '');
  t.equal(noSpike.length, 1, 'no recovery check without a spike');
  t.equal(runChecks({ ...def.thresholds, recoveryS: null }, recovery(null), memory(0), '').length, 1, 'recoveryS off');
});

t.test('properties: each fails when it should', async (t) => {
  const total = phase('all', {});
  const good: PropertyInputs = {
    total,
    verification: { checked: 100, skipped: 0, failures: [] },
    verifyMode: 'all',
    invocations: { count: 40, source: 'Lambda endpoint' },
    uniqueKeys: 50,
    healthAfter: { status: 200 },
  };
  t.ok(propertyChecks(good).every((c) => c.status === 'pass'));
  const status = (o: Partial<PropertyInputs>, name: string) =>
    propertyChecks({ ...good, ...o }).find((c) => c.name === name)?.status;
  t.equal(status({ total: { ...total, classes: classes({ ok: 90, clientError: 1 }) } }, 'no unexpected 4xx'), 'fail');
  t.equal(
    status({ total: { ...total, classes: classes({ ok: 90, dropped: 1 }) } }, 'the load generator kept up'),
    'fail',
  );
  t.equal(
    status(
      { verification: { checked: 100, skipped: 0, failures: [{ path: '/x', accept: '*/*', problem: 'size 1x1' }] } },
      'every 200 decodes as an image of the size asked',
    ),
    'fail',
  );
  t.equal(status({ verifyMode: 'none' }, 'every 200 decodes as an image of the size asked'), 'skip');
  t.equal(
    status({ invocations: { count: 51, source: '/metrics' } }, 'Generator invocations never exceed unique keys'),
    'fail',
  );
  t.equal(status({ invocations: undefined }, 'Generator invocations never exceed unique keys'), 'skip');
  t.equal(status({ healthAfter: { status: 503 } }, 'healthy after'), 'fail');
});

t.test('every render stored: equal passes, fewer objects than renders fail, nothing to count skips', async (t) => {
  const where = 's3://marquee-derivatives/derivatives/';
  const equal = storeCheck({ asked: 120, written: 120, where, waitedMs: 800, settleMs: 10_000 });
  t.match(equal, { status: 'pass', figure: 120, limit: 120, relation: 'equals', kind: 'property', scope: 'run' });
  t.match(
    equal.detail,
    /120 objects written to s3:\/\/marquee-derivatives\/derivatives\/ for 120 renders asked to keep/,
  );
  t.equal(verdictOf([equal]), 'pass');
  const fewer = storeCheck({ asked: 120, written: 117, where, waitedMs: 10_000, settleMs: 10_000 });
  t.equal(fewer.status, 'fail', 'three renders were never stored');
  t.match(fewer.detail, /3 missing/);
  t.equal(verdictOf([equal, fewer]), 'fail', 'and the run fails with it');
  const more = storeCheck({ asked: 120, written: 121 });
  t.equal(more.status, 'fail', 'an object no render asked for: the count is not to be trusted');
  t.match(more.detail, /1 more than asked/);
  t.equal(storeCheck({ asked: 0, written: 0 }).status, 'pass', 'no stored type rendered: nothing to store');
  const noBucket = storeCheck({ asked: 120, written: undefined, unmeasured: 'no derivatives bucket to list' });
  t.match(noBucket, { status: 'skip', detail: 'not measured: no derivatives bucket to list' });
  t.equal(storeCheck({ asked: undefined, written: 5 }).status, 'skip', 'no /metrics: no renders to hold it to');
  t.equal(verdictOf([noBucket]), 'pass', 'a skip alone does not fail the run');
});
