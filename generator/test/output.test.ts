import t from 'tap';
import sharp from 'sharp';
import { MarqueeError, derivativeKey, specKey } from '@marquee/shared';
import { DERIVATIVE_CACHE_CONTROL, DEFAULT_MAX_INLINE_BYTES, LAMBDA_RESPONSE_LIMIT, generate } from '../src/index.js';
import { base64Length, fitsInline } from '../src/output.js';
import { makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photo, photoJpeg } from './helpers/images.js';
import { startS3 } from './helpers/s3.js';

const s3 = await startS3(t, ['sources', 'derivatives', 'elsewhere']);
await s3.put('sources', 'master.jpg', await photoJpeg(1200, 800));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return err instanceof MarqueeError ? err.code : String(err);
  }
}

t.test('inline limit arithmetic stays under the Lambda response limit', async (t) => {
  t.ok(DEFAULT_MAX_INLINE_BYTES < LAMBDA_RESPONSE_LIMIT);
  t.equal(base64Length(3), 4);
  t.equal(base64Length(4), 8);
  const envelope = {
    ok: true,
    contentType: 'image/png',
    width: 1,
    height: 1,
    bytes: 0,
    timings: { fetchMs: 1, renderMs: 1 },
  };
  const overhead = Buffer.byteLength(JSON.stringify({ ...envelope, body: '', coldStart: false }));
  t.ok(fitsInline(envelope, 3, overhead + 4));
  t.notOk(fitsInline(envelope, 4, overhead + 4));
});

t.test('too large to inline: written to the derivatives bucket under its spec key', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives', maxInlineBytes: 2000 });
  const request = makeRequest(s3Source('sources', 'master.jpg'), { width: 400, height: 300, format: 'png' });
  const out = await generate(request, deps);
  const key = `derivatives/${specKey(request.source, request.spec)}.png`;
  t.same(out.s3, { bucket: 'derivatives', key });
  t.equal(out.body, undefined, 'no inline body');
  const stored = await s3.get('derivatives', key);
  t.equal(stored.body.length, out.bytes);
  t.equal(stored.contentType, 'image/png');
  t.equal(stored.cacheControl, DERIVATIVE_CACHE_CONTROL);
  t.match(await sharp(stored.body).metadata(), { format: 'png', width: 400, height: 300 });
});

t.test('without output, the derivative key includes the artwork version, as the Preprocessor names it', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives', maxInlineBytes: 2000 });
  const request = makeRequest(
    s3Source('sources', 'master.jpg'),
    { width: 400, height: 300, format: 'png' },
    { version: 'v7' },
  );
  const out = await generate(request, deps);
  const key = derivativeKey(specKey(request.source, request.spec, 'v7'), 'png');
  t.same(out.s3, { bucket: 'derivatives', key });
  t.not(key, derivativeKey(specKey(request.source, request.spec), 'png'), 'another object than the unversioned one');
  t.equal((await s3.get('derivatives', key)).body.length, out.bytes);
});

t.test('the request names the output object, inside the derivatives prefix only', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives', maxInlineBytes: 2000 });
  const output = { s3: { bucket: 'derivatives', key: 'derivatives/custom/out.webp' } };
  const out = await generate(
    makeRequest(s3Source('sources', 'master.jpg'), { width: 600, height: 400 }, { output }),
    deps,
  );
  t.same(out.s3, output.s3);
  t.equal((await s3.get('derivatives', 'derivatives/custom/out.webp')).body.length, out.bytes);
  // Regression (review finding): any bucket or key the event named was written to.
  for (const elsewhere of [
    { bucket: 'elsewhere', key: 'derivatives/out.webp' },
    { bucket: 'derivatives', key: 'catalog.json' },
    { bucket: 'derivatives', key: 'derivatives/../catalog.json' },
  ]) {
    const request = makeRequest(
      s3Source('sources', 'master.jpg'),
      { width: 600, height: 400 },
      { output: { s3: elsewhere } },
    );
    t.equal(await codeOf(generate(request, deps)), 'INVALID_SPEC', `${elsewhere.bucket}/${elsewhere.key}`);
  }
});

t.test('too large to inline and nowhere to put it: OUTPUT_TOO_LARGE', async (t) => {
  const deps = testDeps(s3, { maxInlineBytes: 2000 });
  t.equal(
    await codeOf(generate(makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' }), deps)),
    'OUTPUT_TOO_LARGE',
  );
});

t.test('a real large output goes to S3 under the default 6 MB limit', async (t) => {
  // A noisy 2400x1600 PNG is about 8 MB: over Lambda's limit once base64-encoded.
  const big = await photo(2400, 1600, 7).png({ compressionLevel: 1 }).toBuffer();
  await s3.put('sources', 'big.png', big);
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const out = await generate(
    makeRequest(s3Source('sources', 'big.png'), { width: 2400, height: 1600, format: 'png', effort: 0 }),
    deps,
  );
  t.ok(base64Length(out.bytes) > LAMBDA_RESPONSE_LIMIT, `output is ${out.bytes} bytes`);
  t.ok(out.s3, 'stored in S3');
  t.equal(out.body, undefined);
});

t.test('S3 source errors', async (t) => {
  const small = testDeps(s3, { maxSourceBytes: 1000 });
  t.equal(
    await codeOf(generate(makeRequest(s3Source('sources', 'master.jpg')), small)),
    'SOURCE_TOO_LARGE',
    'over the byte cap',
  );
  const deps = testDeps(s3);
  t.equal(
    await codeOf(generate(makeRequest(s3Source('sources', 'nope.jpg')), deps)),
    'SOURCE_NOT_FOUND',
    'missing key',
  );
  t.equal(
    await codeOf(generate(makeRequest(s3Source('no-such-bucket', 'a.jpg')), deps)),
    'SOURCE_NOT_FOUND',
    'missing bucket',
  );
  const allow = testDeps(s3, { sourceBuckets: new Set(['elsewhere']) });
  t.equal(
    await codeOf(generate(makeRequest(s3Source('sources', 'master.jpg')), allow)),
    'SOURCE_NOT_ALLOWED',
    'bucket not allowlisted',
  );
  const overlay = { source: s3Source('sources', 'master.jpg'), gravity: 'north' as const, scale: 0.2 };
  t.equal(
    await codeOf(generate(makeRequest(s3Source('elsewhere', 'x.jpg'), { overlays: [overlay] }), allow)),
    'SOURCE_NOT_ALLOWED',
    'overlay bucket not allowlisted',
  );
  // Nothing listens on port 9 (discard) on loopback: a network failure.
  const down = testDeps(
    undefined,
    { s3Endpoint: 'http://127.0.0.1:9', fetchTimeoutMs: 3000 },
    {
      s3Client: async () => {
        const { S3Client } = await import('@aws-sdk/client-s3');
        return new S3Client({
          region: 'us-east-1',
          endpoint: 'http://127.0.0.1:9',
          forcePathStyle: true,
          maxAttempts: 1,
          credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        });
      },
    },
  );
  t.equal(
    await codeOf(generate(makeRequest(s3Source('sources', 'master.jpg')), down)),
    'SOURCE_FETCH_FAILED',
    'S3 unreachable',
  );
});
