import t, { type Test } from 'tap';
import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { setTimeout as sleep } from 'node:timers/promises';
import { derivativeKey } from '@marquee/shared';
import { STORE_PAUSE_MS } from '../src/store/reader.js';
import { startStoreHarness, metric, until, gate, RULES_PATH, DERIVATIVES, type StoreHarness } from './store-harness.js';

/**
 * The derivative store as a client and an operator see it: a render is kept by the invocation
 * that streamed it, after its last byte (never in the client's latency), a restarted or second Preprocessor
 * answers from the store (`X-Cache: store`) without invoking the Generator, and coalescing spans
 * the store read and the render.
 */

const URL = '/v1/artwork/boxshot/t1/342x513.webp';

async function setup(t: Test, options: Parameters<typeof startStoreHarness>[0] = {}): Promise<StoreHarness> {
  const h = await startStoreHarness(options);
  t.teardown(() => h.close());
  return h;
}

t.test(
  'a miss is one invocation and one stored object: the Generator keeps what it streamed; a restart serves it from the store',
  async (t) => {
    const h = await setup(t);
    const app = await h.start();

    const first = await app.inject({ method: 'GET', url: URL });
    t.equal(first.statusCode, 200);
    t.equal(first.headers['x-cache'], 'miss');
    t.equal(h.calls.renders.length, 1, 'one invocation');
    const render = h.calls.renders[0];
    t.equal(render?.store, undefined, 'a live render streams its bytes back');
    const key = derivativeKey(String(first.headers.etag).slice(1, -1), 'webp');
    t.same(render?.output, { s3: { bucket: DERIVATIVES, key } }, 'and names the object to keep, under the spec key');
    await until(() => h.calls.stored.length === 1, 'the store write');
    t.same(h.calls.stored, [key], 'one stored object, by the same invocation');
    t.equal(await metric(app, 'marquee_store_reads_total', { result: 'miss' }), 1, 'the store was read first');

    // A restart: an empty output cache, the same store.
    await app.close();
    const restarted = await h.start();
    const again = await restarted.inject({ method: 'GET', url: URL });
    t.equal(again.statusCode, 200);
    t.equal(again.headers['x-cache'], 'store');
    t.same(again.rawPayload, first.rawPayload, 'the same bytes');
    t.equal(again.headers.etag, first.headers.etag);
    t.equal(again.headers['content-type'], 'image/webp');
    t.equal(again.headers['content-length'], first.headers['content-length']);
    t.match(again.headers['server-timing'], /^store;dur=[0-9.]+$/);
    t.equal(h.calls.renders.length, 1, 'no Generator invocation');
    t.equal(await metric(restarted, 'marquee_generator_invocations_total', { outcome: 'ok' }), 0);
    t.equal(await metric(restarted, 'marquee_cache_requests_total', { result: 'store' }), 1);
    t.equal(await metric(restarted, 'marquee_store_reads_total', { result: 'hit' }), 1);
    t.equal(h.calls.stored.length, 1, 'a store hit is not stored again');

    const hit = await restarted.inject({ method: 'GET', url: URL });
    t.equal(hit.headers['x-cache'], 'hit', 'then the output cache holds it');
  },
);

t.test('the reply never waits for the PUT, and a failed PUT does not fail it', async (t) => {
  const stuck = gate();
  const h = await setup(t, { double: { putGate: stuck.wait } });
  const app = await h.start({ generator: { maxInFlight: 4 } });
  for (const url of [URL, '/v1/artwork/boxshot/t1/171x256.jpg', '/v1/artwork/boxshot/t1/684x1026.avif']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 200, `${url} answered while its PUT hangs`);
  }
  t.equal(h.calls.stored.length, 0, 'none stored yet');
  t.equal(app.generator.pending, 3, 'each invocation holds its slot until its PUT is done');
  stuck.open();
  await until(() => h.calls.stored.length === 3 && app.generator.pending === 0, 'the three PUTs');

  const failing = await setup(t, { double: { failPut: () => true } });
  const app2 = await failing.start();
  const res = await app2.inject({ method: 'GET', url: URL });
  t.equal(res.statusCode, 200, 'served though its PUT failed');
  await until(() => app2.generator.pending === 0, 'the invocation to end');
  t.equal(failing.calls.stored.length, 0);
});

t.test('coalesced misses: one store read and at most one render', async (t) => {
  const release = gate();
  const h = await setup(t, { double: { renderGate: release.wait } });
  const app = await h.start();
  const reads: string[] = [];
  h.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      if (context.commandName === 'GetObjectCommand' && input.Bucket === DERIVATIVES) reads.push(input.Key ?? '');
      return next(args);
    },
    { step: 'initialize', name: 'countStoreReads' },
  );

  // Nothing stored: one read, one render, five replies.
  const pending = Array.from({ length: 5 }, () => app.inject({ method: 'GET', url: URL }));
  await until(() => h.calls.renders.length === 1, 'the render');
  release.open();
  const replies = await Promise.all(pending);
  t.same(
    replies.map((r) => r.statusCode),
    [200, 200, 200, 200, 200],
  );
  t.same(replies.map((r) => r.headers['x-cache']).sort(), ['coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
  t.equal(reads.length, 1, 'one store read');
  t.equal(h.calls.renders.length, 1, 'one render');
  await until(() => h.calls.stored.length === 1, 'the store write');

  // Stored: a second instance answers five concurrent misses with one read and no render.
  reads.length = 0;
  const second = await h.start();
  const fromStore = await Promise.all(Array.from({ length: 5 }, () => second.inject({ method: 'GET', url: URL })));
  t.same(fromStore.map((r) => r.headers['x-cache']).sort(), [
    'coalesced',
    'coalesced',
    'coalesced',
    'coalesced',
    'store',
  ]);
  t.ok(
    fromStore.every((r) => r.rawPayload.equals(replies[0]!.rawPayload)),
    'the same bytes to all',
  );
  t.equal(reads.length, 1, 'one store read');
  t.equal(h.calls.renders.length, 1, 'no render');
});

t.test('a store that fails falls through to the Generator at once, logged once per outage', async (t) => {
  const h = await setup(t);
  let failing = true;
  h.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string };
      if (failing && context.commandName === 'GetObjectCommand' && input.Bucket === DERIVATIVES) {
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'storeOutage' },
  );
  const lines: Array<{ level: number; msg: string }> = [];
  const app = await h.start({}, (line) => {
    if (/derivative store read/.test(line.msg)) lines.push(line);
  });
  const get = (size: string) => app.inject({ method: 'GET', url: `/v1/artwork/boxshot/t1/${size}.jpg` });

  const first = await get('171x256');
  t.equal(first.statusCode, 200, 'answered by a render');
  t.equal(first.headers['x-cache'], 'miss');
  t.equal((await get('342x513')).headers['x-cache'], 'miss');
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'error' }), 1);
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'skipped' }), 1, 'not tried again at once');
  t.equal(h.calls.renders.length, 2, 'both rendered');

  await sleep(STORE_PAUSE_MS + 100);
  t.equal((await get('684x1026')).headers['x-cache'], 'miss');
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'error' }), 2, 'tried again after the pause');
  t.equal(lines.length, 1, 'one warning for the outage');
  t.match(lines[0], { level: 40, msg: /derivative store read failed/ });

  failing = false;
  await sleep(STORE_PAUSE_MS + 100);
  t.equal((await get('171x256@2x')).headers['x-cache'], 'miss');
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'miss' }), 1, 'read again, and missing');
  t.equal(lines.length, 2);
  t.match(lines[1], { level: 30, msg: /derivative store read works again/, failures: 2 });
});

t.test('a type with store: false is neither read from nor written to the store', async (t) => {
  const doc = parse(await readFile(RULES_PATH, 'utf8')) as { types: Record<string, Record<string, unknown>> };
  doc.types.boxshot!.store = false;
  const h = await setup(t, { rules: stringify(doc) });
  const app = await h.start();
  const res = await app.inject({ method: 'GET', url: URL });
  t.equal(res.headers['x-cache'], 'miss');
  t.equal(h.calls.renders[0]?.output, undefined, 'not asked to be kept');
  t.equal(h.calls.stored.length, 0, 'not stored');
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'miss' }), 0, 'not read');

  const logo = await app.inject({ method: 'GET', url: '/v1/artwork/logo/t1/300x100.png' });
  t.equal(logo.headers['x-cache'], 'miss');
  await until(() => h.calls.stored.length === 1, 'the logo stored');
});

t.test('images.forget drops outputs from the output cache; the store still has them', async (t) => {
  const h = await setup(t);
  const app = await h.start();
  const first = await app.inject({ method: 'GET', url: URL });
  await until(() => h.calls.stored.length === 1, 'the store write');
  const key = String(first.headers.etag).slice(1, -1);
  t.equal((await app.inject({ method: 'GET', url: URL })).headers['x-cache'], 'hit');
  t.equal(app.images.forget([key, 'f'.repeat(32)]), 1, 'one of the two was cached');
  t.equal(await metric(app, 'marquee_cache_entries'), 0, 'the gauge follows');
  const after = await app.inject({ method: 'GET', url: URL });
  t.equal(after.headers['x-cache'], 'store');
  t.equal(h.calls.renders.length, 1);
});

t.test('a 403 (a reader without s3:ListBucket asking for a missing object) is a miss, not an outage', async (t) => {
  const h = await setup(t);
  h.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string };
      if (context.commandName === 'GetObjectCommand' && input.Bucket === DERIVATIVES) {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      }
      return next(args);
    },
    { step: 'initialize', name: 'denied' },
  );
  const warnings: string[] = [];
  const app = await h.start({}, (line) => {
    if (line.level === 40) warnings.push(line.msg);
  });
  for (const size of ['171x256', '342x513']) {
    const res = await app.inject({ method: 'GET', url: `/v1/artwork/boxshot/t1/${size}.jpg` });
    t.equal(res.headers['x-cache'], 'miss');
  }
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'denied' }), 2, 'both tried: no pause');
  t.equal(await metric(app, 'marquee_store_reads_total', { result: 'skipped' }), 0);
  t.equal(warnings.filter((m) => /denied \(403\).*s3:ListBucket/.test(m)).length, 1, 'said once');
});
