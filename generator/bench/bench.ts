/**
 * Generator benchmark: throughput of raw sharp vs the handler (in-process, and
 * through the local Lambda endpoint when it is built), and cold starts in fresh
 * processes. One run, ratios taken within it. Run `npm run package -w generator`
 * first (the bundle is what is measured). Not for loops: the machine is shared.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { photoJpeg } from '../test/helpers/images.js';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadavg } from 'node:os';
import { collectRenderStream } from '@marquee/shared';
import { S3RVER_CREDENTIALS } from '../test/helpers/s3.js';
import { invoke, type Reply } from '../test/helpers/stream.js';
import type { StreamingGenerator } from '../src/handler.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// BENCH_BUNDLE measures another build of the bundle (e.g. a saved copy of an older one).
const bundle = process.env.BENCH_BUNDLE ?? join(here, '..', 'dist', 'bundle', 'index.mjs');
const lambdaCli = join(repo, 'infra', 'local', 'dist', 'lambda', 'cli.js');
const PARALLEL = 2; // two cores: two pipelines saturate them
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 9);
/** Only the cold-start section (no throughput rows): `BENCH_ONLY=cold`. */
const ONLY_COLD = process.env.BENCH_ONLY === 'cold';
/** Only the CPU-per-image section: `BENCH_ONLY=cpu`. */
const ONLY_CPU = process.env.BENCH_ONLY === 'cpu';
const SPEC = { width: 480, height: 270, fit: 'cover', format: 'webp', quality: 80 } as const;

if (!existsSync(bundle)) {
  console.error(`no bundle at ${bundle}: run \`npm run package -w generator\` first`);
  process.exit(1);
}

const teardowns: Array<() => unknown> = [];

/** Spawns a child and resolves with the first stdout match of `pattern`. */
async function startChild(args: string[], pattern: RegExp, extraEnv: Record<string, string> = {}): Promise<string> {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...extraEnv },
  });
  teardowns.push(
    () => new Promise((r) => (child.exitCode !== null ? r(null) : (child.once('exit', r), child.kill('SIGTERM')))),
  );
  const found = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no ${pattern} on stdout within 20 s`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  child.stdout.resume();
  return found;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Images per second with `parallel` workers looping for `seconds` (after a short warm-up). */
async function throughput(work: () => Promise<unknown>, seconds = SECONDS, parallel = PARALLEL): Promise<number> {
  for (let i = 0; i < 3; i++) await work();
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < end) {
        await work();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

// The source: the same photo-like 3000x2000 JPEG everywhere.
const jpeg = await photoJpeg(3000, 2000, 85);
const dir = await mkdtemp(join(tmpdir(), 'marquee-bench-'));
teardowns.push(() => rm(dir, { recursive: true, force: true }));
const jpegPath = join(dir, 'source.jpg');
await writeFile(jpegPath, jpeg);
const endpoint = await startChild(['--import=tsx', join(here, 's3-server.ts')], /"endpoint":"([^"]+)"/);
const s3 = { endpoint };
const seed = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
await seed.send(new PutObjectCommand({ Bucket: 'sources', Key: 'bench/source.jpg', Body: jpeg }));
seed.destroy();
const env = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
  MARQUEE_S3_ENDPOINT: s3.endpoint,
  // Silent so the bench output stays readable; one pino line per invocation costs microseconds.
  LOG_LEVEL: 'silent',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const event = (id: string, spec: object = SPEC) => ({
  v: 1,
  id,
  source: { s3: { bucket: 'sources', key: 'bench/source.jpg' } },
  spec,
});

console.log(
  `source 3000x2000 JPEG ${(jpeg.length / 1024).toFixed(0)} KiB → 480x270 WebP q80 cover; ${PARALLEL} in parallel, ${SECONDS} s per row`,
);
console.log(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (2 cores; figures are noisy above ~1)`,
);
console.log(
  `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, concurrency ${sharp.concurrency()}, node ${process.version}\n`,
);

const focalSpec = { ...SPEC, focal: { x: 0.5, y: 0.5 } };

/**
 * The shipped bundle's handler, in this process: off Lambda's runtime it exports the plain
 * streaming function, called here with a collecting stream. The AWS SDK this bench loaded left a
 * bare `awslambda` global, which the bundle would take for the runtime's: dropped first.
 */
async function importBundle(): Promise<(e: unknown) => Promise<Reply>> {
  Object.assign(process.env, env);
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: StreamingGenerator };
  return async (e) => {
    const reply = await invoke(handler, e);
    if (reply.facts === undefined) throw new Error(`handler failed: ${reply.body.toString('utf8')}`);
    return reply;
  };
}

/** The local Lambda endpoint (its CLI, `args`) in a child, and a streamed invoke through it. */
async function startLocalLambda(args: string[]) {
  const url = await startChild(args, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, { LOG_LEVEL: 'info' });
  const { LambdaClient, InvokeWithResponseStreamCommand } = await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  /** InvokeWithResponseStream, as the Preprocessor calls it: the body once InvokeComplete has come. */
  const invokeStreamed = async (payload: Uint8Array): Promise<Buffer> => {
    const out = await lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'marquee-generator', Payload: payload }),
    );
    if (out.EventStream === undefined) throw new Error('no event stream');
    const result = await collectRenderStream(out.EventStream, 64 * 1024 * 1024);
    if ('functionError' in result) throw new Error(`function error: ${result.functionError}`);
    if (result.prelude.statusCode !== 200)
      throw new Error(`handler failed: ${result.prelude.statusCode} ${result.body.toString('utf8')}`);
    return result.body;
  };
  return { lambda, invokeStreamed };
}

/** The throughput rows (skipped with BENCH_ONLY=cold). */
async function throughputRows() {
  // Each row is compared with raw sharp doing the same crop: the handler's cost is what it adds
  // (S3 fetch, header checks, sRGB, metadata strip), not a different crop strategy.
  const rows: Array<[string, number | string, number?]> = [];
  const raw = await throughput(() =>
    sharp(jpeg).rotate().resize(480, 270, { fit: 'cover' }).webp({ quality: 80 }).toBuffer(),
  );
  rows.push(['raw sharp (centre crop)', raw, raw]);
  const rawAttention = await throughput(() =>
    sharp(jpeg)
      .rotate()
      .resize(480, 270, { fit: 'cover', position: sharp.strategy.attention })
      .webp({ quality: 80 })
      .toBuffer(),
  );
  rows.push(['raw sharp (attention crop)', rawAttention, rawAttention]);

  // The handler in-process: the shipped bundle, configured through its environment.
  const handler = await importBundle();
  let n = 0;
  rows.push([
    'handler in-process, S3 source (attention)',
    await throughput(() => handler(event(`b${n++}`))),
    rawAttention,
  ]);
  rows.push([
    'handler in-process, S3 source, focal (centre)',
    await throughput(() => handler(event(`f${n++}`, focalSpec))),
    raw,
  ]);

  // Through the local Lambda endpoint (another package), when it is built.
  if (existsSync(lambdaCli)) {
    const args = [
      lambdaCli,
      '--port',
      '0',
      '--concurrency',
      String(PARALLEL),
      '--timeout',
      '30',
      '--memory',
      '1024',
      '--handler',
      bundle,
    ];
    for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
    const { lambda, invokeStreamed } = await startLocalLambda(args);
    const viaLambda = () => invokeStreamed(Buffer.from(JSON.stringify(event(`l${n++}`))));
    rows.push(['handler via local Lambda endpoint (attention)', await throughput(viaLambda), rawAttention]);
    lambda.destroy();
  } else {
    rows.push(['handler via local Lambda endpoint', `skipped: ${lambdaCli} not built yet`]);
  }

  console.log('throughput                                          img/s   × raw sharp, same crop (goal ≥ 0.9)');
  for (const [name, v, base] of rows) {
    if (typeof v === 'string') console.log(`  ${name.padEnd(50)} ${v}`);
    else console.log(`  ${name.padEnd(50)} ${v.toFixed(1).padStart(5)}   ${(v / (base ?? raw)).toFixed(2)}`);
  }
}
if (!ONLY_COLD && !ONLY_CPU) await throughputRows();

/**
 * CPU per image, one pipeline at a time, the contenders interleaved in rounds (A B C D, A B C D, …)
 * and medians taken: where the Generator's milliseconds go beyond raw sharp's. The render step is
 * the Generator's own sharp pipeline without the handler; the handler holds the source (a
 * versioned event, as the Preprocessor sends); the Invoke hop is the local Lambda endpoint and the
 * SDK around a handler that renders nothing and streams a body the size of the real output. CPU is
 * this process and every descendant (the local endpoint and its environments), from /proc.
 */
async function cpuRows() {
  const { treeMeter } = await import('../../loadtest/bench/cpu.js');
  const { probe } = await import('../src/steps/detect.js');
  const { planRender, render } = await import('../src/steps/render.js');
  const spec = { ...focalSpec, format: 'webp' as const };
  const limits = { maxInputPixels: 100_000_000, renderTimeoutMs: 30_000 };
  const header = await probe(jpeg, limits.maxInputPixels);
  const plan = planRender(header, spec);

  const handler = await importBundle();
  const args = [lambdaCli, '--port', '0', '--concurrency', '1', '--timeout', '30', '--memory', '512'];
  // The body of a typical boxshot (342x513 WebP, about 30 KB), not this smooth test photo's.
  const hopBytes = 30_000;
  args.push('--handler', join(here, 'noop-handler.mjs'), '--env', `BENCH_NOOP_BYTES=${hopBytes}`);
  const { lambda, invokeStreamed } = await startLocalLambda(args);
  const request = Buffer.from(JSON.stringify({ ...event('hop', spec), version: 'bench-1' }));
  let n = 0;
  const contenders: Array<[string, () => Promise<unknown>]> = [
    [
      'raw sharp (centre crop)',
      () => sharp(jpeg).rotate().resize(480, 270, { fit: 'cover' }).webp({ quality: 80 }).toBuffer(),
    ],
    ['Generator render step (no handler)', () => render(jpeg, header, spec, plan, [], limits)],
    ['handler in-process, source held (versioned)', () => handler({ ...event(`c${n++}`, spec), version: 'bench-1' })],
    [`Invoke hop only (no-op handler, ${hopBytes} B body)`, () => invokeStreamed(request)],
  ];
  const PER_ROUND = 40;
  const ROUNDS = 5;
  const perImage = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
  for (const [, work] of contenders) for (let i = 0; i < 3; i++) await work();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, work] of contenders) {
      const meter = treeMeter(process.pid, name);
      for (let i = 0; i < PER_ROUND; i++) await work();
      perImage.get(name)?.push(meter.stop().cpuMs / PER_ROUND);
    }
  }
  lambda.destroy();
  const raw = median(perImage.get(contenders[0]?.[0] ?? '') ?? []);
  console.log(
    `\nCPU per image: one at a time, ${ROUNDS} interleaved rounds of ${PER_ROUND}, median (ms; this process and its descendants, /proc)`,
  );
  for (const [name] of contenders) {
    const ms = median(perImage.get(name) ?? []);
    const note = name.startsWith('Invoke') ? '   (added to every render)' : `   ${(ms / raw).toFixed(2)} × raw`;
    console.log(`  ${name.padEnd(50)} ${ms.toFixed(1).padStart(6)}${note}`);
  }
}
if (!ONLY_COLD && existsSync(lambdaCli)) await cpuRows();
if (ONLY_CPU) {
  for (const fn of teardowns.reverse()) await fn();
  process.exit(0);
}

// Cold starts: fresh processes, baseline and Generator interleaved (A B A B) so load drifts hit
// both alike. Each child times its own phases and prints them: import (require('sharp') / the
// bundle's import) and first invocation (the same resize of the same bytes / the handler's first
// call, S3 GET included), wall and CPU; the parent adds spawn → exit. Same crop on both sides:
// the Generator's event has a centre focal point, so it crops as sharp's default does.
const coldEvent = event('cold', focalSpec);
const probe = (load: string, run: string) =>
  `const c0=process.cpuUsage(),t0=performance.now();${load}const t1=performance.now(),c1=process.cpuUsage(c0);` +
  `${run}const t2=performance.now(),c2=process.cpuUsage(c0);const cpu=(c)=>(c.user+c.system)/1000;` +
  `console.log(JSON.stringify({importMs:t1-t0,invokeMs:t2-t1,importCpu:cpu(c1),totalCpu:cpu(c2)}))`;
const resizeJs = `.rotate().resize(480,270,{fit:'cover'}).webp({quality:80}).toBuffer()`;
const coldKinds = {
  "bare require('sharp') + same resize": [
    '--input-type=module',
    '-e',
    probe(
      "const {createRequire}=await import('node:module');const sharp=createRequire(import.meta.url)('sharp');",
      `await sharp((await import('node:fs')).readFileSync(${JSON.stringify(jpegPath)}))${resizeJs};`,
    ),
  ],
  // The same, with the source fetched as the Generator's first invocation fetches it: one GET of
  // the same object from the same local S3, over node:http, unsigned (s3rver allows it). What the
  // GET itself costs (a new connection, the server's answer) is then on both sides: the
  // difference to the Generator is the Generator's own.
  "bare require('sharp') + plain GET + same resize": [
    '--input-type=module',
    '-e',
    probe(
      "const {createRequire}=await import('node:module');const sharp=createRequire(import.meta.url)('sharp');",
      `const http=await import('node:http');const body=await new Promise((ok,no)=>http.get(${JSON.stringify(`${endpoint}/sources/bench/source.jpg`)},(r)=>{const c=[];r.on('data',(d)=>c.push(d));r.on('end',()=>ok(Buffer.concat(c)));r.on('error',no)}).on('error',no));` +
        `await sharp(body)${resizeJs};`,
    ),
  ],
  'Generator bundle + first invocation (S3 GET)': [
    '--input-type=module',
    '-e',
    probe(
      `const {handler}=await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
      // A stream that keeps what the handler writes, as the test helper's: the prelude's status decides.
      `const {Writable}=await import('node:stream');const parts=[];` +
        `const s=new Writable({write(c,e,cb){parts.push(c);cb()}});s.setContentType=()=>{};` +
        `await handler(${JSON.stringify(coldEvent)},s);const b=Buffer.concat(parts);` +
        `if(JSON.parse(b.subarray(0,b.indexOf(0)).toString()).statusCode!==200){console.error(b.toString());process.exit(1)}`,
    ),
  ],
} as const;
/**
 * Node 22.1+ keeps V8's code cache on disk (NODE_COMPILE_CACHE). Measured as a third kind where
 * this Node has it: the same bundle with a cache a first run wrote, same Node, same architecture.
 * Lambda runs the bundle on arm64 under a Node patch release AWS chooses, and a cache is keyed by
 * both, so one written on this x64 build machine would never be read there; /tmp starts empty in
 * every new environment. The row is the gain that cache would give, not something shipped.
 */
const compileCacheDir = join(dir, 'compile-cache');
// @types/node is Node 20's, which has no enableCompileCache: looked up by name.
const hasCompileCache =
  typeof ((await import('node:module')) as Record<string, unknown>).enableCompileCache === 'function';
const WITH_CACHE = 'Generator bundle, warm compile cache (same Node)';
const coldKindsAll: Record<string, readonly string[]> = hasCompileCache
  ? { ...coldKinds, [WITH_CACHE]: coldKinds['Generator bundle + first invocation (S3 GET)'] }
  : coldKinds;
type ColdKind = string;
interface ColdSample {
  importMs: number;
  invokeMs: number;
  importCpu: number;
  totalCpu: number;
  processMs: number;
}

/** One fresh process: its own phase timings plus spawn → exit (async: this event loop stays free). */
function coldRun(args: readonly string[], cache = false): Promise<ColdSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: join(here, '..'),
      env: { ...process.env, ...env, ...(cache ? { NODE_COMPILE_CACHE: compileCacheDir } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => {
      const processMs = performance.now() - started;
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`cold run failed (${code}): ${stderr}`));
      resolve({ ...(JSON.parse(line) as Omit<ColdSample, 'processMs'>), processMs });
    });
  });
}

const kinds = Object.keys(coldKindsAll);
const samples: Record<ColdKind, ColdSample[]> = Object.fromEntries(kinds.map((k) => [k, []]));
// The cache the warm kind reads: written by one run of the same bundle.
if (hasCompileCache) await coldRun(coldKindsAll[WITH_CACHE] ?? [], true);
for (let i = 0; i < COLD_RUNS; i++) {
  // Alternate which goes first too: A B C C B A …
  for (const kind of i % 2 === 0 ? kinds : [...kinds].reverse())
    samples[kind]?.push(await coldRun(coldKindsAll[kind] ?? [], kind === WITH_CACHE));
}
const stat = (kind: ColdKind, f: (s: ColdSample) => number) => median((samples[kind] ?? []).map(f));
const columns: Array<[string, (s: ColdSample) => number]> = [
  ['import', (s) => s.importMs],
  ['1st invoc.', (s) => s.invokeMs],
  ['total', (s) => s.importMs + s.invokeMs],
  ['CPU imp.', (s) => s.importCpu],
  ['CPU total', (s) => s.totalCpu],
  ['process', (s) => s.processMs],
];
console.log(
  `\ncold start: fresh processes, interleaved, median of ${COLD_RUNS} each (ms; wall unless CPU; process = spawn → exit)`,
);
console.log(`  ${''.padEnd(46)}${columns.map(([c]) => c.padStart(11)).join('')}`);
for (const kind of kinds) {
  console.log(`  ${kind.padEnd(46)}${columns.map(([, f]) => stat(kind, f).toFixed(1).padStart(11)).join('')}`);
}
const [base, baseGet, gen] = kinds as [ColdKind, ColdKind, ColdKind];
console.log(
  `  ${'→ Generator minus bare (difference of medians)'.padEnd(46)}${columns
    .map(([, f]) => (stat(gen, f) - stat(base, f)).toFixed(1).padStart(11))
    .join('')}   (goal: total ≤ 20)`,
);
console.log(
  `  ${'→ Generator minus bare + plain GET'.padEnd(46)}${columns
    .map(([, f]) => (stat(gen, f) - stat(baseGet, f)).toFixed(1).padStart(11))
    .join('')}   (the Generator's own: the GET on both sides)`,
);
if (hasCompileCache) {
  console.log(
    `  ${'→ warm compile cache minus none'.padEnd(46)}${columns
      .map(([, f]) => (stat(WITH_CACHE, f) - stat(gen, f)).toFixed(1).padStart(11))
      .join('')}   (not shipped: a cache is keyed by Node release and CPU architecture)`,
  );
} else {
  console.log(
    `  compile cache: not measured (node ${process.version} has no module.enableCompileCache; Node ≥ 22.1 does)`,
  );
}

for (const fn of teardowns.reverse()) await fn();
