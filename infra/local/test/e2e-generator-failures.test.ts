// The Preprocessor when the Generator is down, throttled, slow or killed for its memory: clear 5xx problem+json with
// Retry-After where a retry can help, and the server keeps serving.
import t from 'tap';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { buildApp, loadConfig } from '@marquee/preprocessor';
import { startLocalLambda } from '../lambda/index.js';
import type { Problem } from './helpers.js';

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-fail-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const catalog = path.join(dir, 'catalog.json');
const artwork = (id: string) => ({ boxshot: { en: { source: `titles/${id}/boxshot/en.jpg`, version: '1' } } });
await writeFile(
  catalog,
  JSON.stringify({
    version: 1,
    titles: Object.fromEntries(
      ['80000001', '80000002', '80000003'].map((id) => [id, { name: id, flags: [], artwork: artwork(id) }]),
    ),
  }),
);

/** A port with nobody listening: the Generator is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function app(
  endpoint: string,
  generator: { timeoutMs?: number; maxInFlight?: number; maxQueue?: number; queueTimeoutMs?: number } = {},
) {
  const config = loadConfig(
    {
      catalog,
      sourcesBucket: 'marquee-sources',
      reloadMs: 60_000,
      generator: { functionName: 'marquee-generator', endpoint, ...generator },
    },
    { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
  );
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  const instance = await buildApp(config, { logger: false });
  t.teardown(() => instance.close());
  return instance;
}

const url = (id: string) => `/v1/artwork/boxshot/${id}/342x513.jpg`;

t.test('Generator down: 503 problem+json with Retry-After, not cached, server still healthy', async (t) => {
  const a = await app(`http://127.0.0.1:${await closedPort()}`);
  const res = await a.inject(url('80000001'));
  t.equal(res.statusCode, 503);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(res.json<Problem>().code, 'GENERATOR_UNAVAILABLE');
  t.ok(Number(res.headers['retry-after']) >= 1);
  t.equal(res.headers['cache-control'], 'no-store');
  t.notMatch(res.body, /at .*\.js:\d+/, 'no stack trace');
  t.equal((await a.inject('/healthz')).statusCode, 200);
  t.equal((await a.inject('/readyz')).statusCode, 503, 'not ready while the Generator is unreachable');
});

t.test(
  'throttled: retried within the deadline, then 503 with Retry-After; the held request still succeeds',
  async (t) => {
    const lambda = await startLocalLambda({
      concurrency: 1,
      functions: {
        'marquee-generator': {
          handler: fileURLToPath(new URL('./fixtures/e2e-slow-generator.mjs', import.meta.url)),
          env: { SLOW_MS: '2500' },
          timeoutMs: 10_000,
          memoryMb: 256,
        },
      },
    });
    t.teardown(() => lambda.close());
    const a = await app(lambda.url, { timeoutMs: 1200 });
    const holder = a.inject(url('80000001'));
    // Let the first invocation take the only environment.
    while (lambda.stats().busy < 1) await new Promise((r) => setTimeout(r, 20));
    const throttled = await a.inject(url('80000002'));
    t.equal(throttled.statusCode, 503);
    t.equal(throttled.json<Problem>().code, 'THROTTLED');
    t.ok(Number(throttled.headers['retry-after']) >= 1);
    t.ok(lambda.stats().throttles >= 2, 'the client retried the throttle before giving up');
    const held = await holder;
    t.ok([200, 504].includes(held.statusCode), `held request ends cleanly (${held.statusCode})`);
    const after = await a.inject('/healthz');
    t.equal(after.statusCode, 200);
  },
);

t.test(
  'past the in-flight cap and its queue: shed at once with 503 and Retry-After; a queued render waits for a slot',
  async (t) => {
    const lambda = await startLocalLambda({
      concurrency: 2,
      functions: {
        'marquee-generator': {
          handler: fileURLToPath(new URL('./fixtures/e2e-slow-generator.mjs', import.meta.url)),
          env: { SLOW_MS: '800' },
          memoryMb: 256,
        },
      },
    });
    t.teardown(() => lambda.close());
    const a = await app(lambda.url, { maxInFlight: 1, maxQueue: 1, queueTimeoutMs: 5000, timeoutMs: 5000 });
    const first = a.inject(url('80000001'));
    while (a.generator.pending < 1) await new Promise((r) => setTimeout(r, 10));
    const queued = a.inject(url('80000002'));
    await new Promise((r) => setTimeout(r, 50));
    const shed = await a.inject(url('80000003'));
    t.equal(shed.statusCode, 503);
    t.equal(shed.json<Problem>().code, 'OVERLOADED');
    t.equal(shed.headers['retry-after'], '1');
    t.equal((await first).statusCode, 200);
    t.equal((await queued).statusCode, 200, 'the queued render got the slot when it was freed');
    t.equal(lambda.stats().throttles, 0, 'queued here, not throttled there');
    const metrics = (await a.inject('/metrics')).body;
    t.match(metrics, /marquee_shed_total\{reason="in_flight"\} 1/);
  },
);

t.test('a queued render waits no longer than the queue timeout', async (t) => {
  const lambda = await startLocalLambda({
    concurrency: 1,
    functions: {
      'marquee-generator': {
        handler: fileURLToPath(new URL('./fixtures/e2e-slow-generator.mjs', import.meta.url)),
        env: { SLOW_MS: '1500' },
        memoryMb: 256,
      },
    },
  });
  t.teardown(() => lambda.close());
  const a = await app(lambda.url, { maxInFlight: 1, maxQueue: 4, queueTimeoutMs: 200, timeoutMs: 5000 });
  const first = a.inject(url('80000001'));
  while (a.generator.pending < 1) await new Promise((r) => setTimeout(r, 10));
  const late = await a.inject(url('80000002'));
  t.equal(late.statusCode, 503);
  t.equal(late.json<Problem>().code, 'OVERLOADED');
  t.equal((await first).statusCode, 200);
});

t.test(
  'a Generator killed for its memory: 502 problem+json, and the next render gets a fresh environment',
  { skip: existsSync('/proc/self/status') ? false : 'needs /proc' },
  async (t) => {
    const lambda = await startLocalLambda({
      concurrency: 1,
      stdout: new PassThrough().resume(),
      stderr: new PassThrough().resume(),
      functions: {
        'marquee-generator': {
          handler: fileURLToPath(new URL('./fixtures/e2e-oom-generator.mjs', import.meta.url)),
          env: { OOM_TITLE: '80000001' },
          memoryMb: 192,
        },
      },
    });
    t.teardown(() => lambda.close());
    const a = await app(lambda.url, { timeoutMs: 8000 });
    const res = await a.inject(url('80000001'));
    t.equal(res.statusCode, 502);
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(res.json(), { status: 502, code: 'GENERATOR_FAILED', detail: /Runtime\.OutOfMemory/ });
    t.equal(res.headers['cache-control'], 'no-store');
    t.notOk(res.headers['retry-after'], 'the same render would fail again: no invitation to retry');
    t.match(lambda.stats(), { outOfMemory: 1, environments: 0 });
    const next = await a.inject(url('80000002'));
    t.equal(next.statusCode, 200, 'the endpoint and the Preprocessor keep serving');
    t.match(lambda.stats(), { coldStarts: 2, outOfMemory: 1 });
  },
);

t.test('a Generator that dies mid-stream: 502 problem+json, nothing cached, the next render is whole', async (t) => {
  const lambda = await startLocalLambda({
    concurrency: 1,
    stdout: new PassThrough().resume(),
    stderr: new PassThrough().resume(),
    functions: {
      'marquee-generator': {
        handler: fileURLToPath(new URL('./fixtures/e2e-slow-generator.mjs', import.meta.url)),
        env: { CRASH_TITLE: '80000001' },
        memoryMb: 256,
      },
    },
  });
  t.teardown(() => lambda.close());
  const a = await app(lambda.url, { timeoutMs: 8000 });
  const res = await a.inject(url('80000001'));
  t.equal(res.statusCode, 502);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.match(res.json(), { status: 502, code: 'GENERATOR_FAILED' });
  t.equal(res.headers['cache-control'], 'no-store');
  t.match(lambda.stats(), { crashes: 1 });
  const again = await a.inject(url('80000001'));
  t.equal(again.statusCode, 502, 'not served from any cache: rendered (and cut) again');
  t.equal(lambda.stats().invocations, 2);
  const whole = await a.inject(url('80000002'));
  t.equal(whole.statusCode, 200, 'the endpoint and the Preprocessor keep serving');
  t.equal(whole.headers['content-type'], 'image/jpeg');
  t.equal(Number(whole.headers['content-length']), whole.rawPayload.length);
});
