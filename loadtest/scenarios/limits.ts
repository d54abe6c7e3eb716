// Shared by the k6 scripts and the Node runner: no imports, no Node or k6 APIs.
// The limits a run is judged by, their command-line overrides (`--slo [phase.]key=value`), and the
// same limits as k6 thresholds.

/** Limits judged on each phase (the warm-up aside). `null`: the check is turned off. */
export interface PhaseLimits {
  /** Latency budget (ms) of successful replies (200/304), on p95 and on p99. */
  p95Ms: number | null;
  p99Ms: number | null;
  /** Share of requests that failed other than by explicit shedding (5xx without Retry-After, 4xx, network). */
  maxErrorRate: number | null;
  /** Share of requests shed with 429/503 + Retry-After: the right answer to overload, within a budget. */
  maxShedRate: number | null;
}

/** Limits judged on the whole run. */
export interface RunLimits {
  /** Seconds after the rate returns to 1x until latency is back under the baseline's bar (spike scenarios). */
  recoveryS?: number | null;
  /** Growth of the Preprocessor's RSS net of its output cache, from the end of the warm-up to the end (MB). */
  maxMemoryGrowthMb: number | null;
}

export type Thresholds = PhaseLimits & RunLimits;

export const PHASE_KEYS = ['p95Ms', 'p99Ms', 'maxErrorRate', 'maxShedRate'] as const;
export const RUN_KEYS = ['recoveryS', 'maxMemoryGrowthMb'] as const;
export type PhaseKey = (typeof PHASE_KEYS)[number];
export type RunKey = (typeof RUN_KEYS)[number];
export type SloKey = PhaseKey | RunKey;
export const SLO_KEYS: readonly SloKey[] = [...PHASE_KEYS, ...RUN_KEYS];

/** What each key means, with its unit: the refusal of an unknown key lists them. */
export const SLO_MEANING: Record<SloKey, string> = {
  p95Ms: 'p95 of 200/304 latency per phase, ms',
  p99Ms: 'p99 of 200/304 latency per phase, ms',
  maxErrorRate: 'errors / requests per phase, 0..1',
  maxShedRate: 'shed (429/503 + Retry-After) / requests per phase, 0..1',
  recoveryS: 'seconds after the return to 1x until p95 is back under the bar',
  maxMemoryGrowthMb: 'Preprocessor RSS growth net of its output cache after the warm-up, MB',
};

const RATE_KEYS: ReadonlySet<SloKey> = new Set(['maxErrorRate', 'maxShedRate']);

/** The minimal shape of a scenario these functions need (definitions.ts's ScenarioDef has it). */
export interface LimitedPhase {
  name: string;
  /** Reported, never judged, and not part of the baseline (cold Lambda environments, JIT, empty caches). */
  warmup?: boolean;
  limits?: Partial<PhaseLimits>;
}

export interface Limited {
  phases: readonly LimitedPhase[];
  thresholds: Thresholds;
}

export interface SloOverride {
  /** A phase name, or undefined for every phase (or the run, for run keys). */
  phase?: string;
  key: SloKey;
  value: number | null;
}

function isSloKey(key: string): key is SloKey {
  return (SLO_KEYS as readonly string[]).includes(key);
}

function isPhaseKey(key: SloKey): key is PhaseKey {
  return (PHASE_KEYS as readonly string[]).includes(key);
}

/** A plain decimal: `0`, `2000`, `0.02`; no sign, exponent, hex or spaces (what `Number()` would stretch). */
const DECIMAL = /^(?:0|[1-9][0-9]{0,9})(?:\.[0-9]{1,9})?$/;

/**
 * One `--slo` argument: `key=value` or `phase.key=value`; `value` a plain decimal, or `off`.
 * Unknown keys and phases, rates above 1, a run key scoped to a phase, a judged limit on the
 * warm-up: all refused with what was expected.
 */
export function parseSlo(text: string, phases: readonly LimitedPhase[]): SloOverride {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`--slo expects key=value or phase.key=value, got "${text}"`);
  const left = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const dot = left.lastIndexOf('.');
  const phase = dot >= 0 ? left.slice(0, dot) : undefined;
  const key = dot >= 0 ? left.slice(dot + 1) : left;
  if (!isSloKey(key)) {
    const known = SLO_KEYS.map((k) => `${k} (${SLO_MEANING[k]})`).join('; ');
    throw new Error(`--slo: unknown key "${key}"; known keys: ${known}`);
  }
  if (phase !== undefined) {
    const p = phases.find((x) => x.name === phase);
    if (!p) throw new Error(`--slo: unknown phase "${phase}"; phases: ${phases.map((x) => x.name).join(', ')}`);
    if (!isPhaseKey(key)) throw new Error(`--slo: ${key} applies to the whole run, not to one phase ("${text}")`);
    if (p.warmup) throw new Error(`--slo: phase "${phase}" is the warm-up: reported, never judged`);
  }
  let value: number | null;
  if (raw === 'off') value = null;
  else if (DECIMAL.test(raw)) value = Number(raw);
  else throw new Error(`--slo ${left}: expects a plain number like 2000 or 0.02, or off; got "${raw}"`);
  if (value !== null && RATE_KEYS.has(key) && value > 1)
    throw new Error(`--slo ${left}: a rate is a fraction 0..1 (0.02 for 2 %), got ${raw}`);
  return { ...(phase !== undefined ? { phase } : {}), key, value };
}

/** Several `--slo` arguments; the same target given twice is refused (which one would win is a guess). */
export function parseSlos(texts: readonly string[], phases: readonly LimitedPhase[]): SloOverride[] {
  const seen = new Set<string>();
  return texts.map((text) => {
    const o = parseSlo(text, phases);
    const id = `${o.phase ?? '*'}.${o.key}`;
    if (seen.has(id)) throw new Error(`--slo: ${o.phase ? `${o.phase}.` : ''}${o.key} given twice`);
    seen.add(id);
    return o;
  });
}

/**
 * The scenario with overrides applied: a key for every phase replaces the scenario's limit and
 * any phase's own; a phase-scoped key then replaces that phase's.
 */
export function applySlo<T extends Limited>(def: T, overrides: readonly SloOverride[]): T {
  const thresholds: Thresholds = { ...def.thresholds };
  let phases = def.phases.map((p) => ({ ...p, ...(p.limits ? { limits: { ...p.limits } } : {}) }));
  for (const o of overrides) {
    if (o.phase !== undefined) continue;
    thresholds[o.key] = o.value;
    if (isPhaseKey(o.key)) {
      const key = o.key;
      phases = phases.map((p) => {
        if (!p.limits || !(key in p.limits)) return p;
        const limits = { ...p.limits };
        delete limits[key];
        return { ...p, limits };
      });
    }
  }
  for (const o of overrides) {
    if (o.phase === undefined || !isPhaseKey(o.key)) continue;
    const key = o.key;
    phases = phases.map((p) => (p.name === o.phase ? { ...p, limits: { ...p.limits, [key]: o.value } } : p));
  }
  return { ...def, thresholds, phases };
}

/** The limits in force for one phase: the scenario's, with the phase's own on top. */
export function phaseLimits(def: Limited, phase: LimitedPhase): PhaseLimits {
  const t = def.thresholds;
  return {
    p95Ms: t.p95Ms,
    p99Ms: t.p99Ms,
    maxErrorRate: t.maxErrorRate,
    maxShedRate: t.maxShedRate,
    ...phase.limits,
  };
}

/**
 * The same limits as k6 thresholds, per phase through a `phase` tag the iteration sets. k6 judges
 * the whole phase like the runner; recovery and memory need the runner (a time series, the
 * server's /metrics) and have no k6 form.
 */
export function k6Thresholds(def: Limited): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of def.phases) {
    if (p.warmup) continue;
    const l = phaseLimits(def, p);
    const latency = [
      ...(l.p95Ms !== null ? [`p(95)<=${l.p95Ms}`] : []),
      ...(l.p99Ms !== null ? [`p(99)<=${l.p99Ms}`] : []),
    ];
    if (latency.length > 0) out[`marquee_ok_latency{phase:${p.name}}`] = latency;
    if (l.maxErrorRate !== null) out[`marquee_errors{phase:${p.name}}`] = [`rate<=${l.maxErrorRate}`];
    if (l.maxShedRate !== null) out[`marquee_shed{phase:${p.name}}`] = [`rate<=${l.maxShedRate}`];
  }
  return out;
}
