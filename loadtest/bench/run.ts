import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startEmbeddedStack, type StackHandle } from '../runner/stack.js';
import {
  bareFastifyArm,
  fetchReply,
  ipxArm,
  marqueeArm,
  rawSharpArm,
  zipfSequence,
  type ArmContext,
  type ArmResult,
  type Instruments,
} from './arms.js';
import { CLK_TCK } from './cpu.js';
import { GENERATOR_WEBP_EFFORT } from './raw-sharp.js';
import { startChildServer, type ChildServer } from './servers.js';
import { benchKeys, fetchCatalog, fetchSources, type BenchKey } from './sources.js';
import {
  addGeneratorLine,
  emptyGeneratorSums,
  metricsSnapshot,
  stageBreakdown,
  SERVER_TIMING_NAMES,
  type MetricsSnapshot,
} from './stages.js';
import {
  abaRatio,
  crossRatio,
  missingFigures,
  stageGoal,
  ratio,
  summarise,
  DEFAULT_NOISE_LIMIT,
  type Ratio,
  type StageColumn,
  type VerdictSummary,
} from './table.js';

export type ArmGroup = 'uncached' | 'hit' | 'zipf' | 'ipx';

export interface BenchConfig {
  durationS: number;
  warmupS: number;
  /** Pipelines / connections for uncached work: two cores saturate at about two; four (the stack's Lambda concurrency) keeps them fed across the hops without throttling. */
  uncachedConcurrency: number;
  zipfConnections: number;
  hitConnections: number;
  zipfDraws: number;
  groups: ReadonlySet<ArmGroup>;
  /** Second uncached spec (billboard → 480x270); off for the short Preprocessor bench. */
  billboards: boolean;
  /**
   * The bench's own goals: the groups and specs it runs when not narrowed by `--only` or
   * `--no-billboards`. A goal of the suite whose figure this run lacks is SKIP, never left out.
   */
  suite: { groups: readonly ArmGroup[]; billboards: boolean };
  /** Goal of uncached Marquee over raw sharp, wall throughput (issue 11: 0.9; the Preprocessor's own bench holds it to 0.85). */
  uncachedGoal: number;
  /** Goal of uncached Marquee over ipx, wall throughput. */
  ipxGoal: number;
  /** Most CPU per image uncached Marquee may spend, over raw sharp's. */
  cpuGoal: number;
  /** Goal of a cache hit over a bare Fastify route, req/s. */
  hitGoal: number;
  /** Most invoke transport per uncached image, ms (the Generator call less its own fetch and render). */
  transportGoalMs: number;
  /**
   * Goal of Marquee over ipx on the Zipf mix, each behind the same Varnish, req/s: no slower than
   * ipx within this margin. The cache serves the repeats for both, so the ratio tends to 1 as the
   * walk lengthens; it falls short when Marquee's misses are much slower or its replies not kept.
   */
  zipfGoal: number;
  /** Past this spread of the raw sharp runs around a contender, its ratios are marked noisy. */
  noiseLimit: number;
  /** Exit non-zero when a goal fails (1) or cannot be decided: noisy or without a figure (2). */
  strict: boolean;
  log: (line: string) => void;
}

export interface BenchReport {
  startedAt: string;
  config: Omit<BenchConfig, 'groups' | 'log'> & { groups: ArmGroup[] };
  notes: string[];
  arms: ArmResult[];
  ratios: Ratio[];
  /** Per-stage breakdown of the uncached Marquee arms, one column per spec. */
  stages: StageColumn[];
  summary: VerdictSummary;
}

async function scrapeMetrics(origin: string): Promise<MetricsSnapshot | undefined> {
  try {
    const res = await request(`${origin}/metrics`);
    const text = await res.body.text();
    return res.statusCode === 200 ? metricsSnapshot(text) : undefined;
  } catch {
    return undefined;
  }
}

/** Instruments for an uncached Marquee arm: CPU of the stack's tree, /metrics deltas, Generator log lines, Server-Timing. */
function marqueeInstruments(stack: StackHandle, done: (col: StageColumn['stages']) => void): Instruments {
  return {
    cpu: stack.pid,
    serverTiming: true,
    around: async () => {
      const m0 = await scrapeMetrics(stack.url);
      const gen = emptyGeneratorSums();
      const off = stack.onStdoutLine((line) => addGeneratorLine(gen, line));
      return async (result) => {
        // The stack is idle again (see windowed): the last lines are through its pipes.
        await sleep(50);
        off();
        const m1 = await scrapeMetrics(stack.url);
        const metrics =
          m0 && m1
            ? {
                httpSumS: m1.httpSumS - m0.httpSumS,
                httpCount: m1.httpCount - m0.httpCount,
                generatorSumS: m1.generatorSumS - m0.generatorSumS,
                generatorCount: m1.generatorCount - m0.generatorCount,
              }
            : undefined;
        done(
          stageBreakdown({
            requests: result.requests,
            clientMeanMs: result.meanMs ?? Number.NaN,
            ...(metrics ? { metrics } : {}),
            generator: gen,
            serverTiming: ('serverTiming' in result ? result.serverTiming : undefined) ?? {},
          }),
        );
      };
    },
  };
}

interface Spec {
  id: string;
  work: string;
  keys: BenchKey[];
}

/** Runs every contender in one process tree, one after the other, on the same sources and specs. */
export async function runBench(cfg: BenchConfig): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const ctx: ArmContext = { durationS: cfg.durationS, warmupS: cfg.warmupS };
  const arms: ArmResult[] = [];
  const notes: string[] = [];
  const stages: StageColumn[] = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-bench-'));
  const closers: Array<() => Promise<void>> = [];
  const push = (a: ArmResult) => {
    arms.push(a);
    cfg.log(
      `  ${a.label} [${a.work}]: ${a.result.rps.toFixed(1)} req/s, ${a.cpu ? `${a.cpu.cpuPerImageMs.toFixed(1)} CPU ms/image, ` : ''}p50 ${a.result.p50Ms.toFixed(1)} ms, p99 ${a.result.p99Ms.toFixed(1)} ms, non-2xx ${a.result.non2xx + a.result.socketErrors}`,
    );
  };
  try {
    // Stack 1: no output cache (maxBytes 0), for the uncached work.
    cfg.log('starting the embedded stack without an output cache…');
    // No output cache and no derivative store: every request is a render.
    let stack: StackHandle = await startEmbeddedStack({
      preprocessor: { cache: { maxBytes: 0 }, store: { enabled: false } },
    });
    let closeStack = stack.close;
    closers.push(() => closeStack());
    const catalog = await fetchCatalog(stack.s3Endpoint);
    const all = benchKeys(catalog);
    const sources = await fetchSources(stack.s3Endpoint, all, path.join(dir, 'sources'));
    let ipx: ChildServer | undefined;
    if (cfg.groups.has('ipx')) {
      ipx = await startChildServer(['ipx', path.join(dir, 'sources')]);
      closers.push(() => (ipx as ChildServer).close());
    }
    const specs: Spec[] = [
      {
        id: 'boxshot',
        work: 'boxshot 1000x1500 JPEG → 342x513 WebP q80',
        keys: all.filter((k) => k.marquee.includes('/boxshot/') && k.width === 342),
      },
    ];
    if (cfg.billboards) {
      specs.push({
        id: 'billboard',
        work: 'billboard 1920x1080 JPEG → 480x270 WebP q80',
        keys: all.filter((k) => k.marquee.includes('/billboard/') && k.width === 480),
      });
    }
    notes.push(
      `Uncached: Marquee with an output cache of 0 bytes (nothing kept), cycling through ${specs[0]?.keys.length} distinct keys per spec so that no two requests in flight coalesce; raw sharp and ipx render the same sources at the same size.`,
      `Raw sharp and the Generator encode WebP with effort ${GENERATOR_WEBP_EFFORT} (the rules' 4 of 9); ipx cannot set effort and uses sharp's default 4, a little more CPU per image.`,
      "ipx runs in its own process with its own sharp (0.34.5 in node_modules/ipx); the Preprocessor and s3rver run in the stack process, the Generator in the local Lambda endpoint's child processes (children of the stack process).",
      `A B A: raw sharp runs right before and right after each contender (raw 1, Marquee, raw 2, ipx, raw 3); a ratio to raw sharp divides by the mean of the two runs around the contender, its range by each alone; Marquee / ipx shows the direct ratio and the one corrected by each side's own raw runs. Past a ${Math.round(cfg.noiseLimit * 100)} % spread of those raw runs a ratio is noisy, and NOISY (undecided) when the goal is met on one side of its range and not the other.`,
      `CPU ms/image: CPU time of every process of the contender over the measured window divided by the images served in it. Marquee: the stack process (Preprocessor, s3rver, local Lambda endpoint) and all its descendants (the Generator environments), /proc/<pid>/stat utime+stime+cutime+cstime in ${1000 / CLK_TCK} ms ticks, so children that exit and are reaped during the window still count; ipx and bare Fastify: their server process the same way; raw sharp: the bench process's own getrusage. wrk's own CPU is not counted for anyone. The window of a server opens once it is idle after the warm-up and closes once it is idle after wrk stops; the requests wrk abandoned then (one per connection) are finished inside it and counted as images.`,
      `Stages: wrk's mean latency, deltas of the Preprocessor's /metrics (marquee_http_request_duration_seconds, marquee_generator_duration_seconds) and the Generator's log lines (ms, timings.fetchMs, timings.renderMs) over the window; a Server-Timing header with ${SERVER_TIMING_NAMES.join(', ')} (dur in ms) takes precedence where present.`,
    );
    if (cfg.groups.has('uncached')) {
      for (const spec of specs) {
        cfg.log(`uncached: ${spec.work}`);
        const raw = (n: number, label: string) =>
          rawSharpArm(ctx, `raw-${spec.id}-${n}`, spec.work, spec.keys, sources, cfg.uncachedConcurrency, label);
        push(await raw(1, 'raw sharp in-process (A: before Marquee)'));
        push(
          await marqueeArm(
            ctx,
            `marquee-uncached-${spec.id}`,
            'Marquee uncached, end-to-end',
            spec.work,
            stack.url,
            spec.keys.map((k) => k.marquee),
            cfg.uncachedConcurrency,
            true,
            marqueeInstruments(stack, (b) => stages.push({ name: spec.id, stages: b })),
          ),
        );
        push(
          await raw(
            2,
            ipx ? 'raw sharp in-process (A: after Marquee, before ipx)' : 'raw sharp in-process (A: after Marquee)',
          ),
        );
        if (ipx) {
          push(
            await ipxArm(
              ctx,
              `ipx-uncached-${spec.id}`,
              'ipx (renders every request)',
              spec.work,
              ipx.url,
              spec.keys.map((k) => k.ipx),
              cfg.uncachedConcurrency,
              { cpu: ipx.pid },
            ),
          );
          push(await raw(3, 'raw sharp in-process (A: after ipx)'));
        }
      }
    }
    await closeStack();

    // One fixed sequence of draws for every Zipf arm, walked for 3x the other arms' duration:
    // repeats (and so cache hits) build up as it is walked. Every arm starts with empty caches and
    // no wrk warm-up (it would fill them); each server is first warmed by two requests outside the mix.
    const zipf = cfg.groups.has('zipf')
      ? (() => {
          const seq = zipfSequence(all, cfg.zipfDraws);
          const unique = new Set(seq.map((k) => k.marquee)).size;
          return {
            seq,
            work: `Zipf mix (s 0.9) over ${all.length} keys, ${cfg.zipfDraws} draws, ${unique} distinct`,
            ctx: { ...ctx, durationS: ctx.durationS * 3, warmupS: 0 } satisfies ArmContext,
          };
        })()
      : undefined;
    /** The Lambda environments, with keys outside the mix, so that cold starts do not land in it. */
    const warmMarquee = async (origin: string) => {
      for (const id of ['80000001', '80000004']) await fetchReply(origin, `/v1/artwork/logo/${id}/300x100.webp`);
    };
    if (zipf) {
      notes.push(
        `Zipf mix: boxshots and billboards of titles without badges, every canonical size, WebP; wrk walks one fixed sequence of draws for 3x the other arms' duration, from empty caches, after two requests outside the mix straight to the server (Marquee: logos, warming its Lambda environments; ipx: a size outside the mix).`,
        `Zipf mix behind Varnish (the goal): each contender behind the same Varnish (Debian's varnishd, started by infra/local/cdn/varnish.ts with its defaults), as each is deployed behind a CDN. Marquee behind the stack's own VCL (infra/local/cdn/marquee.vcl, npm start -- --cdn), its output cache and derivative store behind it as deployed; ipx behind a VCL keyed on the URL alone (loadtest/bench/servers-child.ts) with its Cache-Control max-age raised from 60 s to a day. The contender's CPU counts its varnishd, a child of its process.`,
        `Zipf mix, Marquee without a CDN (INFO): Marquee's in-process output cache against ipx behind Varnish. Not a goal: Marquee is deployed behind a CDN too, and the claim is not that its output cache outruns Varnish. Against ipx with no cache at all it measured hundreds of times faster and would pass whenever a cache works, so that row is no longer run.`,
      );
    }

    if (zipf || cfg.groups.has('hit')) {
      cfg.log('starting the embedded stack with its output cache…');
      stack = await startEmbeddedStack({});
      closeStack = stack.close;
      await warmMarquee(stack.url);

      if (zipf) {
        cfg.log(`zipf: ${zipf.work}`);
        push(
          await marqueeArm(
            zipf.ctx,
            'marquee-zipf',
            'Marquee (own output cache, no CDN), Zipf mix with repeats',
            zipf.work,
            stack.url,
            zipf.seq.map((k) => k.marquee),
            cfg.zipfConnections,
            false,
            { cpu: stack.pid },
          ),
        );
      }
      if (cfg.groups.has('hit')) {
        const key = all[0] as BenchKey;
        await fetchReply(stack.url, key.marquee);
        const hit = await fetchReply(stack.url, key.marquee);
        if (hit.status !== 200 || hit.xCache !== 'hit')
          throw new Error(`expected a cache hit for ${key.marquee}, got ${hit.status} X-Cache ${hit.xCache}`);
        const work = `${hit.body.length} B WebP, one URL`;
        cfg.log(`cache hit: ${work}`);
        push(
          await marqueeArm(
            ctx,
            'marquee-hit',
            'Marquee cache hit',
            work,
            stack.url,
            [key.marquee],
            cfg.hitConnections,
            true,
            {
              cpu: stack.pid,
            },
          ),
        );
        await closeStack();
        push(await bareFastifyArm(ctx, dir, hit.body, hit.contentType, key.marquee, cfg.hitConnections));
      }
      await closeStack();
    }

    if (zipf && ipx) {
      cfg.log('zipf behind Varnish: Marquee (a fresh stack with its CDN tier)…');
      stack = await startEmbeddedStack({ cdn: true });
      closeStack = stack.close;
      const cdnUrl = stack.cdnUrl;
      if (cdnUrl === undefined) throw new Error('the embedded stack started without its CDN tier (cdn: true)');
      await warmMarquee(stack.url);
      push(
        await marqueeArm(
          zipf.ctx,
          'marquee-cdn-zipf',
          'Marquee behind Varnish, same Zipf mix',
          zipf.work,
          cdnUrl,
          zipf.seq.map((k) => k.marquee),
          cfg.zipfConnections,
          false,
          { cpu: stack.pid },
        ),
      );
      await closeStack();

      cfg.log('zipf behind Varnish: ipx…');
      const cached = await startChildServer(['ipx-cdn', path.join(dir, 'sources'), path.join(dir, 'varnish-ipx')]);
      closers.push(() => cached.close());
      const mix = new Set(zipf.seq.map((k) => k.ipx));
      for (const k of all.slice(0, 2)) {
        const outside = `/s_${k.width + 1}x${k.height + 1},f_webp,q_${k.quality}/${k.sourceKey}`;
        if (mix.has(outside)) throw new Error(`${outside} is in the Zipf mix`);
        const r = await fetchReply(cached.origin, outside);
        if (r.status !== 200) throw new Error(`ipx warm-up ${outside}: ${r.status}`);
      }
      push(
        await ipxArm(
          zipf.ctx,
          'ipx-cdn-zipf',
          'ipx behind Varnish, same Zipf mix',
          zipf.work,
          cached.url,
          zipf.seq.map((k) => k.ipx),
          cfg.zipfConnections,
          { cpu: cached.pid },
        ),
      );
      await cached.close();
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  const ratios = [...benchRatios(arms, cfg), ...transportGoals(stages, cfg)];
  const { log: _log, groups, ...rest } = cfg;
  return {
    startedAt,
    config: { ...rest, groups: [...groups] },
    notes,
    arms,
    ratios,
    stages,
    summary: summarise(ratios),
  };
}

export type GoalConfig = Pick<
  BenchConfig,
  'uncachedGoal' | 'ipxGoal' | 'cpuGoal' | 'hitGoal' | 'zipfGoal' | 'noiseLimit' | 'transportGoalMs'
> &
  Partial<Pick<BenchConfig, 'suite' | 'groups' | 'billboards'>>;

const ALL_GROUPS: readonly ArmGroup[] = ['uncached', 'hit', 'zipf', 'ipx'];

/**
 * Every ratio with its goal. A ratio with a figure is shown whatever ran; a goal of the suite
 * (`cfg.suite`: every group and spec when absent) without one is SKIP, its note saying which
 * figure is missing and why; a ratio without a goal and without a figure is left out.
 */
export function benchRatios(arms: readonly ArmResult[], cfg: GoalConfig): Ratio[] {
  const suite = cfg.suite ?? { groups: ALL_GROUPS, billboards: true };
  const ran = cfg.groups ?? new Set(suite.groups);
  const billboardsRan = cfg.billboards ?? suite.billboards;
  const rows: Array<{ r: Ratio; needs: readonly ArmGroup[]; spec?: string }> = [];
  const noise = cfg.noiseLimit;
  const vsIpx: readonly ArmGroup[] = ['uncached', 'ipx'];
  for (const id of ['boxshot', 'billboard']) {
    const m = `marquee-uncached-${id}`;
    const ipx = `ipx-uncached-${id}`;
    const aroundM = [`raw-${id}-1`, `raw-${id}-2`];
    const aroundI = [`raw-${id}-2`, `raw-${id}-3`];
    const row = (needs: readonly ArmGroup[], r: Ratio) => rows.push({ r, needs, spec: id });
    row(
      ['uncached'],
      abaRatio(
        arms,
        `uncached Marquee / raw sharp (${id}), req/s`,
        'throughput',
        m,
        aroundM,
        { op: '>=', value: cfg.uncachedGoal },
        noise,
      ),
    );
    row(
      ['uncached'],
      abaRatio(
        arms,
        `uncached Marquee / raw sharp (${id}), CPU per image`,
        'cpu',
        m,
        aroundM,
        { op: '<=', value: cfg.cpuGoal },
        noise,
      ),
    );
    row(
      vsIpx,
      crossRatio(
        arms,
        `uncached Marquee / ipx (${id}), req/s`,
        'throughput',
        m,
        aroundM,
        ipx,
        aroundI,
        { op: '>=', value: cfg.ipxGoal },
        noise,
      ),
    );
    row(
      vsIpx,
      crossRatio(
        arms,
        `uncached Marquee / ipx (${id}), CPU per image`,
        'cpu',
        m,
        aroundM,
        ipx,
        aroundI,
        undefined,
        noise,
      ),
    );
    row(vsIpx, abaRatio(arms, `ipx / raw sharp (${id}), req/s`, 'throughput', ipx, aroundI, undefined, noise));
    row(vsIpx, abaRatio(arms, `ipx / raw sharp (${id}), CPU per image`, 'cpu', ipx, aroundI, undefined, noise));
  }
  rows.push(
    { needs: ['hit'], r: ratio(arms, 'cache hit / bare Fastify, req/s', 'marquee-hit', 'bare', cfg.hitGoal) },
    {
      needs: ['zipf', 'ipx'],
      r: ratio(
        arms,
        'Zipf mix, each behind the same Varnish: Marquee / ipx, req/s',
        'marquee-cdn-zipf',
        'ipx-cdn-zipf',
        cfg.zipfGoal,
      ),
    },
    {
      needs: ['zipf', 'ipx'],
      r: {
        ...ratio(
          arms,
          'Zipf mix: Marquee without a CDN / ipx behind Varnish, req/s',
          'marquee-zipf',
          'ipx-cdn-zipf',
          undefined,
        ),
        note: "not a goal: Marquee's own output cache against Varnish; each is deployed behind a CDN",
      },
    },
  );

  const inSuite = (needs: readonly ArmGroup[], spec: string | undefined) =>
    needs.every((g) => suite.groups.includes(g)) && (spec !== 'billboard' || suite.billboards);
  /** Why a goal of the suite has no figure: the arms whose figure is missing, and what this run left out. */
  const skipReason = (r: Ratio, needs: readonly ArmGroup[], spec: string | undefined): string => {
    const missing = missingFigures(arms, [r.numerator, ...r.denominator], r.metric);
    const left = needs.filter((g) => !ran.has(g));
    const causes = [
      ...(left.length > 0 ? [`--only ${[...ran].join(',')} leaves out ${left.join(', ')}`] : []),
      ...(spec === 'billboard' && !billboardsRan ? ['--no-billboards'] : []),
    ];
    return `no figure: ${missing.join('; ')}${causes.length > 0 ? ` (not run: ${causes.join('; ')})` : ''}`;
  };
  return rows.flatMap(({ r, needs, spec }) => {
    if (r.value !== undefined) return [r];
    if (r.goal === undefined || !inSuite(needs, spec)) return [];
    return [{ ...r, note: skipReason(r, needs, spec) }];
  });
}

/**
 * The invoke transport per image (the Generator call less the Generator's own fetch and render)
 * against its ceiling, for each uncached spec that ran; SKIP where the stage has no figure.
 */
export function transportGoals(stages: readonly StageColumn[], cfg: Pick<GoalConfig, 'transportGoalMs'>): Ratio[] {
  return stages.map((column) =>
    stageGoal(`invoke transport per image (${column.name}), ms`, column, 'invoke transport', cfg.transportGoalMs),
  );
}

export const DEFAULT_GOALS = {
  uncachedGoal: 0.9,
  // Issue 20: the whole embedded stack against ipx on the same images, and its CPU against raw sharp's.
  ipxGoal: 0.9,
  cpuGoal: 1.15,
  transportGoalMs: 3,
  hitGoal: 0.8,
  zipfGoal: 0.9,
  noiseLimit: DEFAULT_NOISE_LIMIT,
} as const;
