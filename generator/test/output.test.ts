import t from 'tap';
import sharp from 'sharp';
import {
  DERIVATIVES_PREFIX,
  MAX_PRELUDE_BYTES,
  MAX_STREAMED_RESPONSE_BYTES,
  MarqueeError,
  derivativeKey,
  specKey,
} from '@marquee/shared';
import { DERIVATIVE_CACHE_CONTROL, DEFAULT_MAX_OUTPUT_BYTES, generate, loadConfig } from '../src/index.js';
import { derivativeTarget, putDerivative } from '../src/output.js';
import { makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photoJpeg } from './helpers/images.js';
import { startS3, watchedPuts } from './helpers/s3.js';

const s3 = await startS3(t, ['sources', 'derivatives', 'elsewhere']);
await s3.put('sources', 'master.jpg', await photoJpeg(1200, 800));

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (err) {
    return err instanceof MarqueeError ? err.code : String(err);
  }
}

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.get(bucket, key);
    return true;
  } catch {
    return false;
  }
}

t.test('the output limit is the streamed response limit less room for the prelude', async (t) => {
  t.equal(DEFAULT_MAX_OUTPUT_BYTES, MAX_STREAMED_RESPONSE_BYTES - MAX_PRELUDE_BYTES);
  t.ok(DEFAULT_MAX_OUTPUT_BYTES > 100 * 1024 * 1024, 'far past the old 6 MB buffered limit');
  t.equal(loadConfig({}, {}).maxOutputBytes, DEFAULT_MAX_OUTPUT_BYTES, 'the default');
  t.equal(loadConfig({ maxOutputBytes: 2000 }, {}).maxOutputBytes, 2000, 'an option lowers it');
  for (const bad of [0, -1, Number.NaN])
    t.throws(
      () => loadConfig({ maxOutputBytes: bad }, {}),
      { name: 'ConfigError', message: /maxOutputBytes/ },
      String(bad),
    );
});

t.test('generate renders and returns the bytes; it writes nothing itself', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const request = makeRequest(s3Source('sources', 'master.jpg'), { width: 400, height: 300, format: 'png' });
  const out = await generate(request, deps);
  t.match(out, { contentType: 'image/png', width: 400, height: 300 });
  t.match(await sharp(out.data).metadata(), { format: 'png', width: 400, height: 300 });
  t.notOk(await exists('derivatives', derivativeKey(specKey(request.source, request.spec), 'png')), 'nothing stored');
});

t.test('past maxOutputBytes: OUTPUT_TOO_LARGE, whatever bucket is configured', async (t) => {
  const request = makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' });
  t.equal(await codeOf(generate(request, testDeps(s3, { maxOutputBytes: 2000 }))), 'OUTPUT_TOO_LARGE');
  t.equal(
    await codeOf(generate(request, testDeps(s3, { maxOutputBytes: 2000, derivativesBucket: 'derivatives' }))),
    'OUTPUT_TOO_LARGE',
    'a derivatives bucket is no way around it',
  );
  const exact = await generate(request, testDeps(s3));
  t.equal(
    await codeOf(generate(request, testDeps(s3, { maxOutputBytes: exact.data.length }))),
    'OK',
    'an output of exactly the limit is fine',
  );
});

t.test('where a render is kept: nowhere unless asked', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const request = makeRequest(s3Source('sources', 'master.jpg'), { width: 400, height: 300, format: 'png' });
  t.equal(derivativeTarget(request, deps), undefined, 'neither output nor store: only streamed back');
  const output = { s3: { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}custom/out.webp` } };
  t.same(derivativeTarget({ ...request, output }, deps), output.s3, 'output names the object');
  t.same(derivativeTarget({ ...request, output, store: true }, deps), output.s3, 'store: true with output: there');
});

t.test('store: true without output is named as the Preprocessor names it, artwork version included', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const request = makeRequest(s3Source('sources', 'master.jpg'), { width: 400, height: 300, format: 'png' });
  const versioned = derivativeTarget({ ...request, version: 'v7', store: true }, deps);
  t.same(versioned, { bucket: 'derivatives', key: derivativeKey(specKey(request.source, request.spec, 'v7'), 'png') });
  t.not(
    versioned?.key,
    derivativeTarget({ ...request, store: true }, deps)?.key,
    'another object than the unversioned one',
  );
  t.ok(versioned?.key.startsWith(DERIVATIVES_PREFIX));
  t.equal(
    await codeOf(() => derivativeTarget({ ...request, store: true }, testDeps(s3))),
    'INVALID_SPEC',
    'no derivatives bucket: refused',
  );
});

t.test('output only inside the derivatives prefix of the configured bucket', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const request = makeRequest(s3Source('sources', 'master.jpg'));
  // Regression (review finding): any bucket or key the event named was written to.
  for (const elsewhere of [
    { bucket: 'elsewhere', key: `${DERIVATIVES_PREFIX}out.webp` },
    { bucket: 'derivatives', key: 'catalog.json' },
    { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}../catalog.json` },
    { bucket: 'derivatives', key: 'titles/1/boxshot/en.webp' },
  ]) {
    t.equal(
      await codeOf(() => derivativeTarget({ ...request, output: { s3: elsewhere } }, deps)),
      'INVALID_SPEC',
      `${elsewhere.bucket}/${elsewhere.key}`,
    );
  }
  const output = { s3: { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}x.webp` } };
  t.equal(await codeOf(() => derivativeTarget({ ...request, output }, testDeps(s3))), 'INVALID_SPEC', 'no bucket');
});

t.test('putDerivative writes an immutable derivative; a failure is GENERATOR_FAILED with its cause', async (t) => {
  const deps = testDeps(s3, { derivativesBucket: 'derivatives' });
  const data = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#369' } })
    .webp()
    .toBuffer();
  const target = { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}put/one.webp` };
  await putDerivative(target, data, 'image/webp', deps);
  const stored = await s3.get(target.bucket, target.key);
  t.ok(stored.body.equals(data), 'the exact bytes');
  t.equal(stored.contentType, 'image/webp');
  t.equal(stored.cacheControl, DERIVATIVE_CACHE_CONTROL);

  const cause = new Error('s3 down');
  const failing = testDeps(s3, {}, { s3Client: async () => watchedPuts(s3.client, () => Promise.reject(cause)) });
  await t.rejects(putDerivative(target, data, 'image/webp', failing), {
    code: 'GENERATOR_FAILED',
    message: /s3:\/\/derivatives\/derivatives\/put\/one\.webp/,
    cause,
  });
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
