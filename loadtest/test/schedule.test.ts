import t from 'tap';
import { SCENARIOS, k6Stages, phaseNameAt, scaleScenario, totalDurationS } from '../scenarios/definitions.js';
import { cumulativeArrivals, phaseAt, phaseWindows, rateAt, totalArrivals } from '../runner/schedule.js';

t.test('spike20x: a warm-up, base, a jump to 20x within 10 s, a hold, a return', async (t) => {
  const def = SCENARIOS.spike20x;
  const names = def.phases.map((p) => p.name);
  t.same(names, ['warm-up', 'base', 'ramp', 'spike', 'return', 'recovery']);
  t.same(
    def.phases.map((p) => 'warmup' in p && p.warmup === true),
    [true, false, false, false, false, false],
    'only the warm-up is flagged',
  );
  const ramp = def.phases[2];
  t.equal(ramp?.fromX, 1);
  t.equal(ramp?.toX, 20);
  t.ok((ramp?.durationS ?? 99) <= 10, 'the jump takes at most 10 s');
  const w = phaseWindows(def);
  t.equal(rateAt(w, 1), def.baseRate);
  t.equal(rateAt(w, w[3]!.startS + 1), 20 * def.baseRate);
  t.equal(rateAt(w, w[2]!.startS + 5), 10.5 * def.baseRate, 'linear ramp, halfway');
  t.equal(rateAt(w, w[5]!.startS + 1), def.baseRate, 'back to 1x');
  t.equal(phaseAt(w, w[3]!.startS + 0.5).name, 'spike');
  t.equal(phaseNameAt(def, w[3]!.startS + 0.5), 'spike', 'k6 tags the same phase');
  t.equal(phaseNameAt(def, 0), 'warm-up');
  t.equal(phaseNameAt(def, 1e9), 'recovery');
  t.equal(rateAt(w, totalDurationS(def) + 1), 0, 'nothing after the end');
});

t.test('cumulative arrivals integrate the rate, ramps included', async (t) => {
  const def = scaleScenario(SCENARIOS.spike20x, { baseRate: 10 });
  const w = phaseWindows(def);
  t.equal(cumulativeArrivals(w, 0), 0);
  t.equal(cumulativeArrivals(w, 90), 900, '30 s of warm-up and 60 s of base at 10/s');
  // Ramp 10 → 200 over 10 s: 1050 arrivals.
  t.equal(cumulativeArrivals(w, 100), 900 + 1050);
  t.ok(Math.abs(cumulativeArrivals(w, 95) - (900 + 10 * 5 + (190 * 25) / 20)) < 1e-9, 'quadratic within the ramp');
  t.equal(cumulativeArrivals(w, 280), 900 + 1050 + 200 * 180);
  const total = 900 + 1050 + 36000 + 1050 + 1200;
  t.equal(totalArrivals(w), total);
  let prev = -1;
  const dips: number[] = [];
  for (let s = 0; s <= totalDurationS(def); s += 0.5) {
    const n = cumulativeArrivals(w, s);
    if (n < prev) dips.push(s);
    prev = n;
  }
  t.same(dips, [], 'monotonic');
});

t.test('scaling keeps the shape: rates scale, the jump stays within 10 s', async (t) => {
  const small = scaleScenario(SCENARIOS.spike20x, { baseRate: 2, timeScale: 0.05 });
  t.equal(small.baseRate, 2);
  t.same(
    small.phases.map((p) => p.toX),
    SCENARIOS.spike20x.phases.map((p) => p.toX),
  );
  t.equal(small.phases[1]?.durationS, 3);
  t.ok(small.phases.every((p) => p.durationS >= 0.5));
  const long = scaleScenario(SCENARIOS.spike20x, { timeScale: 3 });
  t.equal(long.phases[2]?.durationS, 10, 'a longer run does not slow the jump');
  t.throws(() => scaleScenario(SCENARIOS.spike20x, { timeScale: 0 }));
});

t.test('k6 stages mirror the phases', async (t) => {
  const { startRate, stages } = k6Stages(SCENARIOS.spike20x);
  t.equal(startRate, 20);
  t.same(stages, [
    { target: 20, duration: '30s' },
    { target: 20, duration: '60s' },
    { target: 400, duration: '10s' },
    { target: 400, duration: '180s' },
    { target: 20, duration: '10s' },
    { target: 20, duration: '120s' },
  ]);
});
