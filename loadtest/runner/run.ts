import { request } from 'undici';
import type { ScenarioDef } from '../scenarios/definitions.js';
import { SEEDED_UNIVERSE, enumerateKeys, type RequestKey } from '../scenarios/universe.js';
import { ERROR_CLASSES } from './classify.js';
import { runLoad, type LiveState } from './load.js';
import { MetricsSampler, type MetricsPoint } from './metrics.js';
import { measureRecovery, type Recovery } from './recovery.js';
import { rateAt, type PhaseWindow } from './schedule.js';
import type { LambdaStats } from './stack-protocol.js';
import type { PhaseSummary, TimelinePoint } from './stats.js';
import { ReplyVerifier, type VerifyMode, type VerifyResult } from './verify.js';

export interface RunOptions {
  baseUrl: string;
  scenario: ScenarioDef;
  keys?: readonly RequestKey[];
  verify?: VerifyMode;
  timeoutMs?: number;
  /** Sample the target's /metrics during the run (the Preprocessor's Prometheus endpoint). */
  metrics?: boolean;
  /** The embedded stack's Lambda counters, when the runner started it. */
  lambdaStats?: () => Promise<LambdaStats | undefined>;
  embedded?: boolean;
  onProgress?: (line: string) => void;
}

export interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

export interface RunReport {
  tool: string;
  scenario: ScenarioDef;
  target: { url: string; embedded: boolean };
  startedAt: string;
  durationS: number;
  phases: Array<PhaseSummary & { index: number }>;
  total: PhaseSummary;
  windows: PhaseWindow[];
  timeline: TimelinePoint[];
  metrics: { points: MetricsPoint[]; scrapeFailures: number };
  uniqueKeys: number;
  generator: {
    /** Invocations during the run (metric delta), and the Lambda endpoint's own count when embedded. */
    invocations: number | undefined;
    lambdaInvocations: number | undefined;
    lambda: LambdaStats | undefined;
    coalesced: number | undefined;
    cacheHits: number | undefined;
  };
  memory: {
    rssStartBytes: number | undefined;
    rssMaxBytes: number | undefined;
    rssEndBytes: number | undefined;
    cacheMaxBytes: number | undefined;
  };
  recovery: Recovery;
  verification: VerifyResult;
  healthAfter: { status: number; body: string };
  checks: Check[];
}

function delta(points: readonly MetricsPoint[], f: (p: MetricsPoint) => number): number | undefined {
  const first = points[0];
  const last = points[points.length - 1];
  return first && last ? f(last) - f(first) : undefined;
}

function progressLine(scenario: string, live: LiveState, metrics: MetricsPoint | undefined): string {
  const total = live.stats.totalSummary();
  const c = total.classes;
  const last = live.stats.windowPercentile(Math.max(0, live.tS - 3), live.tS, 99);
  const mb = (b: number) => `${Math.round(b / 1048576)}MB`;
  return [
    `[${scenario}] ${live.tS.toFixed(0).padStart(4)}s ${live.phase.name.padEnd(8)} ${live.targetRps.toFixed(0).padStart(4)}/s`,
    `sent ${live.sent} inflight ${live.inFlight}`,
    `ok ${c.ok} shed ${c.shed} err ${ERROR_CLASSES.reduce((s, k) => s + c[k], 0)} drop ${c.dropped}`,
    `p99(3s) ${last !== undefined ? `${last.toFixed(0)}ms` : '-'}`,
    metrics
      ? `gen ${metrics.generatorInvocations} hit ${metrics.cacheHits} coal ${metrics.cacheCoalesced} rss ${mb(metrics.rssBytes)}`
      : '',
  ].join(' | ');
}

async function health(baseUrl: string): Promise<{ status: number; body: string }> {
  try {
    const res = await request(`${baseUrl}/healthz`, { headersTimeout: 5000, bodyTimeout: 5000 });
    return { status: res.statusCode, body: (await res.body.text()).slice(0, 200) };
  } catch (err) {
    return { status: 0, body: (err as Error).message };
  }
}

/** Runs one scenario against a base URL and gathers everything the reports show. */
export async function runScenario(o: RunOptions): Promise<RunReport> {
  const keys = o.keys ?? enumerateKeys(SEEDED_UNIVERSE);
  const verifier = new ReplyVerifier(o.verify ?? 'unique');
  const startedAt = new Date();
  const t0 = Date.now();
  const sampler = o.metrics === false ? undefined : new MetricsSampler(o.baseUrl, () => (Date.now() - t0) / 1000);
  const lambdaBefore = await o.lambdaStats?.();
  await sampler?.sampleOnce();
  sampler?.start();

  const load = await runLoad({
    baseUrl: o.baseUrl,
    scenario: o.scenario,
    keys,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    onReply: verifier.collect,
    onTick: (live) => o.onProgress?.(progressLine(o.scenario.name, live, sampler?.latest())),
  });

  await sampler?.stop();
  const lambdaAfter = await o.lambdaStats?.();
  const healthAfter = await health(o.baseUrl);
  const verification = await verifier.verify();
  const points = sampler?.points ?? [];
  const total = load.stats.totalSummary();
  const phases = load.stats.phaseSummaries().map((p, index) => ({ ...p, index }));
  const recovery = measureRecovery(load.stats, load.windows);
  const invocations = delta(points, (p) => p.generatorInvocations);
  const lambdaInvocations =
    lambdaBefore && lambdaAfter ? lambdaAfter.invocations - lambdaBefore.invocations : undefined;
  const rss = points.map((p) => p.rssBytes).filter((b) => b > 0);

  const report: RunReport = {
    tool: 'marquee loadtest runner (undici, open-model arrival rate)',
    scenario: o.scenario,
    target: { url: o.baseUrl, embedded: o.embedded ?? false },
    startedAt: startedAt.toISOString(),
    durationS: Math.round(load.durationS * 100) / 100,
    phases,
    total,
    windows: load.windows,
    timeline: load.stats.timeline((t) => rateAt(load.windows, t)),
    metrics: { points, scrapeFailures: sampler?.failures ?? 0 },
    uniqueKeys: load.uniqueKeys,
    generator: {
      invocations,
      lambdaInvocations,
      lambda: lambdaAfter,
      coalesced: delta(points, (p) => p.cacheCoalesced),
      cacheHits: delta(points, (p) => p.cacheHits),
    },
    memory: {
      rssStartBytes: rss[0],
      rssMaxBytes: rss.length > 0 ? Math.max(...rss) : undefined,
      rssEndBytes: rss[rss.length - 1],
      cacheMaxBytes: points.length > 0 ? Math.max(...points.map((p) => p.cacheBytes)) : undefined,
    },
    recovery,
    verification,
    healthAfter,
    checks: [],
  };
  report.checks = propertyChecks(report);
  return report;
}

/** The properties a run must have whatever the hardware: no timings among them. */
export function propertyChecks(r: RunReport): Check[] {
  const c = r.total.classes;
  const badStatuses = Object.entries(r.total.statuses).filter(([s]) => Number(s) >= 500);
  const serverErrors = c.serverError;
  const invocations = r.generator.lambdaInvocations ?? r.generator.invocations;
  const checks: Check[] = [
    {
      name: 'no 5xx other than shedding with Retry-After',
      pass: serverErrors === 0,
      detail: `${serverErrors} server errors; 5xx statuses seen: ${JSON.stringify(Object.fromEntries(badStatuses))}, shed ${c.shed}`,
    },
    { name: 'no network errors', pass: c.networkError === 0, detail: `${c.networkError} network errors / timeouts` },
    { name: 'no unexpected 4xx', pass: c.clientError === 0, detail: `${c.clientError} client errors` },
    {
      name: 'every 200 decodes as an image of the size asked',
      pass: r.verification.failures.length === 0 && r.verification.checked > 0,
      detail: `${r.verification.checked} checked, ${r.verification.failures.length} failed${r.verification.failures[0] ? ` (first: ${r.verification.failures[0].path}: ${r.verification.failures[0].problem})` : ''}`,
    },
    {
      name: 'Generator invocations never exceed unique keys',
      pass: invocations !== undefined && invocations <= r.uniqueKeys,
      detail: `${invocations ?? 'unknown'} invocations (${r.generator.lambdaInvocations !== undefined ? 'Lambda endpoint' : '/metrics'}), ${r.uniqueKeys} unique keys`,
    },
    { name: 'healthy after', pass: r.healthAfter.status === 200, detail: `GET /healthz → ${r.healthAfter.status}` },
  ];
  return checks;
}
