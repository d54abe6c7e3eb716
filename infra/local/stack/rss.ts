#!/usr/bin/env node
/**
 * `npm run rss [-- --load SECONDS] [--concurrency N]`: the embedded stack's own memory. Starts
 * the stack as `npm start` runs it (this package's `stack/main.js`, a fresh data directory, so the
 * sample seed runs as on a fresh clone) with `rss-probe` preloaded, and prints the resident set
 * of the stack's process (not its children: the seed process and the Generator environments are
 * printed apart) right after start and at rest (the seed complete, then a settle), with the V8
 * heap beside it. With `--load`, N clients request the sample catalog's derivative URLs for that
 * long (drawn with a heavy head, so that some repeat and are output-cache hits and most are
 * renders), and the peak and the resident set after are printed too.
 */
import { fork } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { eachDerivativeUrl, parseCatalog, parseRules } from '@marquee/preprocessor';
import { childEnv, mulberry32 } from '@marquee/shared';
import { localS3Client } from '../s3/index.js';
import { CATALOG_KEY } from '../seed/catalog.js';
import { quietSdkNodeWarning } from './env.js';
import type { MemoryReading } from './rss-probe.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.js', import.meta.url));
/** After the seed completes: time for the last renders' buffers to be collected. */
const SETTLE_MS = 10_000;
const START_TIMEOUT_MS = 180_000;
const USAGE = 'usage: npm run rss -- [--load SECONDS] [--concurrency N]';

const mb = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`;
const kbMb = (kb: number): string => `${Math.round(kb / 1024)} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let values;
try {
  ({ values } = parseArgs({
    options: { load: { type: 'string' }, concurrency: { type: 'string', default: '32' } },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const loadSeconds = values.load === undefined ? 0 : Number(values.load);
const concurrency = Number(values.concurrency);
if (!(loadSeconds >= 0) || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

quietSdkNodeWarning(); // this process's S3 client (the stack says it once itself)
const dataDir = await mkdtemp(path.join(tmpdir(), 'marquee-rss-'));
const child = fork(MAIN, [], {
  execArgv: [`--import=${PROBE}`],
  env: childEnv({
    PORT: '0',
    MARQUEE_LOCAL_S3_PORT: '0',
    MARQUEE_LOCAL_LAMBDA_PORT: '0',
    MARQUEE_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  }),
  stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
});
const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
/** The stack's "marquee is up" log line: where its parts listen. */
interface UpLine {
  msg: string;
  preprocessor: string;
  s3: string;
  rules: string;
  metrics: string;
}
let up: UpLine | undefined;
let seedDone = false;
createInterface({ input: child.stdout! }).on('line', (line) => {
  if (!line.startsWith('{')) return;
  try {
    const entry = JSON.parse(line) as Partial<UpLine>;
    if (entry.msg === 'marquee is up') up = entry as UpLine;
    if (entry.msg?.startsWith('sample artwork complete')) seedDone = true;
  } catch {
    // Not a log line.
  }
});

function measure(): Promise<MemoryReading> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the stack did not answer the memory probe')), 10_000);
    child.once('message', (m: MemoryReading) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.send({ type: 'memory' });
  });
}

/** Every process below the stack's (the seed process, the Generator environments): how many, and their resident sets. */
async function descendants(root: number): Promise<{ count: number; rssKb: number }> {
  const parents = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid) parents.set(Number(name), ppid);
  }
  const below = new Set<number>([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parents)
      if (below.has(ppid) && !below.has(pid)) {
        below.add(pid);
        grew = true;
      }
  }
  below.delete(root);
  let rssKb = 0;
  for (const pid of below) {
    const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    rssKb += Number(/^VmRSS:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { count: below.size, rssKb };
}

async function line(label: string): Promise<MemoryReading> {
  const m = await measure();
  const kids = await descendants(child.pid!);
  const native = m.rssKb * 1024 - m.heapTotal - m.external;
  process.stdout.write(
    `${label.padEnd(22)} RSS ${kbMb(m.rssKb).padStart(7)} (anon ${kbMb(m.anonKb)}, file ${kbMb(m.fileKb)})` +
      `  heap ${mb(m.heapUsed)} of ${mb(m.heapTotal)}  external ${mb(m.external)}  other native ${mb(native)}` +
      `  libvips ${m.libvips ? 'loaded' : 'not loaded'}  children ${kids.count} (${kbMb(kids.rssKb)})\n`,
  );
  return m;
}

async function until(test: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!test()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the stack exited before ${what}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${START_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

/** The sample catalog's canonical derivative URLs, as the rules in force list them. */
async function universe(s3: string, rulesUrl: string): Promise<Array<{ path: string; accept: string }>> {
  const client = localS3Client(s3);
  const read = async (url: string) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(url) ?? [];
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString()) ?? '';
  };
  try {
    const bucket = /^s3:\/\/([^/]+)\//.exec(rulesUrl)?.[1] ?? 'marquee-sources';
    const rules = parseRules(await read(rulesUrl), rulesUrl);
    const catalogUrl = `s3://${bucket}/${CATALOG_KEY}`;
    const catalog = parseCatalog(await read(catalogUrl), catalogUrl);
    return [...eachDerivativeUrl(rules, catalog, { sourcesBucket: bucket })].map((u) => ({
      path: u.path,
      accept: u.format === 'auto' ? 'image/avif,image/webp,*/*' : '*/*',
    }));
  } finally {
    client.destroy();
  }
}

async function load(base: string, urls: Array<{ path: string; accept: string }>): Promise<Map<string, number>> {
  const statuses = new Map<string, number>();
  const random = mulberry32(19);
  const end = Date.now() + loadSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        // index = n·u⁴: a quarter of the draws in the first 0.4 % of the URLs.
        const url = urls[Math.floor(random() ** 4 * urls.length)]!;
        let status: string;
        try {
          const res = await fetch(`${base}${url.path}`, { headers: { accept: url.accept }, redirect: 'manual' });
          await res.arrayBuffer();
          status = String(res.status);
        } catch (err) {
          status = (err as Error).name;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

async function cacheBytes(metrics: string): Promise<number | undefined> {
  const text = await (await fetch(metrics)).text().catch(() => '');
  const value = /^marquee_cache_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

let status = 0;
try {
  await until(() => up !== undefined, 'start');
  await line('right after start');
  await until(() => seedDone, 'the end of the sample seed');
  await sleep(SETTLE_MS);
  await line('at rest');
  if (loadSeconds > 0) {
    const urls = await universe(up!.s3, up!.rules);
    process.stdout.write(
      `load: ${concurrency} clients for ${loadSeconds} s over ${urls.length} derivative URLs of the sample catalog\n`,
    );
    const statuses = await load(up!.preprocessor, urls);
    const during = await line('after the load');
    const cached = await cacheBytes(up!.metrics);
    process.stdout.write(
      `${'peak (VmHWM)'.padEnd(22)} RSS ${kbMb(during.hwmKb).padStart(7)}` +
        `  output cache ${cached === undefined ? 'unknown' : mb(cached)}` +
        `  replies ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}\n`,
    );
    await sleep(SETTLE_MS);
    await line('at rest after the load');
  }
} catch (err) {
  process.stderr.write(`rss: ${(err as Error).message}\n`);
  status = 1;
} finally {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(status);
