import t from 'tap';
import { OverlayCache, sourceIdentity } from '../src/steps/overlay-cache.js';

const pixels = (n: number) => ({ input: Buffer.alloc(n), raw: { width: 1, height: n / 4, channels: 4 as const } });
const id = sourceIdentity({ s3: { bucket: 'sources', key: 'badges/top10.png' } });

t.test('prepared pixels: per box, only for the same bytes, bounded', async (t) => {
  const cache = new OverlayCache(64 * 1024);
  const bytes = Buffer.from('badge v1');
  const p = pixels(400);
  cache.keep(id, bytes, '100x200', p);
  t.equal(cache.pixels(id, bytes, '100x200'), p, 'same bytes, same box');
  t.equal(cache.pixels(id, Buffer.from('badge v1'), '100x200'), p, 'equal bytes from another fetch');
  t.equal(cache.pixels(id, bytes, '50x200'), undefined, 'another box');
  t.equal(cache.pixels(id, Buffer.from('badge v2'), '100x200'), undefined, 'the badge changed');
  // Far more than the budget: the cache stays within it.
  for (let i = 0; i < 100; i++) cache.keep(id, bytes, `${i}x1`, pixels(4000));
  t.ok(cache.bytes <= 64 * 1024, `${cache.bytes} bytes held`);
});
