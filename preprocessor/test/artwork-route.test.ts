import t from 'tap';
import sharp from 'sharp';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { GeneratorRequest } from '@marquee/shared';
import type { Problem } from '../src/plugins/problem.js';
import { startHarness } from './studio/harness.js';
import { renderDouble } from './studio/generator-double.js';
import { replyChunks, requestOf, streamedOutput, type DoubleReply } from './lambda-double.js';

/**
 * `/v1/artwork` through `app.inject()`, with a Lambda client double in place of the Invoke API
 * (the end-to-end tests in infra/local/test run the real one). The double renders a real image of
 * the spec's size and format, so what a client sees is checked on real bytes.
 */
type Behaviour = (request: GeneratorRequest) => DoubleReply | Promise<DoubleReply>;

const invocations: GeneratorRequest[] = [];
const render = renderDouble;
let behaviour: Behaviour = render;

const lambda = {
  async send(command: InvokeCommand) {
    const request = requestOf(command);
    invocations.push(request);
    return streamedOutput(await behaviour(request));
  },
  destroy() {},
} as unknown as LambdaClient;

const h = await startHarness({ lambda });
t.teardown(() => h.close());
const { app } = h;
t.beforeEach(() => {
  invocations.length = 0;
  behaviour = render;
  app.images.clear();
});

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

t.test('a render: the bytes, their size and format, and the headers a CDN keys on', async (t) => {
  const res = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'image/jpeg');
  t.equal(Number(res.headers['content-length']), res.rawPayload.length);
  const meta = await sharp(res.rawPayload).metadata();
  t.match(meta, { format: 'jpeg', width: 342, height: 513 });
  t.match(res.headers.etag, /^"[0-9a-f]{32}"$/);
  t.match(res.headers['cache-control'], /public, max-age=\d+/);
  t.equal(res.headers['x-cache'], 'miss');
  t.equal(res.headers['x-artwork-size'], '342x513');
  t.equal(res.headers['x-artwork-locale'], 'en');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.notOk(res.headers.vary, 'an explicit format does not vary');
  t.equal(invocations.length, 1);
  t.equal(invocations[0]?.id, res.headers['x-request-id'], 'the request id crosses to the Generator');

  const again = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(again.headers['x-cache'], 'hit');
  t.same(again.rawPayload, res.rawPayload);
  t.equal(invocations.length, 1, 'a hit does not invoke');
  t.equal(again.headers['content-length'], res.headers['content-length']);
  t.notOk(again.headers['server-timing'], 'a hit stays lean: no Server-Timing');

  const head = await app.inject({ method: 'HEAD', url: '/v1/artwork/boxshot/t1/342x513.jpg' });
  t.equal(head.statusCode, 200);
  t.equal(head.headers['content-length'], res.headers['content-length']);
  t.equal(head.rawPayload.length, 0);
});

t.test('If-None-Match with the ETag is a 304 without rendering', async (t) => {
  const first = await get('/v1/artwork/boxshot/t1/342x513.webp');
  app.images.clear();
  invocations.length = 0;
  const res = await get('/v1/artwork/boxshot/t1/342x513.webp', { 'if-none-match': `W/${first.headers.etag}, "other"` });
  t.equal(res.statusCode, 304);
  t.equal(res.headers.etag, first.headers.etag);
  t.equal(res.rawPayload.length, 0);
  t.equal(invocations.length, 0);
  const star = await get('/v1/artwork/boxshot/t1/342x513.webp', { 'if-none-match': '*' });
  t.equal(star.statusCode, 200, '* is answered in full');
});

t.test('.auto picks from Accept and says Vary: Accept', async (t) => {
  const cases: Array<[string, string]> = [
    ['image/avif,image/webp,*/*', 'image/avif'],
    ['image/webp,*/*', 'image/webp'],
    ['image/avif;q=0,image/webp', 'image/webp'],
    ['*/*', 'image/jpeg'],
  ];
  for (const [accept, type] of cases) {
    const res = await get('/v1/artwork/boxshot/t1/342x513.auto', { accept });
    t.equal(res.statusCode, 200, accept);
    t.equal(res.headers['content-type'], type, accept);
    t.equal(res.headers.vary, 'Accept', accept);
    t.equal((await sharp(res.rawPayload).metadata()).width, 342);
  }
});

t.test('one spelling per image: the others are 308s to it, keeping only locale and v', async (t) => {
  const cases: Array<[string, string]> = [
    ['/v1/artwork/boxshot/t1/342.jpg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/342x513@1x.jpg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/342x513.jpeg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/0342x0513.jpg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/%33%34%32x513.jpg', '/v1/artwork/boxshot/t1/342x513.jpg'],
    ['/v1/artwork/boxshot/t1/300x450.webp?locale=fr&utm=x&v=1', '/v1/artwork/boxshot/t1/342x513.webp?locale=fr&v=1'],
  ];
  for (const [from, to] of cases) {
    const res = await get(from);
    t.equal(res.statusCode, 308, from);
    t.equal(res.headers.location, to, from);
  }
  t.equal(invocations.length, 0, 'a redirect renders nothing');
});

t.test('problems: status, code and a problem+json body, never cached long', async (t) => {
  const cases: Array<[string, number, string]> = [
    ['/v1/artwork/poster/t1/342x513.jpg', 404, 'UNKNOWN_TYPE'],
    ['/v1/artwork/boxshot/t999/342x513.jpg', 404, 'UNKNOWN_TITLE'],
    ['/v1/artwork/billboard/t1/480x270.jpg', 404, 'ARTWORK_NOT_FOUND'],
    ['/v1/artwork/boxshot/t1/342x513.gif', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/342x513.png', 400, 'FORMAT_NOT_ALLOWED'],
    ['/v1/artwork/boxshot/t1/342x513@9x.jpg', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/342x513.jpg?locale=not_a_locale', 400, 'INVALID_PARAMETER'],
    // The route is the one syntax check of the URL (the rules engine trusts what passes it).
    ...['x', 'pt_BR', 'en-', '..%2Fetc', 'a'.repeat(40)].map((bad): [string, number, string] => [
      `/v1/artwork/boxshot/t1/342x513.jpg?locale=${bad}`,
      400,
      'INVALID_PARAMETER',
    ]),
    ['/v1/artwork/boxshot/8000%2F0001/342x513.jpg', 400, 'INVALID_PARAMETER'],
    [`/v1/artwork/boxshot/${'x'.repeat(65)}/342x513.jpg`, 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/0x513.jpg', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/342x0.jpg', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/9000x13500.jpg', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/-5x513.jpg', 400, 'INVALID_PARAMETER'],
    ['/v1/artwork/boxshot/t1/1.5x513.jpg', 400, 'INVALID_PARAMETER'],
  ];
  for (const [url, status, code] of cases) {
    const res = await get(url);
    t.equal(res.statusCode, status, url);
    t.match(res.headers['content-type'], /^application\/problem\+json/, url);
    t.match(res.json(), { status, code, type: `urn:marquee:problem:${code.toLowerCase().replaceAll('_', '-')}` }, url);
    t.equal(res.headers['cache-control'], status === 404 ? 'public, max-age=60' : 'no-store', url);
    t.notOk(res.headers.etag, url);
  }
  t.equal(invocations.length, 0);
});

t.test("the Generator's failures: its code when it is the client's business, 502 when it is ours", async (t) => {
  behaviour = () => ({ ok: false, code: 'SOURCE_NOT_FOUND', message: 'NoSuchKey: bucket/titles/t1' });
  const missing = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(missing.statusCode, 404);
  t.equal(missing.json<Problem>().code, 'SOURCE_NOT_FOUND');
  t.notMatch(missing.body, /bucket|titles\//, 'no bucket or key names in public errors');

  behaviour = () => ({ ok: false, code: 'INVALID_SPEC', message: 'bad spec' });
  const refused = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(refused.statusCode, 502);
  t.equal(refused.json<Problem>().code, 'GENERATOR_FAILED');

  behaviour = () => ({ functionError: 'Runtime.OutOfMemory' });
  const crashed = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(crashed.statusCode, 502);
  t.equal(crashed.json<Problem>().code, 'GENERATOR_FAILED');

  behaviour = render;
  const ok = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(ok.statusCode, 200, 'failures are not cached');
});

t.test('a Generator cut off mid-stream: 502, and nothing of it cached', async (t) => {
  const whole = await render({
    v: 1,
    id: 'x',
    source: { s3: { bucket: 'b', key: 'k' } },
    spec: { width: 342, height: 513, fit: 'cover', format: 'webp', quality: 80 },
  });
  if (!('ok' in whole) || !whole.ok) throw new Error('the double renders');
  const [prelude, body] = replyChunks(whole).chunks as [Uint8Array, Uint8Array];
  // The prelude and half the bytes it announced, then the environment dies.
  behaviour = () => ({
    functionError: 'Runtime.ExitError',
    details: 'Runtime exited with error: signal: killed',
    chunks: [prelude, body.subarray(0, body.length >> 1)],
  });
  const cut = await get('/v1/artwork/boxshot/t1/342x513.webp');
  t.equal(cut.statusCode, 502);
  t.equal(cut.json<Problem>().code, 'GENERATOR_FAILED');
  t.equal(cut.headers['cache-control'], 'no-store');
  // The stream ends early, short of the announced bytes, with no error at all.
  behaviour = () => ({ functionError: '', chunks: [prelude, body.subarray(0, 10)] });
  const short = await get('/v1/artwork/boxshot/t1/342x513.webp');
  t.equal(short.statusCode, 502, 'short of the announced bytes');
  behaviour = render;
  const after = await get('/v1/artwork/boxshot/t1/342x513.webp');
  t.equal(after.statusCode, 200);
  t.equal(after.headers['x-cache'], 'miss', 'nothing was cached from the cut streams');
  t.match(await sharp(after.rawPayload).metadata(), { format: 'webp', width: 342, height: 513 });
});

t.test('other methods: 405 with Allow', async (t) => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const) {
    const res = await app.inject({
      method,
      url: '/v1/artwork/boxshot/t1/342x513.jpg',
      payload: method === 'OPTIONS' ? undefined : 'x',
    });
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD', method);
    t.equal(res.json<Problem>().code, 'METHOD_NOT_ALLOWED', method);
  }
});

t.test('a MISS reply says where the time went: queue, invoke, fetch, render', async (t) => {
  behaviour = async (request) => {
    const out = await render(request);
    return 'ok' in out && out.ok ? { ...out, fetchMs: 3.04, renderMs: 30.46 } : out;
  };
  const res = await get('/v1/artwork/boxshot/t1/342x513.webp');
  t.equal(res.headers['x-cache'], 'miss');
  const timing = String(res.headers['server-timing']);
  t.match(timing, /^queue;dur=[\d.]+, invoke;dur=[\d.]+, fetch;dur=3, render;dur=30\.5$/);
  const entries = Object.fromEntries(timing.split(', ').map((e) => e.split(';dur=') as [string, string]));
  t.ok(Number(entries.invoke) >= 0 && Number(entries.queue) >= 0);
});

t.test('cache tags: title, type, title and type, look, on the miss, the hit and the 304', async (t) => {
  const jpeg = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  const tags = String(jpeg.headers['cache-tag']).split(',');
  t.same(tags.slice(0, 3), ['title:t1', 'type:boxshot', 'tt:boxshot/t1']);
  t.match(tags[3], /^look:[0-9a-f]{16}$/);
  const hit = await get('/v1/artwork/boxshot/t1/342x513.jpg');
  t.equal(hit.headers['x-cache'], 'hit');
  t.equal(hit.headers['cache-tag'], jpeg.headers['cache-tag'], 'a hit carries the same tags');
  const revalidated = await get('/v1/artwork/boxshot/t1/342x513.jpg', { 'if-none-match': String(jpeg.headers.etag) });
  t.equal(revalidated.statusCode, 304);
  t.equal(revalidated.headers['cache-tag'], jpeg.headers['cache-tag'], 'a 304 refreshes them');
  // The look is the spec less its size and focal point: @2x asks quality 80 where 1x asks 85 (the
  // shipped rules), so it has a look of its own, as another format does.
  const larger = await get('/v1/artwork/boxshot/t1/342x513@2x.jpg');
  t.same(String(larger.headers['cache-tag']).split(',').slice(0, 3), tags.slice(0, 3));
  t.not(String(larger.headers['cache-tag']).split(',')[3], tags[3], 'another quality, another look');
  const webp = await get('/v1/artwork/boxshot/t1/342x513.webp');
  t.not(String(webp.headers['cache-tag']).split(',')[3], tags[3], 'another format, another look');
});
