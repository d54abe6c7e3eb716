import t from 'tap';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { Problem } from '../../src/plugins/problem.js';
import { Value } from '@sinclair/typebox/value';
import { StagedUploadSchema, type StagedUpload } from '@marquee/shared';
import { BUCKET, PUBLISHED_KEY, bearer, multipartBody, sampleJpeg, startHarness } from './harness.js';

const h = await startHarness();
t.teardown(() => h.close());
const { app, s3 } = h;

async function upload(filename: string, body: Buffer, headers: Record<string, string> = bearer) {
  const mp = multipartBody(filename, body);
  return app.inject({
    method: 'POST',
    url: '/studio/api/upload',
    headers: { ...headers, ...mp.headers },
    payload: mp.payload,
  });
}

async function objectBytes(key: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

const published = await objectBytes(PUBLISHED_KEY);

t.test('an image is staged under a fresh key, never over another object', async (t) => {
  const jpeg = await sampleJpeg(120, 180);
  const first = await upload('My Boxshot (v2).jpg', jpeg);
  t.equal(first.statusCode, 201);
  const a = first.json<StagedUpload>();
  t.match(a, { format: 'jpeg', width: 120, height: 180, bytes: jpeg.length, name: 'My Boxshot (v2).jpg' });
  t.match(a.key, /^staging\/[0-9a-f]{32}\.jpg$/);
  t.ok(Value.Check(StagedUploadSchema, a), 'the reply matches the shared StagedUpload schema');
  t.equal(a.contentType, 'image/jpeg');
  t.same(await objectBytes(a.key), jpeg);

  // The same file again is a new object: uploads never replace one another.
  const png = await sharp(jpeg).png().toBuffer();
  const second = await upload('My Boxshot (v2).jpg', png);
  t.equal(second.statusCode, 201);
  const b = second.json<StagedUpload>();
  t.not(b.key, a.key);
  t.match(b.key, /\.png$/, 'the extension follows the bytes, not the name');
  t.same(await objectBytes(a.key), jpeg, 'the first upload is untouched');
  t.same(await objectBytes(PUBLISHED_KEY), published, 'the published source is untouched');

  const sign = await app.inject({
    method: 'POST',
    url: '/studio/api/sign',
    headers: bearer,
    payload: { renders: [{ src: b.key, w: 60, h: 90 }] },
  });
  t.equal(sign.statusCode, 200, 'a staged upload can be previewed');
});

t.test('upload limits', async (t) => {
  // Regression guard: busboy strips directories unless told not to, which would hide a path.
  for (const name of [
    '../../titles/t1/boxshot/en.jpg',
    'titles/t1/boxshot/en.jpg',
    'C:\\art\\x.jpg',
    '.hidden.jpg',
    'a\u0001b.jpg',
    '',
  ]) {
    const res = await upload(name, await sampleJpeg(), bearer);
    t.equal(res.statusCode, 400, `file name ${JSON.stringify(name)}`);
  }

  const tooLarge = Buffer.alloc(20 * 1024 * 1024 + 1, 0);
  tooLarge.set([0xff, 0xd8, 0xff]);
  const big = await upload('big.jpg', tooLarge);
  t.equal(big.statusCode, 413, 'over 20 MiB');
  t.equal(big.json<Problem>().code, 'PAYLOAD_TOO_LARGE');

  const notImage = await upload('notes.jpg', Buffer.from('this is not an image, whatever its name says'));
  t.equal(notImage.statusCode, 415, 'not an image');
  t.equal(notImage.json<Problem>().code, 'UNSUPPORTED_IMAGE');

  const svg = await upload('x.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'));
  t.equal(svg.statusCode, 415, 'SVG is not accepted');

  const jpeg = await sampleJpeg(400, 600);
  const truncated = await upload('cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  t.equal(truncated.statusCode, 415, 'a truncated JPEG is refused now, not at its first render');

  const bomb = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#000' } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const huge = await upload('huge.png', bomb);
  t.equal(huge.statusCode, 413, 'over the pixel cap');
  t.equal(huge.json<Problem>().code, 'SOURCE_TOO_LARGE');

  const unauth = await upload('ok.jpg', jpeg, {});
  t.equal(unauth.statusCode, 401, 'no token, no upload');

  const notMultipart = await app.inject({
    method: 'POST',
    url: '/studio/api/upload',
    headers: bearer,
    payload: { file: 'x' },
  });
  t.equal(notMultipart.statusCode, 400);

  t.same(await objectBytes(PUBLISHED_KEY), published, 'the published source is untouched');
});
