// The whole embedded stack over real HTTP: s3rver (seeded), the local Lambda endpoint running the
// real Generator through @aws-sdk/client-lambda, and the Preprocessor. What a CDN or a client sees.
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import sharp from 'sharp';
import YAML from 'yaml';
import { startStack } from '../stack/stack.js';
import type { Problem } from './helpers.js';

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-e2e-'));
const rulesFile = path.join(dir, 'rules.yaml');
const defaultRules = await readFile(new URL('../../../preprocessor/config/rules.yaml', import.meta.url), 'utf8');
await writeFile(rulesFile, defaultRules);

const stack = await startStack({
  dataDir: path.join(dir, 'data'),
  port: 0,
  logger: false,
  lambdaConcurrency: 2,
  preprocessor: { rules: rulesFile, reloadMs: 60_000 },
});
t.teardown(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw GET: the path goes on the wire exactly as written (no client-side normalisation). */
/**
 * Renders the Preprocessor asked for, from its /metrics. Not the local Lambda's own count: that also
 * holds the derivative-store writes (asynchronous invocations sent after a reply).
 */
async function renders(): Promise<number> {
  const res = await request(`${stack.url}/metrics`);
  const text = await res.body.text();
  const m = /^marquee_generator_invocations_total\{outcome="ok"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await request(`${stack.url}${pathAndQuery}`, { method: 'GET', headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers: flat, body };
}

const MAGIC: Record<string, (b: Buffer) => boolean> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  webp: (b) => b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP',
  avif: (b) => b.toString('latin1', 4, 8) === 'ftyp' && /avi[fs]/.test(b.toString('latin1', 8, 12)),
};

async function assertImage(t: Test, res: Reply, format: keyof typeof MAGIC, width: number, height: number) {
  t.equal(res.status, 200, res.status === 200 ? 'status' : `status (${res.body.subarray(0, 300).toString()})`);
  t.equal(res.headers['content-type'], `image/${format}`);
  t.equal(Number(res.headers['content-length']), res.body.length, 'Content-Length is the body length');
  t.ok(MAGIC[format]!(res.body), `${format} magic number`);
  const meta = await sharp(res.body).metadata();
  t.equal(meta.format === 'heif' ? 'avif' : meta.format, format);
  t.equal(meta.width, width, 'width');
  t.equal(meta.height, height, 'height');
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.match(res.headers.etag, /^"[0-9a-f]{32}"$/, 'strong ETag from the spec key');
}

function assertProblem(t: Test, res: Reply, status: number | ((s: number) => boolean)) {
  if (typeof status === 'number') t.equal(res.status, status);
  else t.ok(status(res.status), `status ${res.status}`);
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  const body = JSON.parse(res.body.toString()) as Record<string, unknown>;
  t.equal(body.status, res.status);
  t.type(body.type, 'string');
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
  t.notMatch(res.body.toString(), /\n\s+at |node_modules|\/work\//, 'no stack trace or path');
  t.match(res.headers['cache-control'], /^(no-store|public, max-age=60)$/, 'errors are not cached for long');
  return body;
}

t.test('each artwork type renders at the size and in the format asked', async (t) => {
  await assertImage(t, await get('/v1/artwork/boxshot/80000001/342x513.jpg'), 'jpeg', 342, 513);
  await assertImage(t, await get('/v1/artwork/boxshot/80000001/342x513@2x.webp'), 'webp', 684, 1026);
  await assertImage(t, await get('/v1/artwork/billboard/80000002/1280x720.jpg'), 'jpeg', 1280, 720);
  await assertImage(t, await get('/v1/artwork/billboard/80000002/480x270.avif'), 'avif', 480, 270);
  const logo = await get('/v1/artwork/logo/80000003/600x200.png');
  await assertImage(t, logo, 'png', 600, 200);
  t.equal((await sharp(logo.body).metadata()).hasAlpha, true, 'logos keep their transparency');
});

t.test('headers say what was resolved; Cache-Control from the rules, immutable with the current v', async (t) => {
  const res = await get('/v1/artwork/boxshot/80000001/342x513.jpg');
  t.equal(res.headers['x-artwork-locale'], 'en');
  t.equal(res.headers['x-artwork-size'], '342x513');
  t.match(res.headers['cache-control'], /max-age=\d+/);
  t.notMatch(res.headers['cache-control'], /immutable/);
  t.ok(res.headers['x-request-id']);
  const versioned = await get('/v1/artwork/boxshot/80000001/342x513.jpg?v=1');
  t.equal(versioned.status, 200);
  t.match(versioned.headers['cache-control'], /immutable/);
  const stale = await get('/v1/artwork/boxshot/80000001/342x513.jpg?v=0');
  t.notMatch(stale.headers['cache-control'], /immutable/, 'a v that is not the current version is never immutable');
});

t.test('locale falls back along the chain', async (t) => {
  const state = stack.app.rulesPoller.current().catalog;
  const titles = Object.entries(state.titles);
  const withPtBr = titles.find(([, v]) => v.artwork.boxshot?.['pt-BR']);
  const ptOnly = titles.find(([, v]) => v.artwork.boxshot?.pt && !v.artwork.boxshot?.['pt-BR']);
  const enOnly = titles.find(([, v]) => !v.artwork.boxshot?.pt && !v.artwork.boxshot?.['pt-BR']);
  t.ok(withPtBr && ptOnly && enOnly, 'the seeded catalog has each case');
  const exact = await get(`/v1/artwork/boxshot/${withPtBr![0]}/342x513.jpg?locale=pt-BR`);
  t.equal(exact.headers['x-artwork-locale'], 'pt-BR');
  const lower = await get(`/v1/artwork/boxshot/${withPtBr![0]}/342x513.jpg?locale=pt-br`);
  t.equal(lower.status, 308, 'one spelling per locale: pt-br is sent to pt-BR');
  t.equal(lower.headers.location, `/v1/artwork/boxshot/${withPtBr![0]}/342x513.jpg?locale=pt-BR`);
  const viaPt = await get(`/v1/artwork/boxshot/${ptOnly![0]}/342x513.jpg?locale=pt-BR`);
  t.equal(viaPt.headers['x-artwork-locale'], 'pt');
  const viaEn = await get(`/v1/artwork/boxshot/${enOnly![0]}/342x513.jpg?locale=pt-BR`);
  t.equal(viaEn.headers['x-artwork-locale'], 'en');
  t.not(exact.headers.etag, viaEn.headers.etag);
});

t.test('snap: 308 to the nearest allowed size at or above, keeping the query', async (t) => {
  const res = await get('/v1/artwork/boxshot/80000001/300x450.jpg?locale=fr&v=1');
  t.equal(res.status, 308);
  t.equal(res.headers.location, '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr&v=1');
  t.match(res.headers['cache-control'], /max-age/);
  const widthOnly = await get('/v1/artwork/boxshot/80000001/342@2x.webp');
  t.equal(widthOnly.status, 308);
  t.equal(widthOnly.headers.location, '/v1/artwork/boxshot/80000001/342x513@2x.webp');
});

t.test('one spelling per image: every other spelling is sent to it', async (t) => {
  // Regression: each of these rendered with a 200, one CDN entry per spelling (an acceptance finding).
  const spellings = ['00342x00513.jpg', '342x513@1x.jpg', '342x513.jpeg', '%33%34%32x513.jpg', '342x513%2Ejpg'];
  for (const file of spellings) {
    const res = await get(`/v1/artwork/boxshot/80000001/${file}?v=1&utm=x&locale=en`);
    t.equal(res.status, 308, file);
    t.equal(
      res.headers.location,
      '/v1/artwork/boxshot/80000001/342x513.jpg?locale=en&v=1',
      `${file}: canonical location`,
    );
  }
  const logo = await get('/v1/artwork/logo/80000003/300.png');
  t.equal(logo.status, 308, 'a W-only logo is spelled WxH');
  t.equal(logo.headers.location, '/v1/artwork/logo/80000003/300x100.png');
  const empty = await get('/v1/artwork/boxshot/80000001/171x256.jpg?locale=');
  t.equal(empty.status, 200, 'an empty locale is the default');
  t.equal(empty.headers['x-artwork-locale'], 'en');
});

t.test('artwork is read-only: other methods get 405 with Allow', async (t) => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
    const res = await request(`${stack.url}/v1/artwork/boxshot/80000001/342x513.jpg`, {
      method,
      body: method === 'DELETE' ? null : 'x',
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    t.equal(res.statusCode, 405, method);
    t.equal(res.headers.allow, 'GET, HEAD');
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal((JSON.parse(body.toString()) as Problem).code, 'METHOD_NOT_ALLOWED');
  }
  const head = await request(`${stack.url}/v1/artwork/boxshot/80000001/342x513.jpg`, { method: 'HEAD' });
  await head.body.dump();
  t.equal(head.statusCode, 200, 'HEAD works');
  t.equal(head.headers['content-type'], 'image/jpeg');
});

t.test('auto: negotiated from Accept with Vary: Accept', async (t) => {
  const cases: Array<[string, keyof typeof MAGIC]> = [
    ['image/avif,image/webp,*/*', 'avif'],
    ['image/webp,*/*;q=0.8', 'webp'],
    ['image/avif;q=0,image/webp', 'webp'],
    ['*/*', 'jpeg'],
  ];
  const etags = new Set<string>();
  for (const [accept, format] of cases) {
    const res = await get('/v1/artwork/boxshot/80000004/171x256.auto', { accept });
    await assertImage(t, res, format, 171, 256);
    t.match(res.headers.vary, /Accept/i, `Vary for ${accept}`);
    etags.add(res.headers.etag!);
  }
  t.equal(etags.size, 3, 'one ETag per negotiated format');
  const explicit = await get('/v1/artwork/boxshot/80000004/171x256.webp');
  t.notOk(explicit.headers.vary, 'an explicit format does not vary');
});

t.test('ETag and 304; second request is a cache hit', async (t) => {
  const first = await get('/v1/artwork/boxshot/80000005/342x513.webp');
  t.equal(first.status, 200);
  t.equal(first.headers['x-cache'], 'miss');
  const again = await get('/v1/artwork/boxshot/80000005/342x513.webp');
  t.equal(again.headers['x-cache'], 'hit');
  t.ok(again.body.equals(first.body), 'same bytes');
  t.equal(again.headers.etag, first.headers.etag);
  const before = await renders();
  const notModified = await get('/v1/artwork/boxshot/80000005/342x513.webp', { 'if-none-match': first.headers.etag! });
  t.equal(notModified.status, 304);
  t.equal(notModified.body.length, 0);
  t.equal(notModified.headers.etag, first.headers.etag);
  t.equal(notModified.headers['x-cache'], 'hit');
  const star = await get('/v1/artwork/boxshot/80000005/342x513.webp', { 'if-none-match': '*' });
  t.equal(star.status, 200, '* is not taken on trust');
  t.equal(await renders(), before, '304 needs no rendering');
});

t.test('20 concurrent identical misses cause exactly one invocation', async (t) => {
  const before = await renders();
  const replies = await Promise.all(
    Array.from({ length: 20 }, () => get('/v1/artwork/billboard/80000006/960x540.webp')),
  );
  t.equal((await renders()) - before, 1);
  t.ok(replies.every((r) => r.status === 200));
  const caches = replies.map((r) => r.headers['x-cache']);
  t.equal(caches.filter((c) => c === 'miss').length, 1);
  t.equal(caches.filter((c) => c === 'coalesced').length + caches.filter((c) => c === 'hit').length, 19);
  t.ok(replies.every((r) => r.body.equals(replies[0]!.body)));
});

t.test('unknown title, type or artwork: 404 problem+json', async (t) => {
  const unknown = await get('/v1/artwork/boxshot/99999999/342x513.jpg');
  t.equal(assertProblem(t, unknown, 404).code, 'UNKNOWN_TITLE');
  t.notOk(unknown.headers['x-artwork-locale'] ?? unknown.headers['x-cache'], 'no headers describing an image');
  t.equal(assertProblem(t, await get('/v1/artwork/poster/80000001/342x513.jpg'), 404).code, 'UNKNOWN_TYPE');
  assertProblem(t, await get('/v2/artwork/boxshot/80000001/342x513.jpg'), 404);
});

t.test('malformed URLs: each a 4xx problem+json', async (t) => {
  const long = 'a'.repeat(4000);
  const cases = [
    '/v1/artwork/boxshot/80000001/0x513.jpg',
    '/v1/artwork/boxshot/80000001/342x0.jpg',
    '/v1/artwork/boxshot/80000001/-342x513.jpg',
    '/v1/artwork/boxshot/80000001/NaNx513.jpg',
    '/v1/artwork/boxshot/80000001/342xNaN.jpg',
    '/v1/artwork/boxshot/80000001/1e3x513.jpg',
    '/v1/artwork/boxshot/80000001/99999999x513.jpg',
    '/v1/artwork/boxshot/80000001/342x513.bmp',
    '/v1/artwork/boxshot/80000001/342x513.svg',
    '/v1/artwork/boxshot/80000001/342x513',
    '/v1/artwork/boxshot/80000001/342x513@9x.jpg',
    '/v1/artwork/boxshot/..%2F..%2Fetc%2Fpasswd/342x513.jpg',
    '/v1/artwork/boxshot/../../etc/342x513.jpg',
    '/v1/artwork/boxshot/80000001%00/342x513.jpg',
    '/v1/artwork/BOXSHOT/80000001/342x513.jpg',
    '/v1/artwork/boxshot/80000001/342x513.jpg?locale=../../etc',
    '/v1/artwork/boxshot/80000001/342x513.jpg?locale=en_US_POSIX_xxxxxxxxxxxxxxxxxxxxxxx',
    '/v1/artwork/boxshot/80000001/342x513.jpg?v=%3Cscript%3E',
    `/v1/artwork/boxshot/${long}/342x513.jpg`,
    `/v1/artwork/boxshot/80000001/342x513.jpg?locale=${long}`,
  ];
  for (const url of cases) {
    const res = await get(url);
    t.test(url.slice(0, 90), async (t) => {
      assertProblem(t, res, (s) => s >= 400 && s < 500);
    });
  }
  // Far past any real URL: refused by the HTTP layer, still problem+json.
  const huge = await get(`/v1/artwork/boxshot/80000001/342x513.jpg?locale=${'x'.repeat(70_000)}`);
  t.ok(huge.status >= 400 && huge.status < 500, `huge URL: ${huge.status}`);
});

t.test(
  'rules: a strict type says which sizes are allowed; a broken file is refused and the last good rules serve on',
  async (t) => {
    // Resolved (and remembered) under the old rules first: new rules must not be answered from memory.
    t.equal((await get('/v1/artwork/billboard/80000002/1000x563.jpg')).status, 308);
    const doc = YAML.parse(defaultRules) as { types: Record<string, { sizePolicy?: string; sizes: string[] }> };
    doc.types.billboard!.sizePolicy = 'strict';
    await writeFile(rulesFile, YAML.stringify(doc));
    await stack.app.rulesPoller.reload();
    const strict = await get('/v1/artwork/billboard/80000002/1000x563.jpg');
    const body = assertProblem(t, strict, 400);
    t.equal(body.code, 'SIZE_NOT_ALLOWED');
    for (const size of doc.types.billboard!.sizes) t.match(String(body.detail), size, `names ${size}`);

    await writeFile(rulesFile, 'version: 1\ntypes:\n  boxshot: [this is: not valid\n');
    await stack.app.rulesPoller.reload();
    t.ok(stack.app.rulesPoller.status().lastError, 'the poller reports the refused file');
    const still = await get('/v1/artwork/billboard/80000002/1000x563.jpg');
    t.equal(
      (JSON.parse(still.body.toString()) as Problem).code,
      'SIZE_NOT_ALLOWED',
      'the last good rules are still in force',
    );
    t.equal((await get('/v1/artwork/boxshot/80000001/342x513.jpg')).status, 200);
  },
);

t.test('after all of it the stack is healthy and ready', async (t) => {
  t.equal((await get('/healthz')).status, 200);
  t.equal((await get('/readyz')).status, 200);
  const metrics = (await get('/metrics')).body.toString();
  t.match(metrics, /marquee_cache_requests_total\{result="hit"\} [1-9]/);
  t.match(metrics, /marquee_generator_invocations_total\{outcome="ok"\} [1-9]/);
  t.match(metrics, /marquee_http_requests_total\{route="\/v1\/artwork\/:type\/:titleId\/:file",status="200"\}/);
});
