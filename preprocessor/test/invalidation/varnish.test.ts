// The Varnish backend's requests as they go on the wire, recorded by a local HTTP server. What
// Varnish does with them (the VCL, the ACL, real bans) is tested against a real varnishd in
// infra/local/test/cdn-vcl.test.ts.
import t, { type Test } from 'tap';
import net, { type AddressInfo } from 'node:net';
import { VarnishInvalidator, tagBatches } from '../../src/invalidation/varnish.js';
import { normalisePaths, wildcardRegex } from '../../src/invalidation/paths.js';

interface Seen {
  method: string;
  url: string;
  ban: string | undefined;
  reason: string | undefined;
  xkey: string | undefined;
}

/**
 * A server that records each request's head and answers `answer(method)`. Raw TCP: Node's HTTP
 * parser knows PURGE but refuses BAN with a 400, and Varnish takes both.
 */
async function recorder(t: Test, answer: (method: string) => number = () => 200) {
  const seen: Seen[] = [];
  let n = 0;
  const server = net.createServer((socket) => {
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      head += chunk;
      if (!head.includes('\r\n\r\n')) return;
      const [line = '', ...fields] = head.split('\r\n\r\n')[0]!.split('\r\n');
      const [method = '', url = ''] = line.split(' ');
      const header = (name: string) =>
        fields
          .find((f) => f.toLowerCase().startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      seen.push({
        method,
        url,
        ban: header('x-ban-url'),
        reason: header('x-invalidation-reason'),
        xkey: header('xkey-purge'),
      });
      const status = answer(method);
      const body = status === 200 ? 'ok' : 'refused';
      socket.end(
        `HTTP/1.1 ${status} X\r\nx-varnish: ${++n}\r\nx-purged: 3\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

t.test('a wildcard is one BAN with the path as an anchored regex; an exact path one PURGE', async (t) => {
  const varnish = await recorder(t);
  const invalidator = new VarnishInvalidator({ url: varnish.url });
  const result = await invalidator.invalidate(
    [
      '/v1/artwork/boxshot/*',
      '/v1/artwork/logo/80000003/300x100.png',
      '/v1/artwork/logo/80000003/300x100.png?locale=fr',
      '/v1/artwork/boxshot/*',
    ],
    'rules v3',
  );
  t.equal(result.backend, 'varnish');
  t.equal(result.paths, 3, 'duplicates sent once');
  t.equal(result.requests, 3);
  t.same([...result.ids].sort(), ['1', '2', '3'], "Varnish's transaction ids");
  const sorted = [...varnish.seen].sort((a, b) => a.url.localeCompare(b.url));
  t.same(sorted, [
    { method: 'BAN', url: '/v1/artwork/boxshot/', ban: '^/v1/artwork/boxshot/', reason: 'rules v3' },
    { method: 'PURGE', url: '/v1/artwork/logo/80000003/300x100.png', ban: undefined, reason: 'rules v3' },
    { method: 'PURGE', url: '/v1/artwork/logo/80000003/300x100.png?locale=fr', ban: undefined, reason: 'rules v3' },
  ]);
});

t.test('the regex matches what the wildcard means, regex characters taken literally', async (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['/v1/artwork/boxshot/*', '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr', true],
    ['/v1/artwork/boxshot/*', '/v1/artwork/billboard/80000001/1280x720.jpg', false],
    ['/v1/artwork/a.b/*', '/v1/artwork/aXb/1/2.jpg', false],
    ['/v1/artwork/boxshot/80000001/342x513.jpg*', '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr&v=2', true],
    [
      '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr*',
      '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr&v=2',
      true,
    ],
    [
      '/v1/artwork/boxshot/80000001/342x513.jpg?locale=fr*',
      '/v1/artwork/boxshot/80000001/342x513.jpg?locale=de',
      false,
    ],
    ['/*', '/anything', true],
    ['/v1/(x)+[y]/*', '/v1/(x)+[y]/z', true],
    ['/v1/(x)+[y]/*', '/v1/xx[y]/z', false],
  ];
  for (const [path, url, matches] of cases) {
    t.equal(
      new RegExp(wildcardRegex(path)).test(url),
      matches,
      `${path} ${matches ? 'matches' : 'does not match'} ${url}`,
    );
  }
});

t.test("a refusal (Varnish's ACL, a bad ban) is an error naming the path", async (t) => {
  const varnish = await recorder(t, (method) => (method === 'BAN' ? 403 : 200));
  const invalidator = new VarnishInvalidator({ url: varnish.url });
  await t.rejects(
    invalidator.invalidate(['/v1/artwork/logo/*'], 'x'),
    /refused BAN \/v1\/artwork\/logo\/\*: 403 refused/,
  );
  await t.resolves(invalidator.invalidate(['/v1/artwork/logo/1/2.png'], 'x'));
});

t.test('nobody answering is an error, not a silent success', async (t) => {
  const varnish = await recorder(t);
  const closed = varnish.url;
  const invalidator = new VarnishInvalidator({ url: closed.replace(/:\d+$/, ':1') });
  await t.rejects(invalidator.invalidate(['/v1/artwork/logo/*'], 'x'), { code: 'ECONNREFUSED' });
});

t.test('paths are checked as CloudFront checks them', async (t) => {
  t.same(normalisePaths(['/b', '/a*', '/b']), ['/a*', '/b']);
  t.throws(() => normalisePaths(['relative/*']), RangeError);
  t.throws(() => normalisePaths(['/a*/b']), RangeError);
  t.throws(() => normalisePaths(['/a\nb']), RangeError);
  t.throws(() => new VarnishInvalidator({ url: 'https://127.0.0.1:8081' }), RangeError);
});

t.test('tags: one PURGE / per batch with the tags space-separated in xkey-purge, then the paths', async (t) => {
  const server = await recorder(t);
  const invalidator = new VarnishInvalidator({ url: server.url, concurrency: 1 });
  // 30 tags of 200 characters: 6,029 characters joined, past one header's 4,000, so two purges.
  const long = Array.from({ length: 30 }, (_, i) => `look:${String(i).padStart(2, '0')}${'x'.repeat(193)}`);
  const result = await invalidator.invalidateTagged(
    { tags: ['type:logo', 'type:logo', ...long], paths: ['/v1/artwork/boxshot/1/2.jpg'] },
    'rules v3',
  );
  t.match(result, { backend: 'varnish', tags: 31, paths: 1, requests: 3, purged: 6 });
  const purges = server.seen.filter((s) => s.xkey !== undefined);
  t.same(
    purges.map((s) => [s.method, s.url]),
    [
      ['PURGE', '/'],
      ['PURGE', '/'],
    ],
  );
  const sent = purges.flatMap((s) => s.xkey!.split(' '));
  t.same(sent, [...long, 'type:logo'], 'each tag once, sorted');
  t.ok(purges.every((s) => s.xkey!.length <= 4000));
  t.same(server.seen.at(-1), {
    method: 'PURGE',
    url: '/v1/artwork/boxshot/1/2.jpg',
    ban: undefined,
    reason: 'rules v3',
    xkey: undefined,
  });
  t.same(tagBatches(['a', 'b', 'c'], 3), [['a', 'b'], ['c']]);
});

t.test('a tag CloudFront would not store is refused before any request', async (t) => {
  const server = await recorder(t);
  const invalidator = new VarnishInvalidator({ url: server.url });
  for (const bad of ['look:a,b', 'type:*', 'a b', '', 'x'.repeat(257)])
    await t.rejects(invalidator.invalidateTagged({ tags: [bad], paths: [] }, 'x'), RangeError);
  t.equal(server.seen.length, 0);
});
