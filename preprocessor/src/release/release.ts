import { join } from 'node:path';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { Catalog, Rules } from '../rules/schema.js';
import { DSSIM_THRESHOLD } from './compare.js';
import { runGate, type GateResult } from './gate.js';
import { liveVersion, publishCandidate } from './publish.js';
import { writeReport, type ReleaseReport } from './report.js';
import { releaseSample, type SampleFilter } from './sample.js';
import { DEFAULT_LIMITS, scrape502s, shiftTraffic, type ShiftLimits } from './shift.js';

/**
 * A Generator release, rehearsed end to end: publish the candidate as a version, gate it image
 * by image against the version the alias serves, and (with `shift`) weight it onto the alias
 * in steps, rolling back at a breach. Each stage is a function of its own (publish.ts, gate.ts,
 * shift.ts); this file orders them and writes the report.
 */

export interface ReleaseOptions {
  lambda: LambdaClient;
  functionName: string;
  alias: string;
  /** A version number, a bundle folder or a zip. */
  candidate: string;
  rules: Rules;
  catalog: Catalog;
  sourcesBucket: string;
  sampleSize: number;
  /** A narrower universe (a type, a title, formats): for a quick look, not a release. */
  filter?: SampleFilter;
  threshold?: number;
  /** Pairs rendered at once by the gate (and probes at once in the shift). */
  concurrency: number;
  /** Percentages; none: gate only. */
  shift?: readonly number[];
  probesPerStep?: number;
  dwellMs?: number;
  limits?: ShiftLimits;
  /** The Preprocessor's `/metrics`, watched for 502s during the shift. */
  preprocessorMetrics?: string;
  /** Where the report folder goes. */
  outDir: string;
  log?: (line: string) => void;
}

export interface ReleaseOutcome {
  report: ReleaseReport;
  /** The HTML page; undefined when there was nothing to compare. */
  page: string | undefined;
  exitCode: 0 | 1;
}

/**
 * Probe renders per shift step: at 10 % about 2 reach the candidate, at 50 % about 10, at 100 %
 * all; enough to catch a candidate that fails or is slow everywhere. A subtle regression is the
 * dwell's (real traffic, --dwell) and on AWS CodeDeploy's alarms, not the probes'.
 */
const PROBES_PER_STEP = 20;

/** Candidate invocations each step must watch (see `ShiftOptions.minCandidateProbes`). */
const MIN_CANDIDATE_PROBES = 3;

/** How many worst pairs keep their images for the report page. */
const REPORT_PAIRS = 12;

export async function runRelease(opts: ReleaseOptions): Promise<ReleaseOutcome> {
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const threshold = opts.threshold ?? DSSIM_THRESHOLD;
  const baseline = await liveVersion(opts.lambda, opts.functionName, opts.alias);
  const published = await publishCandidate(opts.lambda, opts.functionName, opts.candidate);
  const publishMs = performance.now() - started;
  log(
    `release: ${opts.alias} serves version ${baseline}; candidate ${opts.candidate} is version ${published.version}${published.created ? ' (published now)' : ''} (${(publishMs / 1000).toFixed(1)} s)`,
  );
  const sample = releaseSample(opts.rules, opts.catalog, opts.sourcesBucket, opts.sampleSize, opts.filter);
  const sampleInfo = {
    size: sample.items.length,
    kinds: sample.kinds,
    covered: sample.covered,
    universe: sample.universe,
  };
  if (published.version === baseline) {
    log(`release: the candidate is the code ${opts.alias} already serves: nothing to release`);
    const empty: Omit<GateResult, 'renders'> = {
      baseline,
      candidate: baseline,
      threshold,
      pairs: [],
      failures: [],
      passed: true,
      ms: 0,
    };
    const report: ReleaseReport = {
      functionName: opts.functionName,
      alias: opts.alias,
      baseline,
      candidate: published.version,
      candidateSource: opts.candidate,
      sample: sampleInfo,
      gate: empty,
      timings: { publishMs, gateMs: 0, totalMs: performance.now() - started },
      verdict: 'PASS',
    };
    return { report, page: undefined, exitCode: 0 };
  }
  log(
    `release: gate over ${sample.items.length} derivatives (${sample.covered} of ${sample.kinds} kinds, universe ${sample.universe}), DSSIM threshold ${threshold}`,
  );
  let lastLog = 0;
  const gate = await runGate({
    lambda: opts.lambda,
    functionName: opts.functionName,
    baseline,
    candidate: published.version,
    items: sample.items,
    threshold,
    concurrency: opts.concurrency,
    keep: REPORT_PAIRS,
    onPair: (done, total) => {
      if (done === total || performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`release: gate ${done}/${total}`);
      }
    },
  });
  const { renders: _renders, ...gateSummary } = gate;
  log(
    `release: gate ${gate.passed ? 'PASS' : 'FAIL'}: ${gate.failures.length} of ${gate.pairs.length} pairs fail (${(gate.ms / 1000).toFixed(1)} s)`,
  );
  for (const f of gate.failures.slice(0, 10)) log(`release:   ${f.path} [${f.kind}]: ${f.failure ?? ''}`);
  let shift: ReleaseReport['shift'];
  if (gate.passed && opts.shift !== undefined && opts.shift.length > 0) {
    const metricsUrl = opts.preprocessorMetrics;
    shift = await shiftTraffic({
      lambda: opts.lambda,
      functionName: opts.functionName,
      alias: opts.alias,
      baseline,
      candidate: published.version,
      steps: opts.shift,
      probes: sample.items,
      probesPerStep: opts.probesPerStep ?? PROBES_PER_STEP,
      minCandidateProbes: MIN_CANDIDATE_PROBES,
      concurrency: opts.concurrency,
      baselineMs: new Map(gate.pairs.filter((p) => p.baseline.ok).map((p) => [p.key, p.baseline.ms])),
      limits: opts.limits ?? DEFAULT_LIMITS,
      dwellMs: opts.dwellMs ?? 0,
      ...(metricsUrl !== undefined ? { preprocessor502s: () => scrape502s(metricsUrl) } : {}),
      onStep: (s) =>
        log(
          `release: ${opts.alias} at ${s.weight} %: candidate ${s.candidate.invocations} invocations, ${s.candidate.failures} failed, p95 ${s.candidate.p95Ms.toFixed(0)} ms${s.breach ? ` — BREACH: ${s.breach}` : ''}`,
        ),
    });
    log(`release: ${shift.outcome}; ${opts.alias} → version ${shift.alias.functionVersion}`);
  }
  const passed = gate.passed && (shift === undefined || shift.outcome === 'promoted');
  const report: ReleaseReport = {
    functionName: opts.functionName,
    alias: opts.alias,
    baseline,
    candidate: published.version,
    candidateSource: opts.candidate,
    sample: sampleInfo,
    gate: gateSummary,
    ...(shift !== undefined ? { shift } : {}),
    timings: {
      publishMs,
      gateMs: gate.ms,
      ...(shift !== undefined ? { shiftMs: shift.ms } : {}),
      totalMs: performance.now() - started,
    },
    verdict: passed ? 'PASS' : 'FAIL',
  };
  const page = await writeReport(opts.outDir, report, gate);
  log(
    `release: ${report.verdict} in ${(report.timings.totalMs / 1000).toFixed(1)} s; report ${join(opts.outDir, 'report.json')}, ${page}`,
  );
  return { report, page, exitCode: passed ? 0 : 1 };
}
