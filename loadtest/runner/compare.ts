// `--baseline REPORT.json`: each figure of this run beside a previous run's, with the change, and
// (optionally, per limit) a FAIL when a judged figure got worse than a stated tolerance allows.
import { readFile } from 'node:fs/promises';
import { SLO_KEYS, type SloKey } from '../scenarios/limits.js';
import type { Check } from './verdict.js';

/** One comparable figure of a run. */
export interface Figure {
  /** `phase|figure`: how the two runs' figures are matched. */
  id: string;
  scope: string;
  figure: string;
  unit: string;
  value: number | undefined;
  /** The limit this figure is judged by, when it is one: what a regression tolerance applies to. */
  key?: SloKey;
}

export interface ComparisonRow {
  scope: string;
  figure: string;
  unit: string;
  key?: SloKey;
  before: number | undefined;
  after: number | undefined;
  /** (after − before) / before × 100; undefined when either is missing or before is 0. */
  changePct: number | undefined;
}

export interface Comparison {
  file: string;
  startedAt: string;
  /** How the two runs differ in set-up (scenario, scale, target): a reason to read changes with care. */
  differences: string[];
  rows: ComparisonRow[];
  /** The baseline's per-second latency, for the report's chart. */
  timeline: Array<{ t: number; p95: number; p99: number }>;
}

/** Relative tolerance per limit (0.2: 20 % worse than the baseline fails). */
export type Tolerances = Partial<Record<SloKey, number>>;

/**
 * Absolute slack added to every tolerance, so that tiny figures do not fail on noise (2 ms → 3 ms
 * is +50 % and nothing): 5 ms of latency, 0.1 percentage point of a rate, 1 s of recovery, 8 MB.
 */
export const REGRESSION_FLOOR: Record<SloKey, number> = {
  p95Ms: 5,
  p99Ms: 5,
  maxErrorRate: 0.1,
  maxShedRate: 0.1,
  recoveryS: 1,
  maxMemoryGrowthMb: 8,
};

const DECIMAL = /^(?:0|[1-9][0-9]{0,5})(?:\.[0-9]{1,6})?$/;

/** `--regress-tolerance 0.2` (every limit) or `--regress-tolerance p99Ms=0.2` (one), strictly. */
export function parseTolerances(texts: readonly string[]): Tolerances {
  const out: Tolerances = {};
  for (const text of texts) {
    const eq = text.indexOf('=');
    const key = eq >= 0 ? text.slice(0, eq) : undefined;
    const raw = eq >= 0 ? text.slice(eq + 1) : text;
    if (!DECIMAL.test(raw))
      throw new Error(`--regress-tolerance expects a fraction like 0.2 (20 %), optionally key=0.2; got "${text}"`);
    if (key === undefined) for (const k of SLO_KEYS) out[k] = Number(raw);
    else if ((SLO_KEYS as readonly string[]).includes(key)) out[key as SloKey] = Number(raw);
    else throw new Error(`--regress-tolerance: unknown key "${key}"; known: ${SLO_KEYS.join(', ')}`);
  }
  return out;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const r3 = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * 1000) / 1000);

/**
 * The figures of a run report (this runner's JSON, older ones included: a figure an older report
 * lacks is missing, not zero). Throws when the value is not a load report at all.
 */
export function figuresOf(report: unknown): Figure[] {
  const r = obj(report);
  const phases = Array.isArray(r?.phases) ? r.phases : undefined;
  if (!r || !phases) throw new Error('not a load-test report (no phases[]): give a JSON report this runner wrote');
  const out: Figure[] = [];
  const add = (scope: string, figure: string, unit: string, value: number | undefined, key?: SloKey) =>
    out.push({ id: `${scope}|${figure}`, scope, figure, unit, value: r3(value), ...(key ? { key } : {}) });
  for (const raw of phases) {
    const p = obj(raw);
    const name = str(p?.name);
    if (!p || name === undefined) continue;
    const lat = obj(p.latency);
    add(name, 'sent', '', num(p.sent));
    add(name, 'replies/s', '', num(p.completedRps));
    const shed = num(p.shedRate);
    const err = num(p.errorRate);
    add(name, 'shed', '%', shed === undefined ? undefined : shed * 100, 'maxShedRate');
    add(name, 'errors', '%', err === undefined ? undefined : err * 100, 'maxErrorRate');
    add(name, 'p50', 'ms', num(lat?.p50));
    add(name, 'p90', 'ms', num(lat?.p90));
    add(name, 'p95', 'ms', num(lat?.p95), 'p95Ms');
    add(name, 'p99', 'ms', num(lat?.p99), 'p99Ms');
    add(name, 'max', 'ms', num(lat?.max));
    const cdn = obj(p.cdn);
    const counts = cdn ? Object.values(cdn).map(num) : [];
    const lookups = counts.reduce<number>((a, b) => a + (b ?? 0), 0);
    if (lookups > 0) add(name, 'CDN hit ratio', '%', ((num(cdn?.HIT) ?? 0) / lookups) * 100);
  }
  const resources = Array.isArray(r.resources) ? r.resources : [];
  for (const raw of resources) {
    const p = obj(raw);
    const name = str(p?.name);
    if (!p || name === undefined) continue;
    const cpu = obj(p.cpu);
    add(name, 'origin req/s', '', num(p.originRps));
    add(name, 'Generator renders/s', '', num(p.invocationsPerS));
    add(name, 'stack cores', '', num(cpu?.stackTree));
    add(name, 'load generator cores', '', num(cpu?.loadGen));
  }
  const recovery = obj(r.recovery);
  const memory = obj(r.memory);
  const growth = num(obj(memory?.growth)?.growthBytes);
  const generator = obj(r.generator);
  add('run', 'recovery', 's', num(recovery?.recoveredAfterS), 'recoveryS');
  add('run', 'memory growth', 'MB', growth === undefined ? undefined : growth / 1048576, 'maxMemoryGrowthMb');
  add('run', 'Generator renders', '', num(generator?.invocations));
  return out;
}

/** What differs between two runs' set-ups. */
export function setupDifferences(before: unknown, after: unknown): string[] {
  const a = obj(obj(before)?.scenario);
  const b = obj(obj(after)?.scenario);
  const out: string[] = [];
  for (const field of ['name', 'baseRate', 'maxInFlight', 'zipfS', 'seed'] as const)
    if (a?.[field] !== b?.[field]) out.push(`${field}: ${String(a?.[field])} → ${String(b?.[field])}`);
  const shape = (s: Json | undefined) =>
    (Array.isArray(s?.phases) ? s.phases : [])
      .map((p) => `${str(obj(p)?.name)} ${num(obj(p)?.durationS)?.toFixed(1)}s`)
      .join(', ');
  if (shape(a) !== shape(b)) out.push(`phases: ${shape(a)} → ${shape(b)}`);
  const target = (r: unknown) => {
    const t = obj(obj(r)?.target);
    return `${t?.embedded ? 'embedded' : 'external'}${t?.cdn ? ' through the CDN' : ''}`;
  };
  if (target(before) !== target(after)) out.push(`target: ${target(before)} → ${target(after)}`);
  return out;
}

export function compareReports(file: string, before: unknown, after: unknown): Comparison {
  const old = new Map(figuresOf(before).map((f) => [f.id, f]));
  const rows: ComparisonRow[] = figuresOf(after).map((f) => {
    const b = old.get(f.id)?.value;
    const a = f.value;
    const changePct =
      a !== undefined && b !== undefined && b !== 0 ? Math.round(((a - b) / Math.abs(b)) * 1000) / 10 : undefined;
    return {
      scope: f.scope,
      figure: f.figure,
      unit: f.unit,
      ...(f.key ? { key: f.key } : {}),
      before: b,
      after: a,
      changePct,
    };
  });
  const timeline = (Array.isArray(obj(before)?.timeline) ? (obj(before)?.timeline as unknown[]) : []).flatMap((raw) => {
    const p = obj(raw);
    const t = num(p?.t);
    // Reports written before p95 was kept have p99 only.
    return t === undefined ? [] : [{ t, p95: num(p?.p95) ?? 0, p99: num(p?.p99) ?? 0 }];
  });
  return {
    file,
    startedAt: str(obj(before)?.startedAt) ?? '?',
    differences: setupDifferences(before, after),
    rows,
    timeline,
  };
}

/** A FAIL per judged figure that got worse than the baseline by more than its tolerance (and floor). */
export function regressionChecks(c: Comparison, tolerances: Tolerances): Check[] {
  const checks: Check[] = [];
  for (const row of c.rows) {
    const tol = row.key !== undefined ? tolerances[row.key] : undefined;
    if (tol === undefined || row.key === undefined) continue;
    const base = {
      scope: row.scope,
      name: `${row.figure} vs baseline`,
      kind: 'regression' as const,
      key: row.key,
      unit: row.unit as Check['unit'],
    };
    if (row.before === undefined || row.after === undefined) {
      checks.push({ ...base, status: 'skip', detail: 'missing in one of the runs' });
      continue;
    }
    const floor = REGRESSION_FLOOR[row.key];
    const limit = Math.round((row.before * (1 + tol) + floor) * 1000) / 1000;
    checks.push({
      ...base,
      status: row.after <= limit ? 'pass' : 'fail',
      figure: row.after,
      limit,
      detail: `baseline ${row.before}${row.unit}, ${row.changePct !== undefined ? `${row.changePct > 0 ? '+' : ''}${row.changePct} %` : 'change n/a'}; tolerance ${Math.round(tol * 100)} % + ${floor}${row.unit}`,
    });
  }
  return checks;
}

/** Reads a previous report for `--baseline`. */
export async function readBaseline(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`--baseline ${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  figuresOf(value);
  return value;
}
