// The CDN's VCL (infra/local/cdn/marquee.vcl) in a real varnishd, in front of a scripted origin that
// records what reaches it: what is keyed, what is forwarded, what is kept and for how long, what a
// BAN or PURGE drops and who may send one. The whole stack behind Varnish is cdn.test.ts.
import t, { type Test } from 'tap';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startVarnish, withBackend, defaultVcl, VarnishStartError } from '../cdn/varnish.js';
import { ACCEPT_CASES } from '../../../shared/test/fixtures/accept-cases.js';
import { VarnishInvalidator } from '@marquee/preprocessor';

interface Seen {
  method: string;
  url: string;
  accept: string | undefined;
  cookie: string | undefined;
}

/** Origin replies by path: `cache-control` from `?cc=` is not possible (the query is stripped), so by route. */
const ROUTES: Record<string, { status: number; headers: Record<string, string> }> = {
  '/v1/artwork/err/503.jpg': { status: 503, headers: { 'cache-control': 'no-store', 'retry-after': '1' } },
  '/v1/artwork/err/404.jpg': { status: 404, headers: { 'cache-control': 'public, max-age=1' } },
  '/v1/artwork/err/500.jpg': { status: 500, headers: {} },
  '/v1/artwork/short/1/1.jpg': { status: 200, headers: { 'cache-control': 'public, max-age=1' } },
  '/v1/artwork/star/1/1.jpg': { status: 200, headers: { 'cache-control': 'public, max-age=60', vary: '*' } },
  '/v1/artwork/vary/1/1.jpg': { status: 200, headers: { 'cache-control': 'public, max-age=60', vary: 'Accept' } },
  '/v1/render': { status: 200, headers: {} },
  '/v1/artwork/snap/1/300x450.jpg': {
    status: 308,
    headers: { location: '/v1/artwork/snap/1/342x513.jpg', 'cache-control': 'public, max-age=3600' },
  },
};

async function origin(t: Test) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    seen.push({ method: req.method ?? '', url, accept: req.headers.accept, cookie: req.headers.cookie });
    const route = ROUTES[url.split('?')[0]!] ?? {
      status: 200,
      headers: { 'cache-control': 'public, max-age=300', ...(url.includes('.auto') ? { vary: 'Accept' } : {}) },
    };
    res.writeHead(route.status, { 'content-type': 'text/plain', ...route.headers });
    res.end(`${url} ${req.headers.accept ?? '-'}`);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, seen };
}

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-cdn-vcl-'));
const backend = await origin(t);
const varnish = await startVarnish({
  backend: { host: '127.0.0.1', port: backend.port },
  workDir: path.join(dir, 'v'),
});
t.teardown(async () => {
  await varnish.close();
  await rm(dir, { recursive: true, force: true });
});
const invalidator = new VarnishInvalidator({ url: varnish.url });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: node:http sends exactly these headers (fetch would add an Accept of its own). */
function send(
  pathAndQuery: string,
  options: { method?: string; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${varnish.url}${pathAndQuery}`,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        localAddress: options.localAddress,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
const get = (p: string, headers: Record<string, string> = {}) => send(p, { headers });
const originSaw = (prefix: string) => backend.seen.filter((s) => s.url.startsWith(prefix));

t.test('.auto: Accept collapsed by the edge function rules, every row of the shared table', async (t) => {
  // One URL per row, so each reaches the origin and shows what Varnish forwarded (and keyed on).
  for (const [i, { name, accept, normalised }] of ACCEPT_CASES.entries()) {
    const url = `/v1/artwork/accept/${i}/1.auto`;
    const res = await get(url, accept === undefined ? {} : { accept });
    t.equal(res.status, 200, name);
    t.equal(originSaw(url).at(-1)?.accept, normalised, `${name}: ${normalised}`);
  }
});

t.test('.auto: one object per normalised Accept; Accepts that normalise alike share it', async (t) => {
  const url = '/v1/artwork/auto/80000001/342x513.auto';
  const chrome = await get(url, { accept: 'image/avif,image/webp,image/apng,*/*;q=0.8' });
  const safari = await get(url, { accept: 'image/webp,image/png,*/*;q=0.5' });
  const webpOnly = await get(url, { accept: 'image/webp' });
  const chromeAgain = await get(url, { accept: 'image/avif,image/webp,*/*' });
  t.same(
    [chrome, safari, webpOnly, chromeAgain].map((r) => r.headers['x-cdn']),
    ['MISS', 'MISS', 'HIT', 'HIT'],
  );
  t.equal(originSaw(url).length, 2, 'the origin rendered avif+webp and webp once each');
  t.match(chrome.headers.vary, /Accept/);
});

t.test(
  'an explicit extension drops Accept: one object whatever the client sends, even if the origin varies',
  async (t) => {
    const url = '/v1/artwork/vary/1/1.jpg';
    const a = await get(url, { accept: 'image/avif' });
    const b = await get(url, { accept: 'image/webp' });
    t.same([a.headers['x-cdn'], b.headers['x-cdn']], ['MISS', 'HIT']);
    t.equal(originSaw(url)[0]?.accept, undefined, 'no Accept forwarded');
  },
);

t.test(
  'query: only locale and v kept, sorted; other parameters neither split the cache nor reach the origin',
  async (t) => {
    const base = '/v1/artwork/query/80000001/342x513.jpg';
    const first = await get(`${base}?utm_source=x&v=2&locale=fr`);
    const second = await get(`${base}?locale=fr&v=2&fbclid=y`);
    const third = await get(`${base}?v=2&locale=fr`);
    t.same(
      [first, second, third].map((r) => r.headers['x-cdn']),
      ['MISS', 'HIT', 'HIT'],
    );
    t.same(
      originSaw(base).map((s) => s.url),
      [`${base}?locale=fr&v=2`],
    );
    const other = await get(`${base}?locale=de&v=2`);
    t.equal(other.headers['x-cdn'], 'MISS', 'another locale is another object');
    const bare = await get(`${base}?utm=1`);
    t.equal(bare.headers['x-cdn'], 'MISS');
    t.equal(originSaw(base).at(-1)?.url, base, 'nothing left: no query at all');
  },
);

t.test('cached behaviours forward no cookie', async (t) => {
  await get('/v1/artwork/cookie/1/1.jpg', { cookie: 'session=abc' });
  t.equal(originSaw('/v1/artwork/cookie/')[0]?.cookie, undefined);
});

t.test(
  'errors: no-store is never kept; a max-age is not exceeded (no grace); no Cache-Control, not kept',
  async (t) => {
    for (const url of ['/v1/artwork/err/503.jpg', '/v1/artwork/err/500.jpg']) {
      const a = await get(url);
      const b = await get(url);
      t.same([a.status, b.status], [Number(url.slice(-7, -4)), Number(url.slice(-7, -4))]);
      t.same([a.headers['x-cdn'], b.headers['x-cdn']], ['MISS', 'MISS'], url);
      t.equal(originSaw(url).length, 2, `${url}: both reached the origin`);
    }
    const notFound = '/v1/artwork/err/404.jpg';
    t.equal((await get(notFound)).headers['x-cdn'], 'MISS');
    t.equal((await get(notFound)).headers['x-cdn'], 'HIT', 'kept within its max-age (1 s)');
    await sleep(2100); // max-age=1 has passed (Age counts whole seconds)
    const after = await get(notFound);
    t.equal(after.headers['x-cdn'], 'MISS', 'past its max-age: asked again, not served stale');
    t.equal(originSaw(notFound).length, 2);
  },
);

t.test('a 200 is not served past its max-age either; Vary: * is not cached', async (t) => {
  const url = '/v1/artwork/short/1/1.jpg';
  await get(url);
  t.equal((await get(url)).headers['x-cdn'], 'HIT');
  await sleep(2100);
  t.equal((await get(url)).headers['x-cdn'], 'MISS');
  const star = '/v1/artwork/star/1/1.jpg';
  await get(star);
  t.equal((await get(star)).headers['x-cdn'], 'MISS');
});

t.test('a redirect with a max-age is kept like an image (Varnish alone would not keep a 308)', async (t) => {
  const url = '/v1/artwork/snap/1/300x450.jpg';
  const first = await get(url);
  const second = await get(url);
  t.same([first.status, second.status], [308, 308]);
  t.equal(second.headers.location, '/v1/artwork/snap/1/342x513.jpg');
  t.same([first.headers['x-cdn'], second.headers['x-cdn']], ['MISS', 'HIT']);
});

t.test('renders: every query parameter keyed; nothing kept without a Cache-Control', async (t) => {
  await get('/v1/render?src=a&w=1&sig=x');
  t.equal((await get('/v1/render?src=a&w=1&sig=x')).headers['x-cdn'], 'MISS');
  t.equal(originSaw('/v1/render').at(-1)?.url, '/v1/render?src=a&w=1&sig=x', 'the whole query forwarded');
});

t.test('routing: probes and the studio pass; anything else is 404 here; artwork is GET/HEAD only', async (t) => {
  for (const p of ['/healthz', '/readyz', '/studio', '/v1/studio/drafts']) {
    const a = await get(p);
    await get(p);
    t.equal(a.headers['x-cdn'], 'PASS', p);
    t.equal(originSaw(p).length, 2, `${p}: never cached`);
  }
  for (const p of ['/metrics', '/', '/v2/artwork/boxshot/1/1.jpg']) {
    const res = await get(p);
    t.equal(res.status, 404, p);
    t.equal(res.headers['cache-control'], 'no-store');
    t.equal(backend.seen.filter((s) => s.url === p).length, 0, `${p}: not forwarded`);
  }
  const post = await send('/v1/artwork/boxshot/1/1.jpg', { method: 'POST' });
  t.equal(post.status, 405);
  t.equal(post.headers.allow, 'GET, HEAD');
});

t.test('BAN of a wildcard drops every variant under it and nothing else; PURGE drops one URL', async (t) => {
  const urls = {
    a: '/v1/artwork/ban-a/80000001/342x513.jpg',
    aFr: '/v1/artwork/ban-a/80000001/342x513.jpg?locale=fr',
    aAuto: '/v1/artwork/ban-a/80000002/342x513.auto',
    dotted: '/v1/artwork/banXa/80000001/342x513.jpg',
    b: '/v1/artwork/ban-b/80000001/342x513.jpg',
    bFr: '/v1/artwork/ban-b/80000001/342x513.jpg?locale=fr',
  };
  const warm = async () => {
    for (const u of Object.values(urls)) await get(u, { accept: 'image/webp' });
    await get(urls.aAuto, { accept: 'image/avif' });
  };
  const state = async () => {
    const out: Record<string, string | string[] | undefined> = {};
    for (const [k, u] of Object.entries(urls)) out[k] = (await get(u, { accept: 'image/webp' })).headers['x-cdn'];
    out.aAutoAvif = (await get(urls.aAuto, { accept: 'image/avif' })).headers['x-cdn'];
    return out;
  };
  await warm();
  // A `.` in the pattern is a dot, not "any character": banXa must survive a BAN of ban.a.
  await invalidator.invalidate(['/v1/artwork/ban.a/*'], 'test: nothing matches');
  t.same(await state(), { a: 'HIT', aFr: 'HIT', aAuto: 'HIT', dotted: 'HIT', b: 'HIT', bFr: 'HIT', aAutoAvif: 'HIT' });

  const result = await invalidator.invalidate(['/v1/artwork/ban-a/*'], 'test: type ban-a changed');
  t.same(
    { backend: result.backend, paths: result.paths, requests: result.requests },
    { backend: 'varnish', paths: 1, requests: 1 },
  );
  t.same(
    await state(),
    { a: 'MISS', aFr: 'MISS', aAuto: 'MISS', dotted: 'HIT', b: 'HIT', bFr: 'HIT', aAutoAvif: 'MISS' },
    'every query and Accept variant of ban-a gone; the rest still cached',
  );

  // An exact path: that URL (every Accept variant), not its query siblings (as a CloudFront path).
  await invalidator.invalidate([urls.b], 'test: one URL');
  t.same((await state()).b, 'MISS');
  t.same((await state()).bFr, 'HIT', 'the ?locale=fr sibling is another path');
  await invalidator.invalidate([`${urls.b}*`], 'test: the URL and its queries');
  const after = await state();
  t.same([after.b, after.bFr], ['MISS', 'MISS']);
});

t.test('BAN and PURGE only from this machine: another address (127.0.0.2) is refused, objects kept', async (t) => {
  const url = '/v1/artwork/acl/1/1.jpg';
  await get(url);
  const ban = await send('/', {
    method: 'BAN',
    headers: { 'x-ban-url': '^/v1/artwork/acl/' },
    localAddress: '127.0.0.2',
  });
  const purge = await send(url, { method: 'PURGE', localAddress: '127.0.0.2' });
  t.same([ban.status, purge.status], [403, 403]);
  t.equal((await get(url)).headers['x-cdn'], 'HIT', 'still cached');
  const local = await send(url, { method: 'PURGE' });
  t.equal(local.status, 200, 'from 127.0.0.1: accepted');
  t.equal((await get(url)).headers['x-cdn'], 'MISS');
  const noHeader = await send('/', { method: 'BAN' });
  t.equal(noHeader.status, 400, 'a BAN names its regex');
});

t.test('the runner: a broken VCL or an absent varnishd is a clear error', async (t) => {
  await t.rejects(
    startVarnish({
      backend: { host: '127.0.0.1', port: backend.port },
      workDir: path.join(dir, 'missing'),
      varnishd: '/nonexistent/varnishd',
    }),
    { name: 'ConfigError', message: /apt-get install varnish/ },
  );
  const broken = path.join(dir, 'broken.vcl');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(
    broken,
    'vcl 4.1;\nbackend b { .host = "127.0.0.1"; .port = "1"; }\nsub vcl_recv { return (nonsense); }\n',
  );
  await t.rejects(
    startVarnish({
      backend: { host: '127.0.0.1', port: backend.port },
      workDir: path.join(dir, 'broken'),
      vcl: broken,
    }),
    VarnishStartError,
  );
  t.match(
    withBackend('backend x { .host = "a"; .port = "1"; }', { host: '127.0.0.9', port: 4242 }),
    '.host = "127.0.0.9"; .port = "4242"',
  );
  t.ok(defaultVcl().endsWith(path.join('cdn', 'marquee.vcl')));
});

t.test('counters: hits and misses as varnishstat reports them', async (t) => {
  const before = await varnish.counters();
  await get('/v1/artwork/counters/1/1.jpg');
  await get('/v1/artwork/counters/1/1.jpg');
  const after = await varnish.counters();
  t.equal(after['MAIN.cache_hit']! - before['MAIN.cache_hit']!, 1);
  t.equal(after['MAIN.cache_miss']! - before['MAIN.cache_miss']!, 1);
});
