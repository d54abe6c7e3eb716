import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { ScenarioDef } from '../scenarios/definitions.js';
import type { SloOverride } from '../scenarios/limits.js';
import { SEEDED_UNIVERSE, enumerateKeys, type RequestKey } from '../scenarios/universe.js';
import { ERROR_CLASSES } from './classify.js';
import { compareReports, regressionChecks, type Comparison, type Tolerances } from './compare.js';
import { runLoad, type LiveState } from './load.js';
import { MetricsSampler, type MetricsPoint } from './metrics.js';
import { measureRecovery, type Recovery } from './recovery.js';
import { memoryGrowth, phaseResources, type MemoryGrowth, type PhaseResources } from './resources.js';
import { rateAt, type PhaseWindow } from './schedule.js';
import type { CdnStats, LambdaStats } from './stack-protocol.js';
import type { PhaseSummary, TimelinePoint } from './stats.js';
import { watchStore, type StoreReport, type StoreTarget } from './store.js';
import { UsageSampler, usageSource, type UsagePoint } from './usage.js';
import { phaseChecks, propertyChecks, runChecks, storeCheck, verdictOf, type Check, type Verdict } from './verdict.js';
import { ReplyVerifier, type VerifyMode, type VerifyResult } from './verify.js';
import { PutTimingCollector, type PutTimings } from './puts.js';

export interface RunOptions {
  /** Where the load goes: the Preprocessor, or a CDN in front of it. */
  baseUrl: string;
  /** Where the Preprocessor's /metrics is, when the load goes through a CDN (default: baseUrl). */
  originUrl?: string;
  /** The load goes through a CDN: the origin sees only what it lets through. */
  throughCdn?: boolean;
  scenario: ScenarioDef;
  /** The `--slo` overrides already applied to `scenario`, for the report. */
  sloOverrides?: readonly SloOverride[];
  keys?: readonly RequestKey[];
  verify?: VerifyMode;
  timeoutMs?: number;
  /** Sample the origin's /metrics during the run (the Preprocessor's Prometheus endpoint). */
  metrics?: boolean;
  /** The embedded stack's Lambda counters, when the runner started it. */
  lambdaStats?: () => Promise<LambdaStats | undefined>;
  /** Its CDN tier's counters, when it runs one. */
  cdnStats?: () => Promise<CdnStats | undefined>;
  /** Root of the stack's process tree, for its CPU. */
  stackPid?: number;
  /**
   * The derivatives bucket the Generator writes to (the embedded stack's): listed before and after
   * the run, to count the objects written against the renders asked to keep.
   */
  store?: StoreTarget;
  /** How long the count after the run waits for the Generator's last PUTs (default 10 s). */
  storeSettleMs?: number;
  /** The stack's stdout, line by line (the Generator's log lines): what each kept render's PUT took. */
  onStdoutLine?: (listener: (line: string) => void) => () => void;
  embedded?: boolean;
  /** A previous run's report (`--baseline`), and the tolerances that turn a regression into a FAIL. */
  baseline?: { file: string; report: unknown; tolerances?: Tolerances };
  onProgress?: (line: string) => void;
}

export interface RunReport {
  tool: string;
  /** The scenario as run: scale and limits (after `--slo`). */
  scenario: ScenarioDef;
  sloOverrides: SloOverride[];
  target: { url: string; originUrl: string; embedded: boolean; cdn: boolean };
  startedAt: string;
  durationS: number;
  verdict: Verdict;
  checks: Check[];
  phases: Array<PhaseSummary & { index: number }>;
  total: PhaseSummary;
  /** Server-side figures per phase: origin requests, Generator invocations and timings, CPU. */
  resources: PhaseResources[];
  windows: PhaseWindow[];
  timeline: TimelinePoint[];
  metrics: { points: MetricsPoint[]; scrapeFailures: number };
  usage: { points: UsagePoint[]; source: string };
  uniqueKeys: number;
  generator: {
    /**
     * Render invocations during the run (the Preprocessor's /metrics), and every invocation the
     * embedded Lambda endpoint ran (each render keeps itself: there is no store invocation).
     */
    invocations: number | undefined;
    lambdaInvocations: number | undefined;
    /** Renders the Generator was asked to keep (`marquee_store_writes_total` over the run). */
    storeWrites: number | undefined;
    /** What their PUTs took, after the reply, from the Generator's log lines (embedded stack only). */
    puts?: PutTimings;
    lambda: LambdaStats | undefined;
    coalesced: number | undefined;
    cacheHits: number | undefined;
  };
  memory: {
    rssStartBytes: number | undefined;
    rssMaxBytes: number | undefined;
    rssEndBytes: number | undefined;
    cacheMaxBytes: number | undefined;
    growth: MemoryGrowth | undefined;
  };
  recovery: Recovery;
  verification: VerifyResult;
  healthAfter: { status: number; body: string };
  /**
   * The derivatives bucket before and after the run: the objects written, to set against
   * `generator.storeWrites`; `{ error }` when it could not be listed; absent without a bucket.
   */
  store?: StoreReport | { error: string };
  /** The CDN's own counters over the run (Varnish's, embedded), with the hit ratio they give. */
  cdn?: CdnStats & { hitRatio: number | undefined };
  comparison?: Comparison;
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

function cdnDelta(a: CdnStats, b: CdnStats): CdnStats & { hitRatio: number | undefined } {
  const hits = b.hits - a.hits;
  const misses = b.misses - a.misses;
  const passes = b.passes - a.passes;
  const lookups = hits + misses + passes;
  return {
    hits,
    misses,
    passes,
    backendRequests: b.backendRequests - a.backendRequests,
    hitRatio: lookups > 0 ? hits / lookups : undefined,
  };
}

/** Runs one scenario against a base URL, gathers everything the reports show, and judges it. */
export async function runScenario(o: RunOptions): Promise<RunReport> {
  const keys = o.keys ?? enumerateKeys(SEEDED_UNIVERSE);
  const verifyMode = o.verify ?? 'unique';
  const verifier = new ReplyVerifier(verifyMode);
  const originUrl = o.originUrl ?? o.baseUrl;
  const startedAt = new Date();
  // Every sampler runs on the load's clock: second 0 is the schedule's start (set by runLoad).
  let zeroMs = performance.now();
  const clock = () => (performance.now() - zeroMs) / 1000;
  const sampler = o.metrics === false ? undefined : new MetricsSampler(originUrl, clock);
  const usage = new UsageSampler(clock, o.stackPid);
  const lambdaBefore = await o.lambdaStats?.();
  const cdnBefore = await o.cdnStats?.();
  const storeWatch = o.store ? await watchStore(o.store, o.storeSettleMs) : undefined;
  const puts = o.onStdoutLine ? new PutTimingCollector() : undefined;
  const stopPuts = puts && o.onStdoutLine?.(puts.line);
  await sampler?.sampleOnce();
  usage.sampleOnce();

  const load = await runLoad({
    baseUrl: o.baseUrl,
    scenario: o.scenario,
    keys,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    onStart: (startMs) => {
      zeroMs = startMs;
      sampler?.start();
      usage.start();
    },
    onReply: verifier.collect,
    onTick: (live) => o.onProgress?.(progressLine(o.scenario.name, live, sampler?.latest())),
  });

  await sampler?.stop();
  usage.stop();
  const lambdaAfter = await o.lambdaStats?.();
  const cdnAfter = await o.cdnStats?.();
  const healthAfter = await health(originUrl);
  const verification = await verifier.verify();
  const points = sampler?.points ?? [];
  // Counted once the replies are in: the Generator PUTs each kept render after its reply.
  const storeWrites = delta(points, (p) => p.storeWrites ?? 0);
  const storeAfter = await storeWatch?.after(storeWrites);
  stopPuts?.();
  const store = typeof storeAfter === 'string' ? { error: storeAfter } : storeAfter;
  const total = load.stats.totalSummary();
  const phases = load.stats.phaseSummaries().map((p, index) => ({ ...p, index }));
  const recovery = measureRecovery(load.stats, load.windows);
  const invocations = delta(points, (p) => p.generatorInvocations);
  const lambdaInvocations =
    lambdaBefore && lambdaAfter ? lambdaAfter.invocations - lambdaBefore.invocations : undefined;
  const rss = points.map((p) => p.rssBytes).filter((b) => b > 0);
  const warmupEndS = Math.max(0, ...load.windows.filter((w) => w.warmup).map((w) => w.endS));
  const growth = memoryGrowth(points, warmupEndS);
  const resources = phaseResources(
    load.windows,
    phases.map((p) => p.sent),
    points,
    usage.points,
    o.throughCdn === true,
  );

  const checks = [
    ...phaseChecks(o.scenario, phases),
    ...runChecks(
      o.scenario.thresholds,
      recovery,
      growth,
      points.length === 0 ? `no /metrics at ${originUrl}` : 'no marquee_process_resident_memory_bytes in /metrics',
    ),
    ...propertyChecks({
      total,
      verification,
      verifyMode,
      // Renders, as the Preprocessor counts them (throttled attempts aside), else the Lambda endpoint's.
      invocations:
        invocations !== undefined
          ? { count: invocations, source: 'renders in /metrics' }
          : lambdaInvocations !== undefined
            ? { count: lambdaInvocations, source: 'Lambda endpoint' }
            : undefined,
      uniqueKeys: load.uniqueKeys,
      healthAfter,
    }),
    storeCheck({
      asked: storeWrites,
      written: store && 'written' in store ? store.written : undefined,
      ...(store && 'written' in store
        ? { where: `s3://${store.bucket}/${store.prefix}`, waitedMs: store.waitedMs, settleMs: store.settleMs }
        : {}),
      unmeasured:
        store === undefined
          ? 'no derivatives bucket to list (the embedded stack has one)'
          : 'error' in store
            ? store.error
            : `no /metrics at ${originUrl}`,
    }),
  ];

  const report: RunReport = {
    tool: 'marquee loadtest runner (undici, open-model arrival rate)',
    scenario: o.scenario,
    sloOverrides: [...(o.sloOverrides ?? [])],
    target: { url: o.baseUrl, originUrl, embedded: o.embedded ?? false, cdn: o.throughCdn === true },
    startedAt: startedAt.toISOString(),
    durationS: Math.round(load.durationS * 100) / 100,
    verdict: verdictOf(checks),
    checks,
    phases,
    total,
    resources,
    windows: load.windows,
    timeline: load.stats.timeline((t) => rateAt(load.windows, t)),
    metrics: { points, scrapeFailures: sampler?.failures ?? 0 },
    usage: { points: usage.points, source: usageSource(o.stackPid) },
    uniqueKeys: load.uniqueKeys,
    generator: {
      invocations,
      lambdaInvocations,
      lambda: lambdaAfter,
      storeWrites,
      ...(puts ? { puts: puts.summary() } : {}),
      coalesced: delta(points, (p) => p.cacheCoalesced),
      cacheHits: delta(points, (p) => p.cacheHits),
    },
    memory: {
      rssStartBytes: rss[0],
      rssMaxBytes: rss.length > 0 ? Math.max(...rss) : undefined,
      rssEndBytes: rss[rss.length - 1],
      cacheMaxBytes: points.length > 0 ? Math.max(...points.map((p) => p.cacheBytes)) : undefined,
      growth,
    },
    recovery,
    verification,
    healthAfter,
    ...(store ? { store } : {}),
    ...(cdnBefore && cdnAfter ? { cdn: cdnDelta(cdnBefore, cdnAfter) } : {}),
  };
  if (o.baseline) {
    // The comparison reads this run the way it reads the previous one: from its JSON shape.
    const comparison = compareReports(o.baseline.file, o.baseline.report, JSON.parse(JSON.stringify(report)));
    report.comparison = comparison;
    report.checks.push(...regressionChecks(comparison, o.baseline.tolerances ?? {}));
    report.verdict = verdictOf(report.checks);
  }
  return report;
}
