// The embedded stack with its CDN (`npm start -- --cdn`): real Varnish with the Marquee VCL in front
// of the real Preprocessor, Generator and local S3. What a client of the CDN sees, what reaches the
// Preprocessor, and what an invalidation drops. The VCL case by case is cdn-vcl.test.ts.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import YAML from 'yaml';
import { startStack, RULES_KEY } from '../stack/stack.js';
import { localS3Client } from '../s3/index.js';
import { VarnishInvalidator } from '@marquee/preprocessor';

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-cdn-'));
const dataDir = path.join(dir, 'data');
const shippedRules = await readFile(new URL('../../../preprocessor/config/rules.yaml', import.meta.url), 'utf8');

const stack = await startStack({ dataDir, port: 0, logger: false, lambdaConcurrency: 2, cdn: true });
let stopped = false;
t.teardown(async () => {
  if (!stopped) await stack.close();
  await rm(dir, { recursive: true, force: true });
});
const s3 = localS3Client(stack.s3Endpoint);
t.teardown(() => s3.destroy());

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET with exactly these headers (fetch would add an Accept of its own), through the CDN unless told. */
function get(pathAndQuery: string, headers: Record<string, string> = {}, base = stack.cdnUrl!): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${pathAndQuery}`, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

/** How many artwork requests the Preprocessor itself answered, by status (its own /metrics, not through the CDN). */
async function originRequests(status: number): Promise<number> {
  const text = (await get('/metrics', {}, stack.url)).body.toString();
  const line = text
    .split('\n')
    .find((l) =>
      l.startsWith(`marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="${status}"}`),
    );
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

t.test('the stack says where the CDN is and how to invalidate it', async (t) => {
  t.match(stack.cdnUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(stack.cdnUrl, stack.url);
  t.same(stack.invalidation, { backend: 'varnish', url: stack.cdnUrl });
  t.equal(stack.rules, `s3://marquee-sources/${RULES_KEY}`, 'rules read from local S3');
  const object = await s3.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: RULES_KEY }));
  t.equal(await object.Body?.transformToString(), shippedRules, 'seeded from the shipped rules');
});

t.test('a second GET is a CDN hit: the Preprocessor answered once', async (t) => {
  const url = '/v1/artwork/boxshot/80000001/342x513.jpg';
  const before = await originRequests(200);
  const first = await get(url);
  const second = await get(url);
  t.equal(first.status, 200);
  t.same([first.headers['x-cdn'], second.headers['x-cdn']], ['MISS', 'HIT']);
  t.equal(second.headers['x-cdn-hits'], '1');
  t.equal(first.headers['x-cache'], 'miss', "the Preprocessor's own header passes through");
  t.ok(second.body.equals(first.body), 'same bytes');
  t.equal(second.headers.etag, first.headers.etag);
  t.equal((await originRequests(200)) - before, 1, 'one request reached the Preprocessor');
});

t.test('a snap redirect is cached at the CDN too', async (t) => {
  const url = '/v1/artwork/boxshot/80000003/300.avif';
  const first = await get(url);
  const second = await get(url);
  t.same([first.status, second.status], [308, 308]);
  t.equal(second.headers.location, '/v1/artwork/boxshot/80000003/342x513.avif');
  t.same([first.headers['x-cdn'], second.headers['x-cdn']], ['MISS', 'HIT']);
});

t.test('a query parameter other than locale and v does not split the cache', async (t) => {
  const url = '/v1/artwork/boxshot/80000002/342x513.webp?locale=fr';
  const before = await originRequests(200);
  await get(url);
  const tracked = await get('/v1/artwork/boxshot/80000002/342x513.webp?utm_source=mail&locale=fr&ref=x');
  t.equal(tracked.headers['x-cdn'], 'HIT');
  t.equal(tracked.headers['x-artwork-locale'], 'fr');
  t.equal((await originRequests(200)) - before, 1);
});

t.test('.auto: keyed by the normalised Accept', async (t) => {
  const url = '/v1/artwork/boxshot/80000004/171x256.auto';
  const avif = await get(url, { accept: 'image/avif,image/webp,image/apng,*/*;q=0.8' });
  const webp = await get(url, { accept: 'image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5' });
  const webpToo = await get(url, { accept: 'image/webp,*/*' });
  t.equal(avif.headers['content-type'], 'image/avif');
  t.equal(webp.headers['content-type'], 'image/webp');
  t.same([avif.headers['x-cdn'], webp.headers['x-cdn'], webpToo.headers['x-cdn']], ['MISS', 'MISS', 'HIT']);
  t.ok(webpToo.body.equals(webp.body), 'the two WebP clients share one object');
  t.not(avif.headers.etag, webp.headers.etag, 'AVIF and WebP clients get different objects');
  t.match(webp.headers.vary, /Accept/);
});

t.test('errors: a no-store problem is never kept; a 404 only as long as its max-age', async (t) => {
  const bad = '/v1/artwork/boxshot/80000001/342x513@9x.jpg';
  const before400 = await originRequests(400);
  const a = await get(bad);
  const b = await get(bad);
  t.same([a.status, b.status], [400, 400]);
  t.equal(a.headers['cache-control'], 'no-store');
  t.same([a.headers['x-cdn'], b.headers['x-cdn']], ['MISS', 'MISS']);
  t.equal((await originRequests(400)) - before400, 2, 'both reached the Preprocessor');

  const unknown = '/v1/artwork/boxshot/99999999/342x513.jpg';
  const first = await get(unknown);
  const again = await get(unknown);
  t.equal(first.status, 404);
  t.equal(first.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(first.headers['cache-control'], 'public, max-age=60');
  t.equal(again.headers['x-cdn'], 'HIT', 'kept, within the max-age the origin gave');
  t.ok(Number(again.headers.age) <= 60, 'Age within max-age (expiry itself: cdn-vcl.test.ts)');
});

t.test('BAN of one type drops its objects and leaves the other types cached', async (t) => {
  const boxshot = ['/v1/artwork/boxshot/80000005/342x513.jpg', '/v1/artwork/boxshot/80000005/342x513.jpg?locale=fr'];
  const billboard = ['/v1/artwork/billboard/80000006/960x540.webp'];
  for (const u of [...boxshot, ...billboard]) await get(u);
  const cached = async () => Promise.all([...boxshot, ...billboard].map(async (u) => (await get(u)).headers['x-cdn']));
  t.same(await cached(), ['HIT', 'HIT', 'HIT']);

  const invalidator = new VarnishInvalidator({ url: stack.invalidation!.url });
  const result = await invalidator.invalidate(['/v1/artwork/boxshot/*'], 'test: boxshot rules changed');
  t.equal(result.requests, 1);
  const after = await Promise.all([...boxshot, ...billboard].map(async (u) => (await get(u)).headers['x-cdn']));
  t.same(after, ['MISS', 'MISS', 'HIT'], 'boxshot (every locale) fetched again; billboard still a hit');
});

t.test('BAN and PURGE only from this machine', async (t) => {
  const refused = await new Promise<number>((resolve, reject) => {
    const req = http.request(`${stack.cdnUrl}/`, {
      method: 'BAN',
      headers: { 'x-ban-url': '^/v1/artwork/' },
      localAddress: '127.0.0.2',
      agent: false,
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(refused, 403, 'from 127.0.0.2: refused by the ACL');
});

/** The spec key of the billboard rendered under the published rules (the restart reads it from the store). */
let freshKey = '';

/** A studio API call with the stack's token (what the Publish button sends). */
async function studio(
  method: string,
  url: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${stack.studioToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

t.test(
  'a rules publish from the studio invalidates the changed type at the CDN: its new look, the others kept',
  async (t) => {
    const changed = '/v1/artwork/billboard/80000002/960x540.webp';
    const untouched = '/v1/artwork/logo/80000003/300x100.png';
    const old = await get(changed);
    await get(untouched);
    t.equal((await get(untouched)).headers['x-cdn'], 'HIT');

    // A draft of the rules in force with one change to one type, saved and published as the studio does.
    const doc = YAML.parse(shippedRules) as { types: Record<string, { encoding?: Record<string, unknown> }> };
    doc.types.billboard!.encoding = { ...doc.types.billboard!.encoding, webp: { quality: 31 } };
    const draft = await studio('POST', '/studio/api/drafts', { yaml: YAML.stringify(doc) });
    t.equal(draft.status, 201);
    const published = await studio('POST', `/studio/api/drafts/${String(draft.json.id)}/publish`, {
      rev: draft.json.rev,
      author: 'cdn test',
    });
    t.equal(published.status, 200);
    t.equal(published.json.published, true);
    t.ok(Number(published.json.changed) > 0, 'the impact counts the changed URLs');
    t.same(
      published.json.invalidations,
      ['/v1/artwork/billboard/*'],
      'one wildcard: every billboard changed, nothing else',
    );
    // The stack's Varnish purges by tag (xkey): the diff's tag plan goes, one purge of the billboard
    // looks and no path, and Varnish says how many objects went.
    t.match(
      published.json.invalidation,
      /^varnish: \d+ tags? in 1 request, \d+ objects? purged$/,
      'sent to the stack’s Varnish, by tag',
    );

    const hitsBefore = (await stack.cdn!.counters())['MAIN.cache_hit'] ?? 0;
    const fresh = await get(changed);
    t.equal(fresh.headers['x-cdn'], 'MISS', 'the changed type was dropped at the CDN');
    t.not(fresh.headers.etag, old.headers.etag, 'the new look (a new spec key)');
    t.not(fresh.body.length, old.body.length);
    t.equal((await get(untouched)).headers['x-cdn'], 'HIT', 'another type stays cached');
    const after = await stack.cdn!.counters();
    t.equal((after['MAIN.cache_hit'] ?? 0) - hitsBefore, 1, 'Varnish counted exactly the untouched type’s hit');
    freshKey = String(fresh.headers.etag).replaceAll('"', '');
  },
);

t.test('a restart keeps the published rules (the seed writes only when the object is absent)', async (t) => {
  // The render is stored after its reply (an asynchronous invocation): wait until it is there.
  const stored = { Bucket: 'marquee-derivatives', Key: `derivatives/${freshKey}.webp` };
  for (let i = 0; i < 100; i++) {
    const found = await s3.send(new HeadObjectCommand(stored)).then(
      () => true,
      () => false,
    );
    if (found) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stack.close();
  stopped = true;
  const again = await startStack({ dataDir, port: 0, logger: false, lambdaConcurrency: 1 });
  t.teardown(() => again.close());
  t.equal(again.cdnUrl, undefined, 'no CDN unless asked');
  const client = localS3Client(again.s3Endpoint);
  t.teardown(() => client.destroy());
  const object = await client.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: RULES_KEY }));
  t.match(await object.Body?.transformToString(), /quality: 31/);
  const res = await get('/v1/artwork/billboard/80000002/960x540.webp', {}, again.url);
  t.equal(res.status, 200);
  t.equal(res.headers['x-cache'], 'store', 'the render made before the restart, from the derivative store');
  const metrics = (await get('/metrics', {}, again.url)).body.toString();
  t.notMatch(metrics, /marquee_generator_invocations_total\{outcome="ok"\} [1-9]/, 'no Generator invocation');
});
