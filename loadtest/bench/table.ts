import type { ArmResult } from './arms.js';

export interface Ratio {
  name: string;
  numerator: string;
  denominator: string;
  value: number | undefined;
  goal: number;
  /** How the goal reads in the table, e.g. "≥ 0.75". */
  goalText: string;
  met: boolean | undefined;
}

export function ratio(
  arms: readonly ArmResult[],
  name: string,
  numerator: string,
  denominator: string,
  goal: number,
  goalText = `≥ ${goal}`,
): Ratio {
  const a = arms.find((x) => x.id === numerator)?.result.rps;
  const b = arms.find((x) => x.id === denominator)?.result.rps;
  const value = a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  return { name, numerator, denominator, value, goal, goalText, met: value === undefined ? undefined : value >= goal };
}

const f1 = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** The comparison as a Markdown table (also what is printed). */
export function markdown(arms: readonly ArmResult[], ratios: readonly Ratio[], header: string): string {
  const lines = [
    header,
    '',
    '| arm | work | driven by | requests | req/s | p50 ms | p99 ms | non-2xx/errors |',
    '|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const a of arms) {
    const r = a.result;
    lines.push(
      `| ${a.label} | ${a.work} | ${a.driver} | ${r.requests} | ${f1(r.rps)} | ${f1(r.p50Ms)} | ${f1(r.p99Ms)} | ${r.non2xx + r.socketErrors} |`,
    );
  }
  lines.push('', '| ratio | value | goal | met |', '|---|---:|---|---|');
  for (const q of ratios) {
    lines.push(
      `| ${q.name} | ${q.value === undefined ? '-' : q.value.toFixed(2)} | ${q.goalText} | ${q.met === undefined ? '-' : q.met ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}
