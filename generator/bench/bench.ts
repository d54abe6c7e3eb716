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
import { S3RVER_CREDENTIALS } from '../test/helpers/s3.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const bundle = join(here, '..', 'dist', 'bundle', 'index.mjs');
const lambdaCli = join(repo, 'infra', 'local', 'dist', 'lambda', 'cli.js');
const PARALLEL = 2; // two cores: two pipelines saturate them
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const COLD_RUNS = 7;
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

/** Wall time of a fresh process, spawn to exit (async: this process's event loop stays free). */
function timeProcess(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: repo,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`${args.at(-1)} failed: ${stderr}`)),
    );
  });
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
Object.assign(process.env, env);
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: (e: unknown) => Promise<{ ok: boolean }> };
let n = 0;
const check = (r: { ok: boolean }) => {
  if (!r.ok) throw new Error(`handler failed: ${JSON.stringify(r)}`);
};
rows.push([
  'handler in-process, S3 source (attention)',
  await throughput(async () => check(await handler(event(`b${n++}`)))),
  rawAttention,
]);
const focalSpec = { ...SPEC, focal: { x: 0.5, y: 0.5 } };
rows.push([
  'handler in-process, S3 source, focal (centre)',
  await throughput(async () => check(await handler(event(`f${n++}`, focalSpec)))),
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
  const url = await startChild(args, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/, { LOG_LEVEL: 'info' });
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const lambda = new LambdaClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  const invoke = async () => {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: 'marquee-generator', Payload: Buffer.from(JSON.stringify(event(`l${n++}`))) }),
    );
    if (out.FunctionError) throw new Error(`function error: ${Buffer.from(out.Payload ?? []).toString()}`);
    check(JSON.parse(Buffer.from(out.Payload ?? []).toString()) as { ok: boolean });
  };
  rows.push(['handler via local Lambda endpoint (attention)', await throughput(invoke), rawAttention]);
  lambda.destroy();
} else {
  rows.push(['handler via local Lambda endpoint', `skipped: ${lambdaCli} not built yet`]);
}

console.log('throughput                                          img/s   × raw sharp, same crop (goal ≥ 0.9)');
for (const [name, v, base] of rows) {
  if (typeof v === 'string') console.log(`  ${name.padEnd(50)} ${v}`);
  else console.log(`  ${name.padEnd(50)} ${v.toFixed(1).padStart(5)}   ${(v / (base ?? raw)).toFixed(2)}`);
}

// Cold starts: fresh processes, wall time from spawn to exit, median of COLD_RUNS.
const resizeJs = `.resize(480,270,{fit:'cover'}).webp({quality:80}).toBuffer()`;
const bundleUrl = pathToFileURL(bundle).href;
const cold: Array<[string, string[]]> = [
  ['node -e ""', ['-e', '']],
  ["bare require('sharp')", ['-e', "require('sharp')"]],
  [
    'bare require + same resize (file source)',
    ['-e', `require('sharp')(require('fs').readFileSync(${JSON.stringify(jpegPath)}))${resizeJs}`],
  ],
  ['bundle import', ['--input-type=module', '-e', `await import(${JSON.stringify(bundleUrl)})`]],
  [
    'bundle import + first invocation (S3 source)',
    [
      '--input-type=module',
      '-e',
      `const {handler}=await import(${JSON.stringify(bundleUrl)}); const r=await handler(${JSON.stringify(event('cold'))}); if(!r.ok){console.error(JSON.stringify(r));process.exit(1)}`,
    ],
  ],
];
console.log(`\ncold start (fresh process, spawn → exit, median of ${COLD_RUNS})        ms`);
const coldMs: Record<string, number> = {};
for (const [name, args] of cold) {
  const times: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    times.push(await timeProcess(args, env));
  }
  coldMs[name] = median(times);
  console.log(`  ${name.padEnd(60)} ${median(times).toFixed(0).padStart(5)}`);
}
const gap =
  (coldMs['bundle import + first invocation (S3 source)'] ?? NaN) -
  (coldMs['bare require + same resize (file source)'] ?? NaN);
console.log(
  `  ${'→ handler cold start minus bare require + resize'.padEnd(60)} ${gap.toFixed(0).padStart(5)}   (goal ≤ 20)`,
);

for (const fn of teardowns.reverse()) await fn();
