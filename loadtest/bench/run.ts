import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
} from './arms.js';
import { GENERATOR_WEBP_EFFORT } from './raw-sharp.js';
import { startChildServer, type ChildServer } from './servers.js';
import { benchKeys, fetchCatalog, fetchSources, type BenchKey } from './sources.js';
import { ratio, type Ratio } from './table.js';

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
  /** Goal of uncached Marquee over raw sharp (the Preprocessor's own bench holds it to 0.85). */
  uncachedGoal: number;
  log: (line: string) => void;
}

export interface BenchReport {
  startedAt: string;
  config: Omit<BenchConfig, 'groups' | 'log'> & { groups: ArmGroup[] };
  notes: string[];
  arms: ArmResult[];
  ratios: Ratio[];
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
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-bench-'));
  const closers: Array<() => Promise<void>> = [];
  const push = (a: ArmResult) => {
    arms.push(a);
    cfg.log(
      `  ${a.label} [${a.work}]: ${a.result.rps.toFixed(1)} req/s, p50 ${a.result.p50Ms.toFixed(1)} ms, p99 ${a.result.p99Ms.toFixed(1)} ms, non-2xx ${a.result.non2xx + a.result.socketErrors}`,
    );
  };
  try {
    // Stack 1: no output cache (maxBytes 0), for the uncached work.
    cfg.log('starting the embedded stack without an output cache…');
    let stack: StackHandle = await startEmbeddedStack({ preprocessor: { cache: { maxBytes: 0 } } });
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
      "ipx runs in its own process with its own sharp (0.34.5 in node_modules/ipx); the Preprocessor runs in the stack process, the Generator in the local Lambda endpoint's child processes, s3rver in its own.",
    );
    if (cfg.groups.has('uncached')) {
      for (const spec of specs) {
        cfg.log(`uncached: ${spec.work}`);
        push(await rawSharpArm(ctx, `raw-${spec.id}`, spec.work, spec.keys, sources, cfg.uncachedConcurrency));
        push(
          await marqueeArm(
            ctx,
            `marquee-uncached-${spec.id}`,
            'Marquee uncached, end-to-end',
            spec.work,
            stack.url,
            spec.keys.map((k) => k.marquee),
            cfg.uncachedConcurrency,
          ),
        );
        if (ipx)
          push(
            await ipxArm(
              ctx,
              `ipx-uncached-${spec.id}`,
              'ipx (renders every request)',
              spec.work,
              ipx.url,
              spec.keys.map((k) => k.ipx),
              cfg.uncachedConcurrency,
            ),
          );
      }
    }
    await closeStack();

    if (cfg.groups.has('zipf') || cfg.groups.has('hit')) {
      cfg.log('starting the embedded stack with its output cache…');
      stack = await startEmbeddedStack({});
      closeStack = stack.close;
      // Warm the Lambda environments with keys outside the mix, so cold starts do not land in it.
      for (const id of ['80000001', '80000004']) await fetchReply(stack.url, `/v1/artwork/logo/${id}/300x100.webp`);

      if (cfg.groups.has('zipf')) {
        const seq = zipfSequence(all, cfg.zipfDraws);
        const unique = new Set(seq.map((k) => k.marquee)).size;
        const work = `Zipf mix (s 0.9) over ${all.length} keys, ${cfg.zipfDraws} draws, ${unique} distinct`;
        notes.push(
          `Zipf mix: boxshots and billboards of titles without badges, every canonical size, WebP; wrk walks one fixed sequence of draws for 3x the other arms' duration; Marquee starts with an empty cache.`,
        );
        cfg.log(`zipf: ${work}`);
        // Longer than the other arms: repeats (and so cache hits) build up as the sequence is walked.
        const zctx: ArmContext = { ...ctx, durationS: ctx.durationS * 3 };
        push(
          await marqueeArm(
            zctx,
            'marquee-zipf',
            'Marquee, Zipf mix with repeats',
            work,
            stack.url,
            seq.map((k) => k.marquee),
            cfg.zipfConnections,
            false,
          ),
        );
        if (ipx)
          push(
            await ipxArm(
              { ...zctx, warmupS: 0 },
              'ipx-zipf',
              'ipx, same Zipf mix',
              work,
              ipx.url,
              seq.map((k) => k.ipx),
              cfg.zipfConnections,
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
          await marqueeArm(ctx, 'marquee-hit', 'Marquee cache hit', work, stack.url, [key.marquee], cfg.hitConnections),
        );
        await closeStack();
        push(await bareFastifyArm(ctx, dir, hit.body, hit.contentType, key.marquee, cfg.hitConnections));
      }
    }
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }

  const ratios: Ratio[] = [
    ratio(arms, 'uncached Marquee / raw sharp (boxshot)', 'marquee-uncached-boxshot', 'raw-boxshot', cfg.uncachedGoal),
    ratio(
      arms,
      'uncached Marquee / ipx (boxshot)',
      'marquee-uncached-boxshot',
      'ipx-uncached-boxshot',
      0.9,
      '≥ 0.9 (within 10 %)',
    ),
    ratio(
      arms,
      'uncached Marquee / raw sharp (billboard)',
      'marquee-uncached-billboard',
      'raw-billboard',
      cfg.uncachedGoal,
    ),
    ratio(
      arms,
      'uncached Marquee / ipx (billboard)',
      'marquee-uncached-billboard',
      'ipx-uncached-billboard',
      0.9,
      '≥ 0.9 (within 10 %)',
    ),
    ratio(arms, 'cache hit / bare Fastify', 'marquee-hit', 'bare', 0.7),
    ratio(arms, 'Zipf mix: Marquee / ipx', 'marquee-zipf', 'ipx-zipf', 3, '≥ 3 ("several times")'),
  ].filter((r) => r.value !== undefined);
  const { log: _log, groups, ...rest } = cfg;
  return { startedAt, config: { ...rest, groups: [...groups] }, notes, arms, ratios };
}
