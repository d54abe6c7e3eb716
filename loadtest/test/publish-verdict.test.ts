// The publish-under-load verdict on synthetic reports (issue 21, done-when 2): a publish within the
// bound passes, and each check fails when its figure is broken: live misses' p95 past the ratio,
// too few misses to compare, a prewarm that left URLs to live renders or failed, a publish that
// exited non-zero, a store that gained fewer objects than the renders reported.
import t from 'tap';
import {
  DEFAULT_MAX_P95_RATIO,
  MIN_MISSES_PER_WINDOW,
  judgePublish,
  missWindow,
  publishSummary,
  type PublishLoadReport,
} from '../runner/publish-verdict.js';

type Input = Omit<PublishLoadReport, 'checks' | 'verdict'>;

const misses = (n: number, ms: number) => missWindow(Array.from({ length: n }, (_, i) => ms + (i % 10)));

function report(over: Partial<Input> = {}): Input {
  return {
    scenario: 'publish-under-load',
    startedAt: '2026-12-08T00:00:00.000Z',
    change: 'synthetic',
    command: 'synthetic',
    publish: {
      exitCode: 0,
      durationS: 120,
      storedAfterS: 118,
      images: 448,
      rendered: 448,
      failed: 0,
      urls: 2592,
      liveUrls: 0,
    },
    storeWrites: 460,
    generator: { peakConcurrency: 4, peakBefore: 3, limit: 4, invocations: 600 },
    liveMisses: { before: misses(45, 400), during: misses(120, 600) },
    steady: { rps: 3, beforeP95Ms: 300, duringP95Ms: 450, errors: 0, shed: 0 },
    bounds: { maxP95Ratio: DEFAULT_MAX_P95_RATIO, minMisses: MIN_MISSES_PER_WINDOW },
    ...over,
  };
}

const failing = (r: PublishLoadReport) => r.checks.filter((c) => !c.pass).map((c) => c.name);

t.test('within the bound: every check passes', async (t) => {
  const r = judgePublish(report());
  t.equal(r.verdict, 'pass', publishSummary(r));
  t.same(failing(r), []);
  t.match(publishSummary(r), /verdict: PASS/);
});

const cases: Array<[string, Partial<Input>, RegExp]> = [
  [
    "live misses' p95 past 2× before",
    { liveMisses: { before: misses(45, 400), during: misses(120, 900) } },
    /p95 during the publish/,
  ],
  [
    'too few live misses before the publish to compare',
    { liveMisses: { before: misses(5, 400), during: misses(120, 500) } },
    /live misses measured/,
  ],
  [
    'no live miss at all during the publish',
    { liveMisses: { before: misses(45, 400), during: missWindow([]) } },
    /p95 during the publish/,
  ],
  [
    'URLs left to render live after the flip',
    { publish: { ...report().publish, liveUrls: 12 } },
    /every changed URL in the store/,
  ],
  ['a prewarm render failed', { publish: { ...report().publish, failed: 1, exitCode: 1 } }, /publish exited 0/],
  [
    'the prewarm never finished',
    { publish: { ...report().publish, storedAfterS: undefined } },
    /every changed URL in the store/,
  ],
  ['the store gained fewer objects than rendered', { storeWrites: 100 }, /the store gained/],
];

for (const [name, over, check] of cases) {
  t.test(`fails: ${name}`, async (t) => {
    const r = judgePublish(report(over));
    t.equal(r.verdict, 'fail');
    t.ok(
      failing(r).some((n) => check.test(n)),
      failing(r).join('; '),
    );
    t.match(publishSummary(r), /verdict: FAIL/);
  });
}

t.test('the bound is the report’s own: a looser one passes the same figures', async (t) => {
  const slow = { liveMisses: { before: misses(45, 400), during: misses(120, 900) } };
  t.equal(judgePublish(report(slow)).verdict, 'fail');
  t.equal(
    judgePublish(report({ ...slow, bounds: { maxP95Ratio: 3, minMisses: MIN_MISSES_PER_WINDOW } })).verdict,
    'pass',
  );
});
