// The limits a run is judged by: `--slo` parsing (strict: unknown keys, phases and malformed
// numbers refused), how overrides apply, and the same limits as k6 thresholds.
import t from 'tap';
import { SCENARIOS } from '../scenarios/definitions.js';
import { applySlo, k6Thresholds, parseSlo, parseSlos, phaseLimits } from '../scenarios/limits.js';

const spike = SCENARIOS.spike20x;

t.test('--slo: key=value and phase.key=value', async (t) => {
  t.same(parseSlo('p99Ms=2000', spike.phases), { key: 'p99Ms', value: 2000 });
  t.same(parseSlo('maxShedRate=0.02', spike.phases), { key: 'maxShedRate', value: 0.02 });
  t.same(parseSlo('spike.maxShedRate=0.3', spike.phases), { phase: 'spike', key: 'maxShedRate', value: 0.3 });
  t.same(parseSlo('recoveryS=off', spike.phases), { key: 'recoveryS', value: null }, 'off turns a check off');
  t.same(parseSlo('p99Ms=0.001', spike.phases), { key: 'p99Ms', value: 0.001 });
});

t.test('--slo refuses what it does not understand, saying what it expected', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['p99=2000', /unknown key "p99".*p99Ms/],
    ['P99Ms=2000', /unknown key/],
    ['p99Ms', /key=value/],
    ['p99Ms=', /plain number/],
    ['p99Ms=2e3', /plain number/],
    ['p99Ms=-1', /plain number/],
    ['p99Ms= 200', /plain number/],
    ['p99Ms=0x10', /plain number/],
    ['p99Ms=Infinity', /plain number/],
    ['maxShedRate=2', /fraction 0..1/],
    ['surge.p99Ms=100', /unknown phase "surge".*warm-up, base/],
    ['spike.recoveryS=10', /whole run/],
    ['warm-up.p99Ms=100', /warm-up/],
  ];
  for (const [text, message] of bad) t.throws(() => parseSlo(text, spike.phases), message, text);
  t.throws(() => parseSlos(['p99Ms=1', 'p99Ms=2'], spike.phases), /given twice/);
  t.doesNotThrow(() => parseSlos(['p99Ms=1', 'spike.p99Ms=2'], spike.phases), 'a phase may differ from the rest');
});

t.test('overrides apply: everywhere first, then per phase', async (t) => {
  const def = {
    ...spike,
    phases: spike.phases.map((p) => (p.name === 'ramp' ? { ...p, limits: { p99Ms: 9999, p95Ms: 5000 } } : p)),
  };
  const o = applySlo(def, parseSlos(['spike.p99Ms=100', 'p99Ms=2000', 'maxMemoryGrowthMb=off'], def.phases));
  const limits = (name: string) =>
    phaseLimits(
      o,
      o.phases.find((p) => p.name === name)!,
    );
  t.equal(limits('base').p99Ms, 2000);
  t.equal(limits('ramp').p99Ms, 2000, "a key for every phase replaces a phase's own");
  t.equal(limits('ramp').p95Ms, 5000, 'other keys of the phase stay');
  t.equal(limits('spike').p99Ms, 100, 'the phase-scoped one wins, whatever the order given');
  t.equal(o.thresholds.maxMemoryGrowthMb, null);
  t.equal(spike.thresholds.p99Ms, 8000, 'the definition itself is untouched');
});

t.test('k6 thresholds: the same limits per phase, the warm-up left out', async (t) => {
  const o = applySlo(spike, parseSlos(['spike.maxShedRate=0.3', 'maxErrorRate=off'], spike.phases));
  const th = k6Thresholds(o);
  t.same(th['marquee_ok_latency{phase:spike}'], ['p(95)<=3000', 'p(99)<=8000']);
  t.same(th['marquee_shed{phase:spike}'], ['rate<=0.3']);
  t.same(th['marquee_shed{phase:base}'], ['rate<=0.02']);
  t.equal(th['marquee_errors{phase:spike}'], undefined, 'a limit turned off has no threshold');
  t.notOk(
    Object.keys(th).some((k) => k.includes('warm-up')),
    'no threshold on the warm-up',
  );
  t.equal(Object.keys(th).filter((k) => k.startsWith('marquee_ok_latency')).length, 5, 'one per judged phase');
});
