import t from 'tap';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, NoSuchKey } from '@aws-sdk/client-s3';
import { startLocalS3, localS3Client, LOCAL_S3_CREDENTIALS } from '../s3/index.js';

t.test('the S3 SDK works against the local S3', async (t) => {
  const s3 = await startLocalS3({ directory: t.testdir(), buckets: ['marquee-sources', 'marquee-derivatives'] });
  t.teardown(() => s3.close());
  t.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  const client = localS3Client(s3.endpoint);
  t.teardown(() => client.destroy());

  const body = Buffer.from('hello');
  await client.send(
    new PutObjectCommand({ Bucket: 'marquee-sources', Key: 'a/b.txt', Body: body, ContentType: 'text/plain' }),
  );
  const got = await client.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: 'a/b.txt' }));
  t.equal(got.ContentType, 'text/plain');
  t.equal(await got.Body?.transformToString(), 'hello');
  const list = await client.send(new ListObjectsV2Command({ Bucket: 'marquee-derivatives' }));
  t.equal(list.KeyCount ?? 0, 0, 'every configured bucket exists');
  const missing = await client
    .send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: 'nope' }))
    .catch((e: unknown) => e);
  t.type(missing, NoSuchKey);
});

t.test('a default-configured S3 client (as the Generator builds one) can read objects', async (t) => {
  // Regression guard: newer SDKs validate response checksums by default; s3rver sends none.
  const s3 = await startLocalS3({ directory: t.testdir(), buckets: ['marquee-sources'] });
  t.teardown(() => s3.close());
  const writer = localS3Client(s3.endpoint);
  t.teardown(() => writer.destroy());
  await writer.send(new PutObjectCommand({ Bucket: 'marquee-sources', Key: 'k', Body: Buffer.from('x') }));
  const reader = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: LOCAL_S3_CREDENTIALS,
  });
  t.teardown(() => reader.destroy());
  const got = await reader.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: 'k' }));
  t.equal(await got.Body?.transformToString(), 'x');
  await reader.send(new PutObjectCommand({ Bucket: 'marquee-sources', Key: 'k2', Body: Buffer.from('yy') }));
  const got2 = await reader.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: 'k2' }));
  t.equal(await got2.Body?.transformToString(), 'yy', 'default checksums on PutObject are accepted too');
});
