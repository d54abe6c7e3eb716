import { UpdateAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { renderWith, type Render } from './render.js';
import type { SampleItem } from './sample.js';

/**
 * The traffic shift: the alias' weight moved onto the candidate in steps (10 %, 50 %, 100 % by
 * default), each step watched before the next, and the alias put back on the live version at
 * the first breach. What is watched is what the candidate does with real traffic through the
 * alias: probe renders of the gate's sample sent to the alias (so its weighted routing decides,
 * as for the Preprocessor's invocations), counted by the version that ran them
 * (`ExecutedVersion`), and the Preprocessor's 502s when its `/metrics` is given.
 *
 * On AWS the same steps are CodeDeploy's (a `Canary10Percent5Minutes`-style config on the
 * alias) with `Marquee/GeneratorFailures` as the alarm; this is the rehearsal of it, and the way
 * to drive the alias by hand where no CodeDeploy is set up.
 */

export interface ShiftLimits {
  /** Candidate failures tolerated per step: 0, the sample renders deterministically. */
  maxFailures: number;
  /** A step breaches when the candidate's p95 passes the live version's by this factor … */
  latencyRatio: number;
  /** … plus this allowance (a cold environment of the candidate costs a few hundred ms once). */
  latencyAllowanceMs: number;
}

export const DEFAULT_LIMITS: ShiftLimits = { maxFailures: 0, latencyRatio: 1.5, latencyAllowanceMs: 250 };

export interface VersionWatch {
  invocations: number;
  failures: number;
  p95Ms: number;
  /** The live version's p95 (from the gate) on the same derivatives. */
  referenceP95Ms: number;
}

export interface ShiftStep {
  weight: number;
  candidate: VersionWatch;
  baseline: VersionWatch;
  /** 502 replies the Preprocessor counted during the step (when watched). */
  preprocessor502s?: number;
  breach?: string;
}

export interface ShiftResult {
  outcome: 'promoted' | 'rolled back';
  steps: ShiftStep[];
  /** Where the alias was left. */
  alias: { functionVersion: string; weights: Record<string, number> };
  ms: number;
}

export interface ShiftOptions {
  lambda: LambdaClient;
  functionName: string;
  alias: string;
  baseline: string;
  candidate: string;
  /** Percentages, increasing, the last 100. */
  steps: readonly number[];
  probes: readonly SampleItem[];
  probesPerStep: number;
  /**
   * Candidate invocations a step must see before it is judged: at 10 %, 20 probes reach the
   * candidate 0 times in 12 % of runs, and a step that watched nothing proves nothing. Probing
   * goes on (through the alias, at most four times `probesPerStep`) until it has them.
   */
  minCandidateProbes: number;
  concurrency: number;
  /**
   * The live version's render time of each probe (by spec key), from the gate: a step holds the
   * p95 of the candidate's probes against the p95 of the live version on the same derivatives,
   * so that a step that happened to draw costly renders (a 3x AVIF billboard takes seconds, a
   * JPEG boxshot tens of ms) is not a breach.
   */
  baselineMs: ReadonlyMap<string, number>;
  limits: ShiftLimits;
  /** Extra time each step is held, watching the Preprocessor (real traffic), after its probes. */
  dwellMs: number;
  /** The Preprocessor's count of 502 replies so far, when it is watched. */
  preprocessor502s?: () => Promise<number>;
  onStep?: (step: ShiftStep) => void;
}

export function p95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)] as number;
}

interface Probe {
  key: string;
  render: Render;
}

function watchOf(probes: readonly Probe[], baselineMs: ReadonlyMap<string, number>): VersionWatch {
  const ok = probes.filter((p) => p.render.ok);
  return {
    invocations: probes.length,
    failures: probes.length - ok.length,
    p95Ms: p95(ok.map((p) => p.render.ms)),
    referenceP95Ms: p95(ok.map((p) => baselineMs.get(p.key) ?? 0)),
  };
}

async function setAlias(opts: ShiftOptions, functionVersion: string, weights: Record<string, number>): Promise<void> {
  await opts.lambda.send(
    new UpdateAliasCommand({
      FunctionName: opts.functionName,
      Name: opts.alias,
      FunctionVersion: functionVersion,
      RoutingConfig: { AdditionalVersionWeights: weights },
    }),
  );
}

function breachOf(step: ShiftStep, opts: ShiftOptions): string | undefined {
  const { limits } = opts;
  if (step.candidate.failures > limits.maxFailures)
    return `${step.candidate.failures} candidate failures (at most ${limits.maxFailures})`;
  const reference = step.candidate.referenceP95Ms;
  const allowed = reference * limits.latencyRatio + limits.latencyAllowanceMs;
  if (step.candidate.invocations > 0 && step.candidate.p95Ms > allowed)
    return `candidate p95 ${step.candidate.p95Ms.toFixed(0)} ms > ${allowed.toFixed(0)} ms (${limits.latencyRatio} × live ${reference.toFixed(0)} ms on the same derivatives + ${limits.latencyAllowanceMs})`;
  if ((step.preprocessor502s ?? 0) > 0) return `the Preprocessor answered ${step.preprocessor502s} 502s`;
  return undefined;
}

export async function shiftTraffic(opts: ShiftOptions): Promise<ShiftResult> {
  const started = performance.now();
  const steps: ShiftStep[] = [];
  const limit = pLimit(opts.concurrency);
  for (const weight of opts.steps) {
    const full = weight >= 100;
    // At 100 % the alias names the candidate outright, as CodeDeploy leaves it.
    if (full) await setAlias(opts, opts.candidate, {});
    else await setAlias(opts, opts.baseline, { [opts.candidate]: weight / 100 });
    const before = await opts.preprocessor502s?.();
    const probes: Probe[] = [];
    const probe = (i: number) =>
      limit(async (): Promise<Probe> => {
        const item = opts.probes[(i + steps.length * opts.probesPerStep) % opts.probes.length] as SampleItem;
        return { key: item.key, render: await renderWith(opts.lambda, opts.functionName, opts.alias, item.request) };
      });
    const seen = () => probes.filter((p) => p.render.executed === opts.candidate).length;
    const cap = opts.probesPerStep * 4;
    probes.push(...(await Promise.all(Array.from({ length: opts.probesPerStep }, (_, i) => probe(i)))));
    while (seen() < opts.minCandidateProbes && probes.length < cap) {
      const batch = Math.min(opts.concurrency, cap - probes.length);
      probes.push(...(await Promise.all(Array.from({ length: batch }, (_, i) => probe(probes.length + i)))));
    }
    if (opts.dwellMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.dwellMs));
    const after = await opts.preprocessor502s?.();
    const step: ShiftStep = {
      weight,
      candidate: watchOf(
        probes.filter((p) => p.render.executed === opts.candidate),
        opts.baselineMs,
      ),
      baseline: watchOf(
        probes.filter((p) => p.render.executed !== opts.candidate),
        opts.baselineMs,
      ),
      ...(before !== undefined && after !== undefined ? { preprocessor502s: after - before } : {}),
    };
    const breach = breachOf(step, opts);
    if (breach !== undefined) step.breach = breach;
    steps.push(step);
    opts.onStep?.(step);
    if (breach !== undefined) {
      await setAlias(opts, opts.baseline, {});
      return {
        outcome: 'rolled back',
        steps,
        alias: { functionVersion: opts.baseline, weights: {} },
        ms: performance.now() - started,
      };
    }
  }
  return {
    outcome: 'promoted',
    steps,
    alias: { functionVersion: opts.candidate, weights: {} },
    ms: performance.now() - started,
  };
}

/** The Preprocessor's 502 replies so far, from its Prometheus `/metrics`. */
export async function scrape502s(metricsUrl: string): Promise<number> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('marquee_http_requests_total{') || !line.includes('status="502"')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}
