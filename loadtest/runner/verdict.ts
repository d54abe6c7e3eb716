// The verdict of a run: each phase against its limits, the run against the run's, and the
// properties any run must have whatever the hardware. Pure: figures in, checks out.
import { phaseLimits, type Limited, type LimitedPhase, type SloKey, type Thresholds } from '../scenarios/limits.js';
import type { Recovery } from './recovery.js';
import type { MemoryGrowth } from './resources.js';
import type { PhaseSummary } from './stats.js';
import { ERROR_CLASSES } from './classify.js';
import type { VerifyMode, VerifyResult } from './verify.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface Check {
  /** A phase name, or `run`. */
  scope: string;
  name: string;
  kind: 'slo' | 'property' | 'regression';
  /** The limit judged, for SLO and regression checks. */
  key?: SloKey;
  status: CheckStatus;
  /** The measured figure and the limit it was held to, in `unit`. */
  figure?: number;
  limit?: number;
  /** How the figure is held to the limit: at most (the default), or exactly. */
  relation?: 'atMost' | 'equals';
  unit?: 'ms' | 's' | 'MB' | '%' | '';
  detail: string;
}

export type Verdict = 'pass' | 'fail';

/** `fail` when any check failed; skipped checks (nothing to measure them with) do not decide. */
export function verdictOf(checks: readonly Check[]): Verdict {
  return checks.some((c) => c.status === 'fail') ? 'fail' : 'pass';
}

const pct = (rate: number) => Math.round(rate * 100_000) / 1000;

function atMost(
  base: Omit<Check, 'status' | 'figure' | 'limit' | 'detail'>,
  figure: number,
  limit: number,
  detail: string,
): Check {
  return { ...base, status: figure <= limit ? 'pass' : 'fail', figure, limit, detail };
}

/** The per-phase SLO checks: p95 and p99 of successful replies, error rate, shed rate. Warm-up phases are not judged. */
export function phaseChecks(def: Limited, phases: readonly (PhaseSummary & LimitedPhase)[]): Check[] {
  const checks: Check[] = [];
  for (const p of phases) {
    if (p.warmup) continue;
    const limits = phaseLimits(def, def.phases.find((d) => d.name === p.name) ?? p);
    const scope = p.name;
    const ok = p.latency.count;
    for (const [key, q] of [
      ['p95Ms', 'p95'],
      ['p99Ms', 'p99'],
    ] as const) {
      const limit = limits[key];
      if (limit === null) continue;
      const base = { scope, name: `${q} of 200/304`, kind: 'slo' as const, key, unit: 'ms' as const };
      if (ok === 0) {
        checks.push({ ...base, status: 'fail', limit, detail: `no successful replies among ${p.sent} requests` });
        continue;
      }
      checks.push(atMost(base, p.latency[q], limit, `${ok} successful replies, max ${p.latency.max} ms`));
    }
    for (const [key, name, rate, what] of [
      ['maxErrorRate', 'error rate', p.errorRate, 'errors'],
      ['maxShedRate', 'shed rate', p.shedRate, 'shed'],
    ] as const) {
      const limit = limits[key];
      if (limit === null) continue;
      const base = { scope, name, kind: 'slo' as const, key, unit: '%' as const };
      if (p.sent === 0) {
        checks.push({ ...base, status: 'fail', limit: pct(limit), detail: 'no requests in this phase' });
        continue;
      }
      const count = what === 'shed' ? p.classes.shed : ERROR_CLASSES.reduce((n, c) => n + p.classes[c], 0);
      checks.push(atMost(base, pct(rate), pct(limit), `${count} ${what} of ${p.sent} requests`));
    }
  }
  return checks;
}

/** Recovery after the spike and memory growth, against the run's limits. */
export function runChecks(
  t: Thresholds,
  recovery: Recovery,
  memory: MemoryGrowth | undefined,
  memorySource: string,
): Check[] {
  const checks: Check[] = [];
  const limitS = t.recoveryS;
  if (limitS !== undefined && limitS !== null && recovery.spikeEndS !== undefined) {
    const base = { scope: 'run', name: 'recovery after the spike', kind: 'slo' as const, key: 'recoveryS' as const };
    const bar =
      recovery.thresholdMs !== undefined
        ? `two ${recovery.windowS} s windows with p95 ≤ ${recovery.thresholdMs.toFixed(1)} ms (baseline p95 ${recovery.baselineP95Ms} ms) and no shedding`
        : 'no baseline p95 (no successful replies in the base phase)';
    if (recovery.unjudgeable !== undefined)
      checks.push({ ...base, status: 'skip', limit: limitS, unit: 's', detail: `not judged: ${recovery.unjudgeable}` });
    else if (recovery.recoveredAfterS === null || recovery.recoveredAfterS === undefined)
      checks.push({ ...base, status: 'fail', limit: limitS, unit: 's', detail: `never back: ${bar}` });
    else checks.push({ ...atMost(base, recovery.recoveredAfterS, limitS, `back to ${bar}`), unit: 's' });
  }
  const limitMb = t.maxMemoryGrowthMb;
  if (limitMb !== null) {
    const base = {
      scope: 'run',
      name: 'memory growth net of the output cache',
      kind: 'slo' as const,
      key: 'maxMemoryGrowthMb' as const,
      unit: 'MB' as const,
    };
    if (!memory) checks.push({ ...base, status: 'skip', limit: limitMb, detail: `not measured: ${memorySource}` });
    else {
      const mb = Math.round((memory.growthBytes / 1048576) * 10) / 10;
      const detail = `RSS − output cache ${(memory.startNetBytes / 1048576).toFixed(0)} MB at ${memory.fromS.toFixed(0)} s → ${(memory.endNetBytes / 1048576).toFixed(0)} MB at ${memory.toS.toFixed(0)} s`;
      checks.push(atMost(base, mb, limitMb, detail));
    }
  }
  return checks;
}

export interface PropertyInputs {
  total: PhaseSummary;
  verification: VerifyResult;
  verifyMode: VerifyMode;
  /** Generator invocations during the run and where the count came from; undefined: not measured. */
  invocations: { count: number; source: string } | undefined;
  uniqueKeys: number;
  healthAfter: { status: number };
}

/** What any run must show whatever the hardware: no timings among them. */
export function propertyChecks(r: PropertyInputs): Check[] {
  const c = r.total.classes;
  const prop = (name: string) => ({ scope: 'run', name, kind: 'property' as const });
  const f = r.verification.failures[0];
  return [
    {
      ...prop('no unexpected 4xx'),
      status: c.clientError === 0 ? 'pass' : 'fail',
      detail: `${c.clientError} client errors; statuses ${JSON.stringify(r.total.statuses)}`,
    },
    {
      ...prop('the load generator kept up'),
      status: c.dropped === 0 ? 'pass' : 'fail',
      detail:
        c.dropped === 0
          ? 'no arrival dropped past the in-flight cap'
          : `${c.dropped} arrivals dropped past the in-flight cap: the open model broke, latencies are censored`,
    },
    r.verifyMode === 'none'
      ? {
          ...prop('every 200 decodes as an image of the size asked'),
          status: 'skip',
          detail: 'not checked (--verify none)',
        }
      : {
          ...prop('every 200 decodes as an image of the size asked'),
          status: r.verification.failures.length === 0 && r.verification.checked > 0 ? 'pass' : 'fail',
          detail: `${r.verification.checked} checked, ${r.verification.failures.length} failed${f ? ` (first: ${f.path}: ${f.problem})` : ''}`,
        },
    r.invocations === undefined
      ? {
          ...prop('Generator invocations never exceed unique keys'),
          status: 'skip',
          detail: 'not measured: no /metrics at the origin and no Lambda endpoint counts (give --origin-url)',
        }
      : {
          ...prop('Generator invocations never exceed unique keys'),
          status: r.invocations.count <= r.uniqueKeys ? 'pass' : 'fail',
          detail: `${r.invocations.count} invocations (${r.invocations.source}), ${r.uniqueKeys} unique keys`,
        },
    {
      ...prop('healthy after'),
      status: r.healthAfter.status === 200 ? 'pass' : 'fail',
      detail: `GET /healthz → ${r.healthAfter.status}`,
    },
  ];
}

export interface StoreInputs {
  /** Renders the Preprocessor asked the Generator to keep (`marquee_store_writes_total` over the run). */
  asked: number | undefined;
  /** Objects written under the derivatives prefix during the run and the wait after it. */
  written: number | undefined;
  /** `s3://bucket/prefix`, for the detail. */
  where?: string;
  /** How long the count waited for the last PUTs, and could have (ms). */
  waitedMs?: number;
  settleMs?: number;
  /** Why a figure is missing (the check is then skipped). */
  unmeasured?: string;
}

/**
 * Every render stored: the Generator PUTs each render of a stored type after its reply, and a
 * failed PUT is only logged, so the objects in the bucket are the proof. Objects written must
 * equal the renders asked to keep: fewer is a lost write; more is a writer the count does not see.
 */
export function storeCheck(s: StoreInputs): Check {
  const base = { scope: 'run', name: 'every render stored', kind: 'property' as const, unit: '' as const };
  if (s.asked === undefined || s.written === undefined)
    return {
      ...base,
      status: 'skip',
      detail: `not measured: ${s.unmeasured ?? (s.asked === undefined ? 'no marquee_store_writes_total' : 'no derivatives bucket to list')}`,
    };
  const where = s.where !== undefined ? ` to ${s.where}` : '';
  const waited =
    s.waitedMs !== undefined
      ? `, counted ${(s.waitedMs / 1000).toFixed(1)} s after the run${s.settleMs !== undefined ? ` (up to ${(s.settleMs / 1000).toFixed(0)} s)` : ''}`
      : '';
  const facts = `${s.written} objects written${where} for ${s.asked} renders asked to keep (marquee_store_writes_total)${waited}`;
  const gap = s.asked - s.written;
  return {
    ...base,
    status: gap === 0 ? 'pass' : 'fail',
    figure: s.written,
    limit: s.asked,
    relation: 'equals',
    detail:
      gap > 0
        ? `${facts}: ${gap} missing (a failed PUT is only logged by the Generator: "stored":false)`
        : gap < 0
          ? `${facts}: ${-gap} more than asked (a writer the Preprocessor does not count)`
          : facts,
  };
}
