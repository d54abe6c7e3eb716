import t from 'tap';
import sharp from 'sharp';
import { generate } from '../src/index.js';
import { SourceCache } from '../src/source/cache.js';
import { makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photoJpeg } from './helpers/images.js';
import { startS3 } from './helpers/s3.js';

const s3 = await startS3(t, ['sources']);

/** Counts GetObject replies by status as the SDK sees them. */
function countReplies(t: { teardown: (fn: () => void) => void }, client: typeof s3.client) {
  const seen: number[] = [];
  t.teardown(() => void client.middlewareStack.remove('countReplies'));
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const out = await next(args);
        seen.push((out.response as { statusCode?: number }).statusCode ?? 0);
        return out;
      } catch (err) {
        seen.push((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
        throw err;
      }
    },
    { step: 'deserialize', name: 'countReplies' },
  );
  return seen;
}

t.test('a warm environment revalidates a source it holds: 304, same output, never stale', async (t) => {
  await s3.put('sources', 'cached.jpg', await photoJpeg(800, 600));
  const deps = testDeps(s3, { sourceCacheBytes: 16 * 1024 * 1024 });
  const seen = countReplies(t, s3.client);
  const request = makeRequest(s3Source('sources', 'cached.jpg'), { width: 200, height: 150, format: 'png' });
  const first = await generate(request, deps);
  const second = await generate(request, deps);
  t.same(seen.slice(-2), [200, 304], 'second fetch is a conditional GET answered 304');
  t.ok(first.data.equals(second.data), 'same bytes from the held source');
  t.ok(deps.sourceCache!.bytes > 0);

  // The object changes under the same key: the next render must use the new bytes.
  await s3.put(
    'sources',
    'cached.jpg',
    await sharp({ create: { width: 800, height: 600, channels: 3, background: '#ff0000' } })
      .jpeg()
      .toBuffer(),
  );
  const third = await generate(request, deps);
  t.equal(seen.at(-1), 200, 'changed ETag: a full GET');
  const { dominant } = await sharp(third.data).stats();
  t.ok(dominant.r > 200 && dominant.g < 60, 'the new source was rendered');
});

t.test('turned off with 0 bytes: every fetch is a full GET', async (t) => {
  await s3.put('sources', 'uncached.jpg', await photoJpeg(400, 300));
  const deps = testDeps(s3, { sourceCacheBytes: 0 });
  t.equal(deps.sourceCache, undefined);
  const seen = countReplies(t, s3.client);
  const request = makeRequest(s3Source('sources', 'uncached.jpg'), { width: 100, height: 75 });
  await generate(request, deps);
  await generate(request, deps);
  t.same(seen.slice(-2), [200, 200]);
});

t.test('a badge is fetched once per freshness window and prepared once per size', async (t) => {
  await s3.put('sources', 'badged.jpg', await photoJpeg(800, 600));
  const green = await sharp({ create: { width: 200, height: 100, channels: 4, background: '#00ff00' } })
    .png()
    .toBuffer();
  await s3.put('sources', 'badges/top10.png', green);
  const deps = testDeps(s3, { sourceCacheBytes: 16 * 1024 * 1024 });
  const seen = countReplies(t, s3.client);
  const overlays = [{ source: s3Source('sources', 'badges/top10.png'), gravity: 'southeast' as const, scale: 0.25 }];
  const request = makeRequest(s3Source('sources', 'badged.jpg'), { width: 400, height: 300, format: 'png', overlays });
  const first = await generate(request, deps);
  t.equal(seen.length, 2, 'master and badge fetched');
  const second = await generate(request, deps);
  t.same(seen.slice(2), [304], 'then only the master is revalidated: the badge is fresh');
  t.ok(first.data.equals(second.data), 'same bytes with the prepared badge');
  const other = await generate({ ...request, spec: { ...request.spec, width: 200, height: 150 } }, deps);
  t.match(other, { width: 200, height: 150 }, 'another size prepares the badge for it');
});

t.test('with the source cache off, badges are fetched on every use too', async (t) => {
  await s3.put('sources', 'badged-off.jpg', await photoJpeg(400, 300));
  const deps = testDeps(s3, { sourceCacheBytes: 0 });
  const seen = countReplies(t, s3.client);
  const overlays = [{ source: s3Source('sources', 'badges/top10.png'), gravity: 'north' as const, scale: 0.25 }];
  const request = makeRequest(s3Source('sources', 'badged-off.jpg'), { width: 200, height: 150, overlays });
  await generate(request, deps);
  await generate(request, deps);
  t.same(seen, [200, 200, 200, 200]);
});

t.test('a render naming its catalog version reuses the bytes held for it without asking S3', async (t) => {
  await s3.put('sources', 'versioned.jpg', await photoJpeg(800, 600));
  const deps = testDeps(s3, { sourceCacheBytes: 16 * 1024 * 1024 });
  const seen = countReplies(t, s3.client);
  const spec = { width: 200, height: 150, format: 'png' } as const;
  const v3 = { ...makeRequest(s3Source('sources', 'versioned.jpg'), spec), version: '3' };
  await generate(v3, deps);
  const before = seen.length;
  const again = await generate({ ...v3, spec: { ...v3.spec, width: 100, height: 75 } }, deps);
  t.equal(seen.length, before, 'same version: no request to S3 at all');
  t.equal(again.width, 100);

  // A new catalog version means new bytes: the held copy is revalidated, and the new one rendered.
  await s3.put(
    'sources',
    'versioned.jpg',
    await sharp({ create: { width: 800, height: 600, channels: 3, background: '#ff0000' } })
      .jpeg()
      .toBuffer(),
  );
  const v4 = await generate({ ...v3, version: '4' }, deps);
  t.equal(seen.at(-1), 200, 'another version: a conditional GET that brings the new bytes');
  const { dominant } = await sharp(v4.data).stats();
  t.ok(dominant.r > 200 && dominant.g < 60, 'the new source was rendered');

  // No version named (a studio upload, a direct invoker): every use asks S3, as before.
  const unversioned = makeRequest(s3Source('sources', 'versioned.jpg'), spec);
  await generate(unversioned, deps);
  t.equal(seen.at(-1), 304, 'no version: revalidated');
});

t.test('held bytes: fresh for the window, pinned by version, else asked for again', async (t) => {
  let now = 0;
  const cache = new SourceCache(1024 * 1024, () => now);
  const bytes = Buffer.from('badge');
  t.equal(cache.reusable('k', false, { freshMs: 30_000 }), undefined, 'nothing held yet');
  cache.set('k', '"e1"', bytes);
  now = 29_999;
  t.equal(cache.reusable('k', false, { freshMs: 30_000 }), bytes, 'inside the window: no fetch');
  now = 30_000;
  t.equal(cache.reusable('k', false, { freshMs: 30_000 }), undefined, 'window over: revalidate');
  t.equal(cache.reusable('k', false, { freshMs: 0 }), undefined, 'a window of 0 holds nothing');
  t.equal(cache.reusable('k', false, {}), undefined, 'no window, no version: revalidate');
  t.equal(cache.reusable('k', true, {}), bytes, 'an S3 object version never changes');
  cache.set('k', '"e1"', bytes, '3');
  t.equal(cache.reusable('k', false, { version: '3' }), bytes, 'the catalog version the bytes were fetched for');
  t.equal(cache.reusable('k', false, { version: '4' }), undefined, 'another version: revalidate');
});
