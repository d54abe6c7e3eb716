/**
 * The publish-under-load scenario's report and its verdict (issue 21, done-when 2): a catalog-wide
 * look change published while a steady load runs. The report gives the Generator's peak
 * concurrency, live misses' p95 during the publish against before it, and the time until every
 * changed URL is in the store; the checks judge it. Pure: the CLI (`publish-cli.ts`) measures, this
 * file decides, and a test feeds it synthetic reports.
 */
import { percentileOf } from './stats.js';

/** What a live miss may cost during a publish, against before it: the issue's "without a spike". */
export const DEFAULT_MAX_P95_RATIO = 2;
/**
 * Live misses needed in each window for a p95 worth comparing: with fewer, one slow render is the
 * p95 and the ratio says nothing. At the probe's 1/s this is half a minute of each window.
 */
export const MIN_MISSES_PER_WINDOW = 30;

/** One judged figure: what was measured, what it was held to, and whether it held. */
export interface PublishCheck {
  name: string;
  actual: string;
  limit: string;
  pass: boolean;
}

export interface MissWindow {
  /** Live misses (replies with `X-Cache: miss`) that arrived in the window. */
  count: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
}

export interface PublishLoadReport {
  scenario: 'publish-under-load';
  startedAt: string;
  /** The change published, in words, and the CLI command line. */
  change: string;
  command: string;
  /** The CLI's exit code and its report's figures. */
  publish: {
    exitCode: number;
    /** Seconds from the start of the publish to its end (the CLI's exit). */
    durationS: number;
    /** Seconds from the start of the publish until the prewarm had stored every image of its set. */
    storedAfterS: number | undefined;
    images: number | undefined;
    rendered: number | undefined;
    failed: number | undefined;
    /** Changed or added URLs, and those the report says will render live. */
    urls: number | undefined;
    liveUrls: number | undefined;
  };
  /** Objects the store gained between before and after the publish (a cross-check of `rendered`). */
  storeWrites: number;
  /** The most Generator invocations in flight at once (the local Lambda's busy environments), and its limit. */
  generator: { peakConcurrency: number; peakBefore: number; limit: number; invocations: number };
  /** Live misses, from the probe: before the publish and during it. */
  liveMisses: { before: MissWindow; during: MissWindow };
  /** Every reply of the steady load, in the same windows (ok replies' p95). */
  steady: {
    rps: number;
    beforeP95Ms: number | undefined;
    duringP95Ms: number | undefined;
    errors: number;
    /** Refused for load (429/503 with Retry-After). */
    shed: number;
  };
  bounds: { maxP95Ratio: number; minMisses: number };
  checks: PublishCheck[];
  verdict: 'pass' | 'fail';
}

/** The summary of a window's live-miss latencies. */
export function missWindow(latenciesMs: readonly number[]): MissWindow {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { count: sorted.length, p50Ms: percentileOf(sorted, 50), p95Ms: percentileOf(sorted, 95) };
}

const ms = (v: number | undefined) => (v === undefined ? 'none' : `${Math.round(v)} ms`);

/** The checks of a report; each can fail (a test shows every one failing). */
export function publishChecks(r: Omit<PublishLoadReport, 'checks' | 'verdict'>): PublishCheck[] {
  const { before, during } = r.liveMisses;
  const { maxP95Ratio, minMisses } = r.bounds;
  const ratio = before.p95Ms !== undefined && during.p95Ms !== undefined ? during.p95Ms / before.p95Ms : undefined;
  const p = r.publish;
  return [
    {
      name: 'publish exited 0 (every prewarm render and the invalidation succeeded)',
      actual: String(p.exitCode),
      limit: '0',
      pass: p.exitCode === 0,
    },
    {
      name: `live misses measured in each window (at least ${minMisses})`,
      actual: `${before.count} before, ${during.count} during`,
      limit: `≥ ${minMisses} each`,
      pass: before.count >= minMisses && during.count >= minMisses,
    },
    {
      name: "live misses' p95 during the publish against before it",
      actual:
        ratio === undefined
          ? `${ms(during.p95Ms)} vs ${ms(before.p95Ms)}`
          : `${ms(during.p95Ms)} vs ${ms(before.p95Ms)} (${ratio.toFixed(2)}×)`,
      limit: `≤ ${maxP95Ratio}×`,
      pass: ratio !== undefined && ratio <= maxP95Ratio,
    },
    {
      name: 'every changed URL in the store when the rules flip (none left to render live)',
      actual:
        p.liveUrls === undefined || p.urls === undefined ? 'not reported' : `${p.liveUrls} of ${p.urls} render live`,
      limit: '0',
      pass: p.liveUrls === 0 && (p.failed ?? 1) === 0 && p.storedAfterS !== undefined,
    },
    {
      name: 'the store gained at least the renders the prewarm reported',
      actual: `${r.storeWrites} objects written, ${p.rendered ?? 'no'} renders reported`,
      limit: `≥ ${p.rendered ?? 'the renders'}`,
      pass: p.rendered !== undefined && r.storeWrites >= p.rendered,
    },
  ];
}

export function judgePublish(r: Omit<PublishLoadReport, 'checks' | 'verdict'>): PublishLoadReport {
  const checks = publishChecks(r);
  return { ...r, checks, verdict: checks.every((c) => c.pass) ? 'pass' : 'fail' };
}

/** The report as a person reads it: the figures, then each check. */
export function publishSummary(r: PublishLoadReport): string {
  const p = r.publish;
  const { before, during } = r.liveMisses;
  const lines = [
    `publish-under-load ${r.startedAt}: ${r.change}`,
    `  command: ${r.command}`,
    `  steady load: ${r.steady.rps}/s; p95 of every reply ${ms(r.steady.beforeP95Ms)} before, ${ms(r.steady.duringP95Ms)} during; ${r.steady.errors} errors, ${r.steady.shed} shed`,
    `  publish: ${p.durationS.toFixed(1)} s, exit ${p.exitCode}; ${p.images ?? '?'} images (${p.rendered ?? '?'} rendered, ${p.failed ?? '?'} failed), every changed URL in the store after ${p.storedAfterS === undefined ? '(never)' : `${p.storedAfterS.toFixed(1)} s`}; ${p.liveUrls ?? '?'} of ${p.urls ?? '?'} changed URLs left to render live`,
    `  store: ${r.storeWrites} objects written during the publish`,
    `  Generator: peak ${r.generator.peakConcurrency} invocations in flight during the publish (${r.generator.peakBefore} before) of ${r.generator.limit}; ${r.generator.invocations} invocations in all`,
    `  live misses: p95 ${ms(before.p95Ms)} before (${before.count}, p50 ${ms(before.p50Ms)}), ${ms(during.p95Ms)} during (${during.count}, p50 ${ms(during.p50Ms)})`,
    '',
    ...r.checks.map((c) => `  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.actual} (limit ${c.limit})`),
    '',
    `verdict: ${r.verdict.toUpperCase()}`,
  ];
  return lines.join('\n');
}
