import t from 'tap';
import { SCENARIOS, k6Stages, scaleScenario, totalDurationS } from '../scenarios/definitions.js';
import { cumulativeArrivals, phaseAt, phaseWindows, rateAt, totalArrivals } from '../runner/schedule.js';

t.test('spike20x: base, a jump to 20x within 10 s, a hold, a return', async (t) => {
  const def = SCENARIOS.spike20x;
  const names = def.phases.map((p) => p.name);
  t.same(names, ['base', 'ramp', 'spike', 'return', 'recovery']);
  const ramp = def.phases[1];
  t.equal(ramp?.fromX, 1);
  t.equal(ramp?.toX, 20);
  t.ok((ramp?.durationS ?? 99) <= 10, 'the jump takes at most 10 s');
  const w = phaseWindows(def);
  t.equal(rateAt(w, 1), def.baseRate);
  t.equal(rateAt(w, w[2]!.startS + 1), 20 * def.baseRate);
  t.equal(rateAt(w, w[1]!.startS + 5), 10.5 * def.baseRate, 'linear ramp, halfway');
  t.equal(rateAt(w, w[4]!.startS + 1), def.baseRate, 'back to 1x');
  t.equal(phaseAt(w, w[2]!.startS + 0.5).name, 'spike');
  t.equal(rateAt(w, totalDurationS(def) + 1), 0, 'nothing after the end');
});

t.test('cumulative arrivals integrate the rate, ramps included', async (t) => {
  const def = scaleScenario(SCENARIOS.spike20x, { baseRate: 10 });
  const w = phaseWindows(def);
  t.equal(cumulativeArrivals(w, 0), 0);
  t.equal(cumulativeArrivals(w, 60), 600, '60 s at 10/s');
  // Ramp 10 → 200 over 10 s: 1050 arrivals.
  t.equal(cumulativeArrivals(w, 70), 600 + 1050);
  t.ok(Math.abs(cumulativeArrivals(w, 65) - (600 + 10 * 5 + (190 * 25) / 20)) < 1e-9, 'quadratic within the ramp');
  t.equal(cumulativeArrivals(w, 250), 600 + 1050 + 200 * 180);
  const total = 600 + 1050 + 36000 + 1050 + 1200;
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
  t.equal(small.phases[0]?.durationS, 3);
  t.ok(small.phases.every((p) => p.durationS >= 0.5));
  const long = scaleScenario(SCENARIOS.spike20x, { timeScale: 3 });
  t.equal(long.phases[1]?.durationS, 10, 'a longer run does not slow the jump');
  t.throws(() => scaleScenario(SCENARIOS.spike20x, { timeScale: 0 }));
});

t.test('k6 stages mirror the phases', async (t) => {
  const { startRate, stages } = k6Stages(SCENARIOS.spike20x);
  t.equal(startRate, 20);
  t.same(stages, [
    { target: 20, duration: '60s' },
    { target: 400, duration: '10s' },
    { target: 400, duration: '180s' },
    { target: 20, duration: '10s' },
    { target: 20, duration: '120s' },
  ]);
});
