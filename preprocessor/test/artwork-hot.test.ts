import t from 'tap';
import sharp from 'sharp';
import { request } from 'undici';
import { startHarness } from './studio/harness.js';
import { generatorDouble } from './studio/generator-double.js';

/**
 * The hot path: cache hits the artwork route served before, answered ahead of Fastify's router.
 * Over real HTTP (`inject` skips the server, so it always takes the route): the hot reply must be
 * the route's reply, and anything unusual must still reach the route.
 */
const double = generatorDouble();
const h = await startHarness({ lambda: double.lambda });
t.teardown(() => h.close());
const { app } = h;
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const before = app.hotPath.served;
  const res = await request(`${base}${path}`, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, hot: app.hotPath.served > before };
}

/** Headers a client or CDN acts on: all but those that differ per response by nature. */
function stable(headers: Record<string, unknown>) {
  const { date: _d, 'x-request-id': _id, connection: _c, 'keep-alive': _k, ...rest } = headers;
  return rest;
}

t.beforeEach(() => {
  app.images.clear();
  app.hotPath.clear();
  double.invocations.length = 0;
});

t.test('a repeated hit is answered ahead of the router with the route’s own reply', async (t) => {
  const url = '/v1/artwork/boxshot/t1/342x513.webp?locale=fr';
  const miss = await get(url);
  t.equal(miss.status, 200);
  t.equal(miss.headers['x-cache'], 'miss');
  t.notOk(miss.hot);
  const routed = await app.inject({ method: 'GET', url });
  t.equal(routed.headers['x-cache'], 'hit', 'the route’s hit, for comparison');
  const hot = await get(url);
  t.ok(hot.hot, 'the hot path answered');
  t.equal(hot.status, 200);
  t.same(stable(hot.headers), stable(routed.headers), 'same headers as the route’s hit');
  t.same(hot.body, routed.rawPayload, 'same bytes');
  t.match(await sharp(hot.body).metadata(), { format: 'webp', width: 342, height: 513 });
  t.match(hot.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a request id of its own');
  const upstream = await get(url, { 'x-request-id': 'cdn-req-42' });
  t.equal(upstream.headers['x-request-id'], 'cdn-req-42', 'an upstream request id is kept');
  t.equal(double.invocations.length, 1, 'one render for them all');

  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /marquee_http_requests_total\{route="\/v1\/artwork\/:type\/:titleId\/:file",status="200"\} 4/);
  t.match(metrics.body, /marquee_cache_requests_total\{result="hit"\} 3/);
});

t.test('auto: one entry per Accept, each with its own format and Vary', async (t) => {
  const url = '/v1/artwork/boxshot/t1/342x513.auto';
  await get(url, { accept: 'image/avif,image/webp,*/*' });
  await get(url, { accept: 'image/webp,*/*' });
  const avif = await get(url, { accept: 'image/avif,image/webp,*/*' });
  const webp = await get(url, { accept: 'image/webp,*/*' });
  t.ok(avif.hot && webp.hot);
  t.equal(avif.headers['content-type'], 'image/avif');
  t.equal(webp.headers['content-type'], 'image/webp');
  t.equal(avif.headers.vary, 'Accept');
  const jpeg = await get(url, { accept: '*/*' });
  t.notOk(jpeg.hot, 'an Accept not seen before goes to the route');
  t.equal(jpeg.headers['content-type'], 'image/jpeg');
});

t.test('conditional requests, HEAD, other spellings and evicted outputs take the route', async (t) => {
  const url = '/v1/artwork/boxshot/t1/342x513.jpg';
  const first = await get(url);
  const etag = String(first.headers.etag);
  const notModified = await get(url, { 'if-none-match': etag });
  t.equal(notModified.status, 304);
  t.notOk(notModified.hot);
  const head = await get(url, {}, 'HEAD');
  t.notOk(head.hot);
  t.equal(head.body.length, 0);
  const spelling = await get('/v1/artwork/boxshot/t1/342x513.jpeg');
  t.equal(spelling.status, 308);
  t.notOk(spelling.hot);
  app.images.clear();
  const evicted = await get(url);
  t.notOk(evicted.hot, 'an output no longer cached is rendered again by the route');
  t.equal(evicted.headers['x-cache'], 'miss');
  t.equal(double.invocations.length, 2);
});

t.test('new rules or catalog retire every remembered reply', async (t) => {
  const url = '/v1/artwork/boxshot/t1/342x513.webp';
  await get(url);
  t.ok((await get(url)).hot);
  const poller = app.rulesPoller;
  const current = poller.current.bind(poller);
  // A reload makes a new state object; this one makes one per call.
  poller.current = () => ({ ...current() });
  t.teardown(() => {
    poller.current = current;
  });
  const after = await get(url);
  t.notOk(after.hot, 'answered by the route under the new state');
  t.equal(after.status, 200);
});
