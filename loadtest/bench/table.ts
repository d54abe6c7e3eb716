import type { ArmResult } from './arms.js';
import type { StageBreakdown } from './stages.js';

/** What a ratio compares: wall throughput (req/s, higher is better) or CPU ms per image (lower is better). */
export type RatioMetric = 'throughput' | 'cpu';

export interface Goal {
  op: '>=' | '<=';
  value: number;
}

/**
 * PASS / FAIL: the goal is met or not. NOISY: the baseline runs spread more than the noise
 * limit and the goal is met against one of them but not the other, so the run cannot decide.
 * INFO: a ratio shown for the picture, without a goal. SKIP: a goal without a figure (an arm not
 * run, a figure not measured): undecided, never left out, its reason in the row's note.
 */
export type Verdict = 'PASS' | 'FAIL' | 'NOISY' | 'INFO' | 'SKIP';

export interface Ratio {
  name: string;
  metric: RatioMetric;
  numerator: string;
  /** Arm ids the numerator is divided by (their mean): the raw sharp runs before and after (A B A), or one arm. */
  denominator: string[];
  /** Against the mean of the baselines (what decides when the baselines agree). */
  value: number | undefined;
  /** The ratio against each baseline alone (A B A) or direct vs drift-corrected (vs ipx): [low, high]. */
  range?: [number, number];
  /** Spread of the raw sharp runs around this ratio: (max − min) / mean of the same metric. */
  spread?: number;
  noisy: boolean;
  goal?: Goal;
  /** How the goal reads in the table, e.g. "≥ 0.9". */
  goalText: string;
  verdict: Verdict | undefined;
  /** verdict === 'PASS' (undefined without a value or a goal); kept for older readers of the JSON. */
  met: boolean | undefined;
  /** Why the row reads as it does: a SKIP's reason, what an INFO row is shown for. */
  note?: string;
}

/** Beyond this spread of the two raw sharp runs the ratio is marked noisy. */
export const DEFAULT_NOISE_LIMIT = 0.25;

function metricOf(arm: ArmResult | undefined, metric: RatioMetric): number | undefined {
  if (!arm) return undefined;
  const v = metric === 'throughput' ? arm.result.rps : arm.cpu?.cpuPerImageMs;
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** For each arm among `ids` without a figure for `metric`: which, and why (not run, or not measured). */
export function missingFigures(arms: readonly ArmResult[], ids: readonly string[], metric: RatioMetric): string[] {
  return ids.flatMap((id) => {
    const arm = arms.find((x) => x.id === id);
    if (!arm) return [`${id} did not run`];
    if (metricOf(arm, metric) !== undefined) return [];
    return [`${id} has no ${metric === 'throughput' ? 'req/s' : 'CPU per image'} figure`];
  });
}

const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** (max − min) / mean; 0 for one value. */
export function spreadOf(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  return (Math.max(...xs) - Math.min(...xs)) / avg(xs);
}

export function goalText(goal: Goal | undefined): string {
  return goal === undefined ? '-' : `${goal.op === '>=' ? '≥' : '≤'} ${goal.value}`;
}

const meets = (goal: Goal, v: number) => (goal.op === '>=' ? v >= goal.value : v <= goal.value);

/** The verdict rule, on its own so tests can hold it: see {@link Verdict}. */
export function decide(
  value: number | undefined,
  range: [number, number] | undefined,
  noisy: boolean,
  goal: Goal | undefined,
): Verdict | undefined {
  if (value === undefined) return goal === undefined ? undefined : 'SKIP';
  if (goal === undefined) return 'INFO';
  if (noisy && range && meets(goal, range[0]) !== meets(goal, range[1])) return 'NOISY';
  return meets(goal, value) ? 'PASS' : 'FAIL';
}

function finish(r: Omit<Ratio, 'verdict' | 'met' | 'goalText'>, text?: string): Ratio {
  const verdict = decide(r.value, r.range, r.noisy, r.goal);
  return {
    ...r,
    goalText: text ?? goalText(r.goal),
    verdict,
    met: verdict === 'PASS' ? true : verdict === 'FAIL' || verdict === 'NOISY' ? false : undefined,
  };
}

/**
 * A stage's mean milliseconds per image against a ceiling (the invoke transport's): not a ratio,
 * but a goal row like one, PASS/FAIL on the figure, SKIP without it.
 */
export function stageGoal(name: string, column: StageColumn | undefined, stage: string, ceilingMs: number): Ratio {
  const ms = column?.stages.rows.find((r) => r.stage === stage)?.ms;
  return finish({
    name,
    metric: 'throughput',
    numerator: `stage ${stage} (${column?.name ?? 'not run'})`,
    denominator: [],
    value: ms,
    noisy: false,
    goal: { op: '<=', value: ceilingMs },
  });
}

/**
 * A B A: the contender against the mean of the raw sharp runs around it, with the ratio against
 * each of them as its range and their spread; noisy past `noiseLimit`.
 */
export function abaRatio(
  arms: readonly ArmResult[],
  name: string,
  metric: RatioMetric,
  numerator: string,
  baselines: readonly string[],
  goal: Goal | undefined,
  noiseLimit = DEFAULT_NOISE_LIMIT,
): Ratio {
  const a = metricOf(
    arms.find((x) => x.id === numerator),
    metric,
  );
  const bs = baselines
    .map((id) =>
      metricOf(
        arms.find((x) => x.id === id),
        metric,
      ),
    )
    .filter((v): v is number => v !== undefined);
  const base = { name, metric, numerator, denominator: [...baselines], goal };
  if (a === undefined || bs.length === 0) return finish({ ...base, value: undefined, noisy: false });
  const each = bs.map((b) => a / b);
  const spread = spreadOf(bs);
  return finish({
    ...base,
    value: a / avg(bs),
    range: [Math.min(...each), Math.max(...each)],
    spread,
    noisy: spread > noiseLimit,
  });
}

/**
 * One contender against another measured at a different time (Marquee vs ipx): the direct ratio,
 * with as its range the direct and the drift-corrected ratio (each divided by the mean of its own
 * raw sharp runs); noisy when all those raw runs spread past `noiseLimit`.
 */
export function crossRatio(
  arms: readonly ArmResult[],
  name: string,
  metric: RatioMetric,
  numerator: string,
  numeratorBaselines: readonly string[],
  denominator: string,
  denominatorBaselines: readonly string[],
  goal: Goal | undefined,
  noiseLimit = DEFAULT_NOISE_LIMIT,
): Ratio {
  const get = (id: string) =>
    metricOf(
      arms.find((x) => x.id === id),
      metric,
    );
  const a = get(numerator);
  const b = get(denominator);
  const base = { name, metric, numerator, denominator: [denominator], goal };
  if (a === undefined || b === undefined) return finish({ ...base, value: undefined, noisy: false });
  const value = a / b;
  const aBase = numeratorBaselines.map(get).filter((v): v is number => v !== undefined);
  const bBase = denominatorBaselines.map(get).filter((v): v is number => v !== undefined);
  if (aBase.length === 0 || bBase.length === 0) return finish({ ...base, value, noisy: false });
  const corrected = a / avg(aBase) / (b / avg(bBase));
  const spread = spreadOf(
    [...new Set([...numeratorBaselines, ...denominatorBaselines])].map(get).filter((v): v is number => v !== undefined),
  );
  return finish({
    ...base,
    value,
    range: [Math.min(value, corrected), Math.max(value, corrected)],
    spread,
    noisy: spread > noiseLimit,
  });
}

/** A plain ratio of two arms measured side by side (cache hit vs bare Fastify, Zipf mixes). */
export function ratio(
  arms: readonly ArmResult[],
  name: string,
  numerator: string,
  denominator: string,
  goal: number | Goal | undefined,
  text?: string,
): Ratio {
  const g = typeof goal === 'number' ? { op: '>=' as const, value: goal } : goal;
  const a = metricOf(
    arms.find((x) => x.id === numerator),
    'throughput',
  );
  const b = metricOf(
    arms.find((x) => x.id === denominator),
    'throughput',
  );
  const value = a !== undefined && b !== undefined ? a / b : undefined;
  return finish(
    { name, metric: 'throughput', numerator, denominator: [denominator], value, noisy: false, goal: g },
    text,
  );
}

export interface VerdictSummary {
  pass: number;
  fail: number;
  noisy: number;
  /** Goals without a figure. */
  skip: number;
  /** What `--strict` exits with: 1 if a goal failed, else 2 if one could not be decided (noisy or skipped), else 0. */
  strictExitCode: number;
}

export function summarise(ratios: readonly Ratio[]): VerdictSummary {
  const n = (v: Verdict) => ratios.filter((r) => r.verdict === v).length;
  const [pass, fail, noisy, skip] = [n('PASS'), n('FAIL'), n('NOISY'), n('SKIP')];
  return { pass, fail, noisy, skip, strictExitCode: fail > 0 ? 1 : noisy + skip > 0 ? 2 : 0 };
}

const f1 = (v: number) =>
  !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 1 || v === 0 ? v.toFixed(1) : v.toPrecision(2);
const f2 = (v: number) => v.toFixed(2);
const pct = (v: number) => `${Math.round(v * 100)} %`;

export interface StageColumn {
  /** Column heading, e.g. "boxshot". */
  name: string;
  stages: StageBreakdown;
}

/** The comparison as Markdown tables (also what is printed). */
export function markdown(
  arms: readonly ArmResult[],
  ratios: readonly Ratio[],
  header: string,
  stages: readonly StageColumn[] = [],
): string {
  const lines = [
    header,
    '',
    '| arm | work | driven by | images | req/s | CPU ms/image | cores busy | p50 ms | p99 ms | non-2xx/errors |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const a of arms) {
    const r = a.result;
    const cpu = a.cpu;
    lines.push(
      `| ${a.label} | ${a.work} | ${a.driver} | ${r.requests} | ${f1(r.rps)} | ${cpu ? f1(cpu.cpuPerImageMs) : '-'} | ${cpu ? f2(cpu.cores) : '-'} | ${f1(r.p50Ms)} | ${f1(r.p99Ms)} | ${r.non2xx + r.socketErrors} |`,
    );
  }
  lines.push('', '| ratio | value | range | raw spread | goal | verdict | note |', '|---|---:|---:|---:|---|---|---|');
  for (const q of ratios) {
    const range = q.range ? `${f2(q.range[0])}–${f2(q.range[1])}` : '-';
    const spread = q.spread === undefined ? '-' : `${pct(q.spread)}${q.noisy ? ' noisy' : ''}`;
    const verdict =
      q.verdict === undefined ? '-' : q.noisy && q.verdict !== 'NOISY' ? `${q.verdict} (noisy)` : q.verdict;
    lines.push(
      `| ${q.name} | ${q.value === undefined ? '-' : f2(q.value)} | ${range} | ${spread} | ${q.goalText} | ${verdict} | ${q.note ?? ''} |`,
    );
  }
  const first = stages[0];
  if (first) {
    lines.push(
      '',
      `| stage (mean ms per image) | ${stages.map((s) => s.name).join(' | ')} | source |`,
      `|---|${stages.map(() => '---:|').join('')}---|`,
    );
    first.stages.rows.forEach((row, i) => {
      const cells = stages.map((s) => {
        const v = s.stages.rows[i]?.ms;
        return v === undefined ? '-' : f1(v);
      });
      lines.push(`| ${row.stage} | ${cells.join(' | ')} | ${row.source} |`);
    });
    const missing = [...new Set(stages.flatMap((s) => s.stages.missing))];
    lines.push(
      '',
      `Stage samples: ${stages.map((s) => `${s.name} wrk ${s.stages.samples.wrk}, /metrics ${s.stages.samples.metrics}, Generator log ${s.stages.samples.generatorLog}, Server-Timing ${s.stages.samples.serverTiming}`).join('; ')}.`,
      missing.length > 0 ? `Stages not measured: ${missing.join(', ')}.` : 'Every stage measured.',
    );
  }
  const s = summarise(ratios);
  lines.push('', `Goals: ${s.pass} PASS, ${s.fail} FAIL, ${s.noisy} NOISY, ${s.skip} SKIP.`);
  return lines.join('\n');
}
