// Purges by cache tag in a real varnishd with the CDN's VCL (infra/local/cdn/marquee.vcl) and
// Debian's vmod xkey, in front of a scripted origin that tags its replies as the Preprocessor
// does (title, type, title and type, look): what a tag purge drops, what it leaves cached, who may
// send one, what the VCL keeps to itself. The path BANs and PURGEs are cdn-vcl.test.ts's.
import t, { type Test } from 'tap';
import http from 'node:http';
import { mkdtemp, readdir, rm, symlink, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startVarnish, withCacheTagHeader, VARNISH_MODULES_PACKAGE } from '../cdn/varnish.js';
import { VarnishInvalidator } from '@marquee/preprocessor';

/** Tags as the Preprocessor spells them, from the path; `.auto` takes the negotiated format's look. */
function tagsOf(url: string, accept: string | undefined): string[] {
  const [, type = '', title = '', file = ''] = /^\/v1\/artwork\/([^/]+)\/([^/]+)\/([^?]+)/.exec(url) ?? [];
  const ext = file.endsWith('.auto') ? (accept ?? 'image/jpeg').replace('image/', '') : file.split('.').pop();
  return [`title:${title}`, `type:${type}`, `tt:${type}/${title}`, `look:${type}-${ext}`];
}

async function origin(t: Test, header: string, separator: string) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    seen.push(url);
    res.writeHead(200, {
      'content-type': 'text/plain',
      'cache-control': 'public, max-age=300',
      ...(url.includes('.auto') ? { vary: 'Accept' } : {}),
      [header]: tagsOf(url, req.headers.accept).join(separator),
      // An origin's own xkey header is not Marquee's contract: the VCL must not key on it.
      xkey: 'look:smuggled',
    });
    res.end(url);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as AddressInfo).port, seen };
}

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-cdn-xkey-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

async function cdn(t: Test, name: string, options: { header?: string; separator?: string } = {}) {
  const backend = await origin(t, options.header ?? 'cache-tag', options.separator ?? ',');
  const varnish = await startVarnish({
    backend: { host: '127.0.0.1', port: backend.port },
    workDir: path.join(dir, name),
    ...(options.header ? { cacheTagHeader: options.header } : {}),
  });
  t.teardown(() => varnish.close());
  const send = (p: string, o: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request(
        `${varnish.url}${p}`,
        { method: o.method ?? 'GET', headers: o.headers ?? {}, agent: false, localAddress: o.localAddress },
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
  return { varnish, backend, send, invalidator: new VarnishInvalidator({ url: varnish.url }) };
}

/** Two types, two titles, a query variant and an `.auto` URL held in two formats: 8 objects. */
const OBJECTS = [
  { url: '/v1/artwork/boxshot/80000001/342x513.webp', accept: undefined },
  { url: '/v1/artwork/boxshot/80000001/342x513.webp?locale=fr', accept: undefined },
  { url: '/v1/artwork/boxshot/80000001/342x513.jpg', accept: undefined },
  { url: '/v1/artwork/boxshot/80000002/342x513.webp', accept: undefined },
  { url: '/v1/artwork/boxshot/80000002/342x513.auto', accept: 'image/webp' },
  { url: '/v1/artwork/boxshot/80000002/342x513.auto', accept: 'image/jpeg' },
  { url: '/v1/artwork/billboard/80000001/1280x720.webp', accept: undefined },
  { url: '/v1/artwork/billboard/80000002/1280x720.jpg', accept: undefined },
] as const;

async function states(send: Awaited<ReturnType<typeof cdn>>['send']): Promise<string[]> {
  const out: string[] = [];
  for (const o of OBJECTS)
    out.push(String((await send(o.url, { headers: o.accept ? { accept: o.accept } : {} })).headers['x-cdn']));
  return out;
}

t.test('a look tag purges exactly the objects of that look, every URL, query and Accept variant', async (t) => {
  const { send, invalidator } = await cdn(t, 'look');
  await states(send);
  t.same(await states(send), Array(8).fill('HIT'), 'all eight cached');

  const result = await invalidator.invalidateTagged({ tags: ['look:boxshot-webp'], paths: [] }, 'test: webp look');
  t.match(result, { backend: 'varnish', tags: 1, paths: 0, requests: 1, purged: 4 });
  t.same(
    await states(send),
    ['MISS', 'MISS', 'HIT', 'MISS', 'MISS', 'HIT', 'HIT', 'HIT'],
    'the boxshot WebPs gone (the .auto one as WebP too); its JPEG variant, the boxshot JPEG and the billboards stay HITs',
  );
});

t.test('tags and exact paths in one call: each reaches only its own objects', async (t) => {
  const { send, invalidator } = await cdn(t, 'mixed');
  await states(send);
  const result = await invalidator.invalidateTagged(
    { tags: ['tt:billboard/80000001', 'tt:billboard/80000001'], paths: ['/v1/artwork/boxshot/80000001/342x513.jpg'] },
    'test: one title type and one path',
  );
  t.match(result, { tags: 1, paths: 1, requests: 2, purged: 1 });
  t.same(await states(send), ['HIT', 'HIT', 'MISS', 'HIT', 'HIT', 'HIT', 'MISS', 'HIT']);
});

t.test('a tag nothing carries purges nothing; the origin’s own xkey header is ignored', async (t) => {
  const { send, invalidator } = await cdn(t, 'none');
  await states(send);
  const none = await invalidator.invalidateTagged({ tags: ['look:smuggled', 'type:logo'], paths: [] }, 'test');
  t.equal(none.purged, 0);
  t.same(await states(send), Array(8).fill('HIT'));
  const reply = await send(OBJECTS[0].url);
  t.equal(reply.headers.xkey, undefined, 'xkey is internal');
  t.equal(reply.headers['cache-tag'], tagsOf(OBJECTS[0].url, undefined).join(','), 'the tags stay visible');
});

t.test('a tag purge only from this machine: 127.0.0.2 is refused and nothing is purged', async (t) => {
  const { send } = await cdn(t, 'acl');
  await states(send);
  const refused = await send('/', {
    method: 'PURGE',
    headers: { 'xkey-purge': 'type:boxshot' },
    localAddress: '127.0.0.2',
  });
  t.equal(refused.status, 403);
  t.same(await states(send), Array(8).fill('HIT'));
  const local = await send('/', { method: 'PURGE', headers: { 'xkey-purge': 'type:boxshot' } });
  t.same([local.status, local.headers['x-purged']], [200, '6']);
  t.same(await states(send), ['MISS', 'MISS', 'MISS', 'MISS', 'MISS', 'MISS', 'HIT', 'HIT']);
});

t.test('another header name (Fastly’s Surrogate-Key, space-separated) is read when configured', async (t) => {
  const { send, invalidator } = await cdn(t, 'surrogate', { header: 'Surrogate-Key', separator: ' ' });
  await states(send);
  const result = await invalidator.invalidateTagged({ tags: ['title:80000002'], paths: [] }, 'test');
  t.equal(result.purged, 4, 'the boxshot WebP, both .auto variants, the billboard JPEG');
  t.same(await states(send), ['HIT', 'HIT', 'HIT', 'MISS', 'MISS', 'MISS', 'HIT', 'MISS']);
  t.throws(() => withCacheTagHeader('', 'x"y'), { name: 'ConfigError' });
});

t.test('without vmod xkey, start-up fails naming the package to install', async (t) => {
  // Every vmod varnishd has but xkey, as on a machine with varnish and not varnish-modules.
  const real = ['/usr/lib/x86_64-linux-gnu/varnish/vmods', '/usr/lib/aarch64-linux-gnu/varnish/vmods'].find((d) =>
    existsSync(path.join(d, 'libvmod_std.so')),
  );
  if (real === undefined) {
    t.comment('no Debian vmods directory on this machine');
    return;
  }
  const partial = path.join(dir, 'vmods');
  await mkdir(partial, { recursive: true });
  for (const file of await readdir(real))
    if (!file.includes('xkey')) await symlink(path.join(real, file), path.join(partial, file));
  await t.rejects(
    startVarnish({ backend: { host: '127.0.0.1', port: 1 }, workDir: path.join(dir, 'no-xkey'), vmodPath: partial }),
    { name: 'ConfigError', message: new RegExp(`apt-get install ${VARNISH_MODULES_PACKAGE}`) },
  );
});
