import t from 'tap';
import { createHandler } from '../src/handler.js';
import { generate, loadConfig } from '../src/index.js';
import { leanS3GetObject, s3Signer } from '../src/source/s3-lean.js';
import { fetchS3 } from '../src/source/s3.js';
import { SourceCache } from '../src/source/cache.js';
import { makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { magicFormat, photoJpeg } from './helpers/images.js';
import { S3RVER_CREDENTIALS, startS3 } from './helpers/s3.js';
import { invoke } from './helpers/stream.js';

const s3 = await startS3(t, ['sources']);
const env = {
  AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
};
const config = loadConfig({ s3Endpoint: s3.endpoint }, {});
const lean = leanS3GetObject(config, env)!;
const signal = () => AbortSignal.timeout(5_000);

t.test('chosen only with env credentials and no SDK-only setting', async (t) => {
  t.ok(lean);
  t.equal(leanS3GetObject(config, {}), undefined, 'no credentials: the SDK');
  t.equal(leanS3GetObject(config, { ...env, AWS_ENDPOINT_URL_S3: 'http://x' }), undefined);
  t.equal(leanS3GetObject(loadConfig({ region: 'cn-north-1' }, {}), env), undefined);
});

t.test('a signed GET renders, keys with odd characters included', async (t) => {
  const jpeg = await photoJpeg(400, 300);
  await s3.put('sources', 'dir/a b+c(1)!.jpg', jpeg);
  const got = await fetchS3({ bucket: 'sources', key: 'dir/a b+c(1)!.jpg' }, lean, 1 << 24, signal());
  t.ok(got.equals(jpeg), 'same bytes');
  const deps = testDeps(undefined, { s3Endpoint: s3.endpoint }, { s3GetObject: async () => lean });
  const out = await generate(makeRequest(s3Source('sources', 'dir/a b+c(1)!.jpg'), { width: 40, height: 30 }), deps);
  t.match(out, { width: 40, height: 30, contentType: 'image/webp' });
  t.equal(magicFormat(out.data), 'webp');
});

t.test('conditional GET: a 304 answers from the cache, a change is fetched', async (t) => {
  await s3.put('sources', 'c.jpg', await photoJpeg(200, 100));
  const cache = new SourceCache(1 << 24);
  const ref = { bucket: 'sources', key: 'c.jpg' };
  const replies: number[] = [];
  const counting: typeof lean = async (r, inm, s) => {
    try {
      const out = await lean(r, inm, s);
      replies.push(200);
      return out;
    } catch (err) {
      replies.push((err as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode);
      throw err;
    }
  };
  const first = await fetchS3(ref, counting, 1 << 24, signal(), cache);
  const second = await fetchS3(ref, counting, 1 << 24, signal(), cache);
  t.same(replies, [200, 304]);
  t.equal(second, first, 'the held bytes');
  const changed = await photoJpeg(100, 50);
  await s3.put('sources', 'c.jpg', changed);
  t.ok((await fetchS3(ref, counting, 1 << 24, signal(), cache)).equals(changed));
  t.same(replies, [200, 304, 200]);
});

t.test('errors map as the SDK path does', async (t) => {
  const handler = createHandler(testDeps(undefined, { s3Endpoint: s3.endpoint }, { s3GetObject: async () => lean }));
  t.match((await invoke(handler, makeRequest(s3Source('sources', 'missing.jpg')))).failure, {
    code: 'SOURCE_NOT_FOUND',
    status: 404,
  });
  t.match((await invoke(handler, makeRequest(s3Source('no-such-bucket', 'x.jpg')))).failure, {
    code: 'SOURCE_NOT_FOUND',
  });
  const wrongKey = leanS3GetObject(config, { ...env, AWS_ACCESS_KEY_ID: 'NOT-S3RVER' })!;
  const denied = createHandler(testDeps(undefined, { s3Endpoint: s3.endpoint }, { s3GetObject: async () => wrongKey }));
  await s3.put('sources', 'd.jpg', await photoJpeg(64, 64));
  t.match((await invoke(denied, makeRequest(s3Source('sources', 'd.jpg')))).failure, { code: 'SOURCE_NOT_ALLOWED' });
});

t.test('byte cap from Content-Length, and the time-out', async (t) => {
  await s3.put('sources', 'big.jpg', await photoJpeg(400, 300));
  await t.rejects(fetchS3({ bucket: 'sources', key: 'big.jpg' }, lean, 100, signal()), { code: 'SOURCE_TOO_LARGE' });
  const handler = createHandler(
    testDeps(undefined, { s3Endpoint: s3.endpoint, fetchTimeoutMs: 1 }, { s3GetObject: async () => lean }),
  );
  t.match((await invoke(handler, makeRequest(s3Source('sources', 'big.jpg')))).failure, { code: 'TIMEOUT' });
});

t.test("the signer reproduces AWS's published SigV4 example for S3 GET Object", async (t) => {
  // From the S3 API reference, "Signature Calculations for the Authorization Header: Transferring
  // Payload in a Single Chunk", example GET Object (examplebucket, test.txt, Range bytes=0-9).
  const signer = s3Signer(
    { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    'us-east-1',
  );
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: 'examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      query: {},
      headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9' },
    },
    { signingDate: new Date('2013-05-24T00:00:00Z') },
  );
  t.equal(signed.headers['x-amz-content-sha256'], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(
    signed.headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ' +
      'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' +
      'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
});
