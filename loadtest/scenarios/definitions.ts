// Shared by the k6 scripts and the Node runner: type imports only (k6 loads no .js twin), no Node
// or k6 APIs. One source of truth for the scenarios: phases as multiples of a base arrival rate.
import type { PhaseLimits, Thresholds } from './limits.js';

export type { Thresholds } from './limits.js';

/** A stretch of the run: the arrival rate goes linearly from `fromX` to `toX` times the base rate. */
export interface Phase {
  name: string;
  durationS: number;
  fromX: number;
  toX: number;
  /** Reported, never judged, and kept out of the baseline: cold Lambda environments, JIT, empty caches. */
  warmup?: boolean;
  /** This phase's own limits, over the scenario's. */
  limits?: Partial<PhaseLimits>;
}

export interface ScenarioDef {
  name: string;
  description: string;
  /** Requests per second at 1x. */
  baseRate: number;
  phases: readonly Phase[];
  /** Requests allowed in flight at once; past it an arrival is dropped (k6: maxVUs). */
  maxInFlight: number;
  /** Zipf exponent over the universe's keys, and the seed of the key sequence. */
  zipfS: number;
  seed: number;
  /** What each phase (and the run) is judged by: see limits.ts; `--slo` overrides them. */
  thresholds: Thresholds;
}

export const SCENARIOS = {
  baseline: {
    name: 'baseline',
    description: 'A steady CDN-miss rate: the latency and cache behaviour to compare others against.',
    baseRate: 50,
    phases: [
      { name: 'warm-up', durationS: 30, fromX: 0.1, toX: 1, warmup: true },
      { name: 'steady', durationS: 300, fromX: 1, toX: 1 },
    ],
    maxInFlight: 500,
    zipfS: 0.9,
    seed: 42,
    thresholds: { maxErrorRate: 0.01, maxShedRate: 0.01, p95Ms: 800, p99Ms: 2000, maxMemoryGrowthMb: 256 },
  },
  spike20x: {
    name: 'spike20x',
    description: 'A launch or a failed-over region: 20x the base rate within 10 s, held, then back.',
    baseRate: 20,
    phases: [
      // The first requests meet cold Generator environments and an empty cache: not the baseline.
      { name: 'warm-up', durationS: 30, fromX: 1, toX: 1, warmup: true },
      { name: 'base', durationS: 60, fromX: 1, toX: 1 },
      { name: 'ramp', durationS: 10, fromX: 1, toX: 20 },
      { name: 'spike', durationS: 180, fromX: 20, toX: 20 },
      { name: 'return', durationS: 10, fromX: 20, toX: 1 },
      { name: 'recovery', durationS: 120, fromX: 1, toX: 1 },
    ],
    maxInFlight: 2000,
    zipfS: 0.9,
    seed: 42,
    // Shedding (503/429 with Retry-After) is the designed answer to the spike, not an error, but it
    // has a budget: 2 % (issue 14's goal through a CDN). Recovery: 30 s to come back under the bar.
    // Memory: a leak detector, not a budget (the output cache is netted out).
    thresholds: {
      maxErrorRate: 0.001,
      maxShedRate: 0.02,
      p95Ms: 3000,
      p99Ms: 8000,
      recoveryS: 30,
      maxMemoryGrowthMb: 256,
    },
  },
  soak: {
    name: 'soak',
    description: 'Hours at a moderate rate: memory, cache churn and leaks show here.',
    baseRate: 30,
    phases: [
      { name: 'warm-up', durationS: 60, fromX: 0.1, toX: 1, warmup: true },
      { name: 'soak', durationS: 4 * 3600, fromX: 1, toX: 1 },
    ],
    maxInFlight: 500,
    zipfS: 0.9,
    seed: 7,
    thresholds: { maxErrorRate: 0.001, maxShedRate: 0.001, p95Ms: 800, p99Ms: 2000, maxMemoryGrowthMb: 128 },
  },
} as const satisfies Record<string, ScenarioDef>;

export type ScenarioName = keyof typeof SCENARIOS;

export function isScenarioName(name: string): name is ScenarioName {
  return Object.prototype.hasOwnProperty.call(SCENARIOS, name);
}

export interface ScenarioOverrides {
  baseRate?: number;
  /** Multiplies every phase's duration (0.1 turns a 6-minute spike into 36 s). */
  timeScale?: number;
  maxInFlight?: number;
}

/** A scenario with its rate and durations overridden: the shape is kept, only the scale changes. */
export function scaleScenario(def: ScenarioDef, o: ScenarioOverrides = {}): ScenarioDef {
  const timeScale = o.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  const baseRate = o.baseRate ?? def.baseRate;
  if (!(baseRate > 0)) throw new RangeError(`baseRate must be > 0, got ${baseRate}`);
  return {
    ...def,
    baseRate,
    maxInFlight: o.maxInFlight ?? def.maxInFlight,
    // The 20x jump stays "within 10 s" however the rest is scaled.
    phases: def.phases.map((p) => ({
      ...p,
      durationS:
        p.fromX !== p.toX
          ? Math.min(p.durationS, Math.max(1, p.durationS * timeScale))
          : Math.max(1, p.durationS * timeScale),
    })),
  };
}

export function totalDurationS(def: ScenarioDef): number {
  return def.phases.reduce((sum, p) => sum + p.durationS, 0);
}

/** k6's ramping-arrival-rate stages for a scenario (rates per second). */
export function k6Stages(def: ScenarioDef): { startRate: number; stages: Array<{ target: number; duration: string }> } {
  const first = def.phases[0];
  return {
    startRate: Math.round((first?.fromX ?? 1) * def.baseRate),
    stages: def.phases.map((p) => ({ target: Math.round(p.toX * def.baseRate), duration: `${p.durationS}s` })),
  };
}

/** The phase in force `tS` seconds into the run (the last one past the end): what k6 tags a request with. */
export function phaseNameAt(def: ScenarioDef, tS: number): string {
  let endS = 0;
  for (const p of def.phases) {
    endS += p.durationS;
    if (tS < endS) return p.name;
  }
  return def.phases[def.phases.length - 1]?.name ?? '';
}
