// node loadtest/dist/runner/publish-cli.js [--base-rate N] [--probe-rate N] [--warmup-s N] [--before-s N]
//   [--after-s N] [--lambda-concurrency N] [--max-p95-ratio F] [--out DIR]
//
// Issue 21, done-when 2: a catalog-wide look change (the WebP of every boxshot of the sample
// catalog) published with `npm run rules -- publish --local --prewarm` while a steady load runs on
// the embedded stack. A probe asks for URLs nobody asked for before (logo sizes the steady load
// never uses), one a second: each is a live miss the Generator renders, so their latency is what a
// live miss costs before the publish and during it. The report gives the Generator's peak
// concurrency (the local Lambda's busy environments, the CLI's prewarm renders included), live
// misses' p95 during against before, and the time until every changed URL is in the store; the
// verdict holds the p95 ratio to a bound (publish-verdict.ts). Exit 0 pass, 1 fail, 2 could not run.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { childEnv } from '@marquee/shared';
import { SCENARIOS, type ScenarioDef } from '../scenarios/definitions.js';
import { SEEDED_UNIVERSE, enumerateKeys } from '../scenarios/universe.js';
import { runLoad } from './load.js';
import { reportsDir } from './paths.js';
import {
  DEFAULT_MAX_P95_RATIO,
  MIN_MISSES_PER_WINDOW,
  judgePublish,
  missWindow,
  publishSummary,
} from './publish-verdict.js';
import { startEmbeddedStack, type StackHandle } from './stack.js';
import { listStore, storeClient, writtenBetween } from './store.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RULES_CLI = path.join(ROOT, 'preprocessor/dist/cli/rules.js');
const SHIPPED_RULES = path.join(ROOT, 'preprocessor/config/rules.yaml');
/** The stack's Preprocessor polls its rules every 5 s (MARQUEE_RELOAD_MS): the flip lands within it. */
const RELOAD_MARGIN_S = 6;
/** How often the local Lambda's busy environments are sampled for the peak. */
const SAMPLE_MS = 200;

/** Logo sizes on the type's ladder that the steady load never asks for (it asks 300x100 and 600x200). */
const PROBE_SIZES = ['75x25', '95x32', '119x40', '150x50', '189x63', '238x79', '378x126', '476x159', '756x252'];
const PROBE_FORMATS = ['png', 'webp', 'avif'];

/** Every probe URL, each asked once: a first request for an image, so a live render. */
function probeUrls(): string[] {
  const urls: string[] = [];
  for (const ext of PROBE_FORMATS)
    for (const size of PROBE_SIZES)
      for (const id of SEEDED_UNIVERSE.titles) urls.push(`/v1/artwork/logo/${id}/${size}.${ext}`);
  return urls;
}

/** The shipped rules with the boxshot's WebP at quality 30: every boxshot WebP URL of the catalog changes. */
async function catalogWideDraft(file: string): Promise<void> {
  const rules = await readFile(SHIPPED_RULES, 'utf8');
  const anchor =
    '    enlarge: false\n    overlays:\n      - { flag: top10, source: badges/top10.png, gravity: northeast, scale: 0.22';
  if (!rules.includes(anchor)) throw new Error(`${SHIPPED_RULES}: the boxshot type changed; update the anchor`);
  await writeFile(file, rules.replace(anchor, `    encoding:\n      webp: { quality: 30 }\n${anchor}`));
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new Error(`${flag} expects a positive number like 2 or 0.5, got "${text}"`);
  return n;
}

interface Sample {
  tS: number;
  busy: number;
}

interface Probe {
  arrivalS: number;
  latencyMs: number;
  status: number;
  xCache: string | undefined;
}

const num = (text: string | undefined) => (text === undefined ? undefined : Number(text.replaceAll(',', '')));

/** The CLI's report, read back: the prewarm's counts and how many changed URLs render live. */
function parsePublish(stdout: string) {
  const warm = /set: [\w-]+\): ([\d,]+) images?: ([\d,]+) rendered, ([\d,]+) already stored, ([\d,]+) failed/.exec(
    stdout,
  );
  const none = /live renders: none \(every one of the ([\d,]+) changed/.exec(stdout);
  const some = /live renders: ([\d,]+) of ([\d,]+) changed/.exec(stdout);
  return {
    images: num(warm?.[1]),
    rendered: num(warm?.[2]),
    failed: num(warm?.[4]),
    urls: num(none?.[1] ?? some?.[2]),
    liveUrls: none ? 0 : num(some?.[1]),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      'base-rate': { type: 'string' },
      'probe-rate': { type: 'string' },
      'warmup-s': { type: 'string' },
      'before-s': { type: 'string' },
      'after-s': { type: 'string' },
      'lambda-concurrency': { type: 'string' },
      'max-p95-ratio': { type: 'string' },
      out: { type: 'string', default: reportsDir(import.meta.url) },
    },
  });
  const baseRate = positive('--base-rate', values['base-rate'], 3);
  const probeRate = positive('--probe-rate', values['probe-rate'], 1);
  const warmupS = positive('--warmup-s', values['warmup-s'], 20);
  const beforeS = positive('--before-s', values['before-s'], 45);
  const afterS = positive('--after-s', values['after-s'], 10);
  const lambdaConcurrency = Math.round(positive('--lambda-concurrency', values['lambda-concurrency'], 4));
  const maxP95Ratio = positive('--max-p95-ratio', values['max-p95-ratio'], DEFAULT_MAX_P95_RATIO);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  let stack: StackHandle | undefined;
  try {
    log(`starting the embedded stack (${lambdaConcurrency} Lambda environments)…`);
    stack = await startEmbeddedStack({ lambdaConcurrency });
    const s = stack;
    const startedAt = new Date().toISOString();
    const scenario: ScenarioDef = {
      ...SCENARIOS.baseline,
      name: 'publish-under-load',
      description: 'A steady load on the sample catalog while a catalog-wide boxshot look change is published.',
      baseRate,
      // Long enough for any publish: the load is stopped when the publish and its tail are over.
      phases: [
        { name: 'warm-up', durationS: warmupS, fromX: 1, toX: 1, warmup: true },
        { name: 'steady', durationS: 3600, fromX: 1, toX: 1 },
      ],
      maxInFlight: 200,
    };
    const stop = new AbortController();
    let startMs = performance.now();
    const nowS = () => (performance.now() - startMs) / 1000;
    const loading = runLoad({
      baseUrl: s.url,
      scenario,
      keys: enumerateKeys(SEEDED_UNIVERSE),
      signal: stop.signal,
      onStart: (ms) => (startMs = ms),
    });

    const samples: Sample[] = [];
    const sampling = (async () => {
      while (!stop.signal.aborted) {
        const stats = await s.lambdaStats();
        if (stats?.busy !== undefined) samples.push({ tS: nowS(), busy: stats.busy });
        await sleep(SAMPLE_MS);
      }
    })();

    const probes: Probe[] = [];
    const urls = probeUrls();
    const probing = (async () => {
      const pending: Array<Promise<void>> = [];
      for (const url of urls) {
        if (stop.signal.aborted) break;
        const arrivalS = nowS();
        const t0 = performance.now();
        pending.push(
          request(`${s.url}${url}`)
            .then(async (res) => {
              await res.body.arrayBuffer();
              const xCache = res.headers['x-cache'];
              probes.push({
                arrivalS,
                latencyMs: performance.now() - t0,
                status: res.statusCode,
                xCache: Array.isArray(xCache) ? xCache[0] : xCache,
              });
            })
            .catch(() => {
              probes.push({ arrivalS, latencyMs: performance.now() - t0, status: 0, xCache: undefined });
            }),
        );
        await sleep(1000 / probeRate);
      }
      await Promise.all(pending);
    })();

    await sleep((warmupS + beforeS) * 1000);
    const store = storeClient(s.s3Endpoint);
    const storeBefore = await listStore(store, s.store);
    const invocationsAt = (await s.lambdaStats())?.invocations ?? 0;
    const draft = path.join(await mkdtemp(path.join(tmpdir(), 'marquee-publish-load-')), 'draft.yaml');
    await catalogWideDraft(draft);
    const args = [RULES_CLI, 'publish', draft, '--local', '--prewarm', '--author', 'loadtest'];
    const port = (url: string) => new URL(url).port;
    const env = childEnv({
      MARQUEE_LOCAL_S3_PORT: port(s.s3Endpoint),
      MARQUEE_LOCAL_LAMBDA_PORT: port(s.lambdaEndpoint),
      MARQUEE_LOCAL_LAMBDA_CONCURRENCY: String(lambdaConcurrency),
      PORT: port(s.url),
    });
    for (const name of Object.keys(env)) if (/^(MARQUEE_(?!LOCAL_)|AWS_)/.test(name)) delete env[name];
    const publishStartS = nowS();
    log(`${publishStartS.toFixed(0)} s: publishing (node ${args.slice(1).join(' ')})`);
    let storedAfterS: number | undefined;
    const cli = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, args, { env, maxBuffer: 64 << 20 }, (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout }),
      );
      child.stderr?.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          const m = /\] +(\d+)\/(\d+) /.exec(line);
          if (m && m[1] === m[2]) storedAfterS ??= nowS() - publishStartS;
          if (line.trim() !== '') log(`  ${line.trim()}`);
        }
      });
    });
    const publishEndS = nowS();
    process.stderr.write(cli.stdout);
    log(`${publishEndS.toFixed(0)} s: published (exit ${cli.code}); the load goes on ${RELOAD_MARGIN_S + afterS} s`);
    await sleep((RELOAD_MARGIN_S + afterS) * 1000);
    const duringEndS = publishEndS + RELOAD_MARGIN_S;
    const storeAfter = await listStore(store, s.store);
    store.destroy();
    const lambdaAfter = await s.lambdaStats();
    stop.abort();
    const load = await loading;
    await sampling;
    await probing;

    const misses = (from: number, to: number) =>
      missWindow(
        probes
          .filter((p) => p.arrivalS >= from && p.arrivalS < to && p.status === 200 && p.xCache === 'miss')
          .map((p) => p.latencyMs),
      );
    const peak = (from: number, to: number) =>
      Math.max(0, ...samples.filter((x) => x.tS >= from && x.tS < to).map((x) => x.busy));
    const parsed = parsePublish(cli.stdout);
    const report = judgePublish({
      scenario: 'publish-under-load',
      startedAt,
      change:
        'boxshot WebP quality 30 for every title of the sample catalog (npm run rules -- publish --local --prewarm)',
      command: `node ${path.relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim(),
      publish: {
        exitCode: cli.code,
        durationS: publishEndS - publishStartS,
        storedAfterS: parsed.images === 0 ? 0 : storedAfterS,
        ...parsed,
      },
      storeWrites: writtenBetween(storeBefore, storeAfter),
      generator: {
        peakConcurrency: peak(publishStartS, duringEndS),
        peakBefore: peak(warmupS, publishStartS),
        limit: lambdaConcurrency,
        invocations: (lambdaAfter?.invocations ?? 0) - invocationsAt,
      },
      liveMisses: { before: misses(warmupS, publishStartS), during: misses(publishStartS, duringEndS) },
      steady: {
        rps: baseRate,
        beforeP95Ms: load.stats.windowPercentile(warmupS, publishStartS, 95),
        duringP95Ms: load.stats.windowPercentile(publishStartS, duringEndS, 95),
        errors:
          load.stats.windowCount(warmupS, duringEndS, 'serverError') +
          load.stats.windowCount(warmupS, duringEndS, 'networkError'),
        shed: load.stats.windowCount(warmupS, duringEndS, 'shed'),
      },
      bounds: { maxP95Ratio, minMisses: MIN_MISSES_PER_WINDOW },
    });
    await mkdir(values.out, { recursive: true });
    const file = path.join(values.out, 'publish-under-load-latest.json');
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${publishSummary(report)}\n\nreport: ${path.relative(process.cwd(), file)}\n`);
    return report.verdict === 'pass' ? 0 : 1;
  } finally {
    await stack?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`publish-under-load: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
