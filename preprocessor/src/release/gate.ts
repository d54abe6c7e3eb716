import type { LambdaClient } from '@aws-sdk/client-lambda';
import pLimit from 'p-limit';
import { comparePair, summary, type PairComparison, type RenderSummary } from './compare.js';
import { renderWith, type Render } from './render.js';
import type { SampleItem } from './sample.js';

/**
 * The release gate: every sampled derivative rendered by the version live now and by the
 * candidate, each by its version number (never through the alias, whose routing would mix
 * them), and compared.
 */

export interface GatePair extends PairComparison {
  path: string;
  key: string;
  kind: string;
  baseline: RenderSummary;
  candidate: RenderSummary;
}

export interface GateResult {
  baseline: string;
  candidate: string;
  threshold: number;
  pairs: GatePair[];
  /** The failing pairs, worst first. */
  failures: GatePair[];
  passed: boolean;
  ms: number;
  /** The renders of the pairs a report shows (the worst), by key. */
  renders: Map<string, { baseline: Render; candidate: Render }>;
}

export interface GateOptions {
  lambda: LambdaClient;
  functionName: string;
  baseline: string;
  candidate: string;
  items: readonly SampleItem[];
  threshold: number;
  /** Pairs rendered at once (each pair is two invocations, one per version). */
  concurrency: number;
  /** How many of the worst pairs keep their renders for the report. */
  keep: number;
  onPair?: (done: number, total: number) => void;
}

/** Worst first: failures, then by DSSIM. */
function worse(a: GatePair, b: GatePair): number {
  const fa = a.failure !== undefined ? 1 : 0;
  const fb = b.failure !== undefined ? 1 : 0;
  if (fa !== fb) return fb - fa;
  return (b.dssim ?? Number.POSITIVE_INFINITY) - (a.dssim ?? Number.POSITIVE_INFINITY);
}

export async function runGate(opts: GateOptions): Promise<GateResult> {
  const started = performance.now();
  const limit = pLimit(opts.concurrency);
  const renders = new Map<string, { baseline: Render; candidate: Render }>();
  let done = 0;
  const pairs = await Promise.all(
    opts.items.map((item) =>
      limit(async (): Promise<GatePair> => {
        const [baseline, candidate] = await Promise.all([
          renderWith(opts.lambda, opts.functionName, opts.baseline, item.request),
          renderWith(opts.lambda, opts.functionName, opts.candidate, item.request),
        ]);
        const comparison = await comparePair(baseline, candidate, opts.threshold);
        renders.set(item.key, { baseline, candidate });
        opts.onPair?.(++done, opts.items.length);
        return {
          path: item.path,
          key: item.key,
          kind: item.kind,
          baseline: summary(baseline),
          candidate: summary(candidate),
          ...comparison,
        };
      }),
    ),
  );
  const sorted = [...pairs].sort(worse);
  // Only the worst pairs' bytes are kept: a gate over thousands of derivatives holds a dozen.
  const kept = new Set(sorted.slice(0, opts.keep).map((p) => p.key));
  for (const key of renders.keys()) if (!kept.has(key)) renders.delete(key);
  const failures = sorted.filter((p) => p.failure !== undefined);
  return {
    baseline: opts.baseline,
    candidate: opts.candidate,
    threshold: opts.threshold,
    pairs,
    failures,
    passed: failures.length === 0,
    ms: performance.now() - started,
    renders,
  };
}
