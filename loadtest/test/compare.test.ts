// `--baseline`: figures matched between two reports, the change in %, regression checks that pass
// within the tolerance and fail beyond it, and a report that is not one refused.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  compareReports,
  figuresOf,
  parseTolerances,
  readBaseline,
  regressionChecks,
  REGRESSION_FLOOR,
} from '../runner/compare.js';

function report(o: { p99: number; shedRate: number; recovery: number | null; sent?: number; baseRate?: number }) {
  return {
    startedAt: '2026-11-27T10:00:00.000Z',
    scenario: { name: 'spike20x', baseRate: o.baseRate ?? 3, phases: [{ name: 'spike', durationS: 60 }] },
    target: { embedded: true, cdn: false },
    phases: [
      {
        name: 'spike',
        sent: o.sent ?? 3600,
        completedRps: 60,
        shedRate: o.shedRate,
        errorRate: 0,
        latency: { p50: 2, p90: 800, p95: 1500, p99: o.p99, max: o.p99 + 100 },
      },
    ],
    recovery: { recoveredAfterS: o.recovery },
    memory: { growth: { growthBytes: 50 * 1048576 } },
    generator: { lambdaInvocations: 800 },
    timeline: [{ t: 0, p95: 10, p99: 20 }],
  };
}

t.test('each figure beside the baseline, with the change in %', async (t) => {
  const c = compareReports(
    'old.json',
    report({ p99: 4000, shedRate: 0.1, recovery: 5 }),
    report({ p99: 3000, shedRate: 0.145, recovery: 8 }),
  );
  const row = (scope: string, figure: string) => c.rows.find((r) => r.scope === scope && r.figure === figure);
  t.same(row('spike', 'p99'), {
    scope: 'spike',
    figure: 'p99',
    unit: 'ms',
    key: 'p99Ms',
    before: 4000,
    after: 3000,
    changePct: -25,
  });
  t.equal(row('spike', 'shed')?.before, 10, 'rates in %');
  t.equal(row('spike', 'shed')?.changePct, 45);
  t.equal(row('run', 'recovery')?.changePct, 60);
  t.equal(row('run', 'memory growth')?.after, 50);
  t.same(c.differences, [], 'same set-up');
  t.same(c.timeline, [{ t: 0, p95: 10, p99: 20 }], "the baseline's timeline, for the chart");
  const other = compareReports(
    'old.json',
    report({ p99: 1, shedRate: 0, recovery: 1, baseRate: 20 }),
    report({ p99: 1, shedRate: 0, recovery: 1 }),
  );
  t.same(other.differences, ['baseRate: 20 → 3'], 'a different scale is pointed out');
});

t.test('regression checks: within the tolerance pass, beyond it fail, per limit', async (t) => {
  const before = report({ p99: 1000, shedRate: 0.02, recovery: 10 });
  const tol = parseTolerances(['p99Ms=0.2', 'maxShedRate=0.5']);
  const pass = regressionChecks(
    compareReports('b.json', before, report({ p99: 1200, shedRate: 0.03, recovery: 99 })),
    tol,
  );
  t.same(
    pass.map((c) => [c.scope, c.name, c.status]),
    [
      ['spike', 'shed vs baseline', 'pass'],
      ['spike', 'p99 vs baseline', 'pass'],
    ],
    'only the limits given a tolerance are judged (recovery got worse, unjudged)',
  );
  t.equal(pass[1]?.limit, 1000 * 1.2 + REGRESSION_FLOOR.p99Ms);
  const fail = regressionChecks(
    compareReports('b.json', before, report({ p99: 1206, shedRate: 0.0311, recovery: 10 })),
    tol,
  );
  t.same(
    fail.map((c) => c.status),
    ['fail', 'fail'],
    'p99 1206 > 1205 ms; shed 3.11 % > 2 % × 1.5 + 0.1',
  );
  t.match(fail[1]?.detail, /baseline 1000ms, \+20\.6 %; tolerance 20 %/);
  const all = parseTolerances(['0.1']);
  t.equal(all.recoveryS, 0.1, 'a bare number applies to every limit');
  t.throws(() => parseTolerances(['p99=0.1']), /unknown key "p99"/);
  t.throws(() => parseTolerances(['10%']), /fraction like 0.2/);
});

t.test('a report that is not a load report is refused', async (t) => {
  t.throws(() => figuresOf({ arms: [] }), /not a load-test report/);
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-compare-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.json');
  await writeFile(bad, '{ nope');
  await t.rejects(readBaseline(bad), /not JSON/);
  const good = path.join(dir, 'good.json');
  await writeFile(good, JSON.stringify(report({ p99: 1, shedRate: 0, recovery: 1 })));
  t.ok(await readBaseline(good));
});
