// The bench's ipx behind Varnish (the Zipf goal's denominator): a render once, then hits from the
// cache, the key being the URL; errors are not kept; its varnishd is a descendant of the server's
// process (so the arm's CPU counts it), and it ends with that process.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { sampleTree } from '../bench/cpu.js';
import { startChildServer } from '../bench/servers.js';

const VARNISHD = '/usr/sbin/varnishd';

const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined; // gone
  }
};

async function get(url: string) {
  const res = await request(url);
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, cdn: res.headers['x-cdn'], cacheControl: res.headers['cache-control'], body };
}

t.test(
  'ipx-cdn: ipx behind Varnish keeps each URL once rendered',
  { skip: !existsSync(VARNISHD) && 'no varnishd' },
  async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'marquee-ipx-cdn-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await mkdir(path.join(dir, 'sources', 'boxshot'), { recursive: true });
    await sharp({ create: { width: 100, height: 150, channels: 3, background: '#c03' } })
      .jpeg()
      .toFile(path.join(dir, 'sources', 'boxshot', 'a.jpg'));
    const server = await startChildServer(['ipx-cdn', path.join(dir, 'sources'), path.join(dir, 'varnish')]);
    t.teardown(() => server.close());
    t.not(server.url, server.origin, 'clients go to the cache, not to ipx');

    const p = '/s_40x60,f_webp,q_80/boxshot/a.jpg';
    const first = await get(`${server.url}${p}`);
    t.equal(first.status, 200);
    t.equal(first.cdn, 'MISS');
    t.match(first.cacheControl, /s-maxage=86400/, "ipx's max-age raised to a day behind the cache");
    t.equal((await sharp(first.body).metadata()).format, 'webp');
    const again = await get(`${server.url}${p}`);
    t.equal(again.cdn, 'HIT', 'the same URL again: from the cache');
    t.same(again.body, first.body);
    t.equal((await get(`${server.url}/s_41x61,f_webp,q_80/boxshot/a.jpg`)).cdn, 'MISS', 'another URL, another object');
    const direct = await get(`${server.origin}${p}`);
    t.equal(direct.status, 200);
    t.equal(direct.cdn, undefined, 'the origin answers past the cache (the warm-up goes there)');

    const missing = '/s_40x60,f_webp,q_80/boxshot/none.jpg';
    t.equal((await get(`${server.url}${missing}`)).status, 404);
    t.equal((await get(`${server.url}${missing}`)).cdn, 'MISS', 'an error is not kept');

    const tree = sampleTree(server.pid).pids.slice(1);
    const names = tree.map(comm);
    t.ok(names.includes('varnishd'), `varnishd runs under the server's process: ${names.join(', ')}`);
    await server.close();
    for (let i = 0; i < 50 && tree.some((pid) => comm(pid) !== undefined); i++)
      await new Promise((r) => setTimeout(r, 100));
    t.same(
      tree.filter((pid) => comm(pid) !== undefined),
      [],
      'varnishd ends with the server',
    );
  },
);
