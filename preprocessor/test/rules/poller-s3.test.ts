import t, { type Test } from 'tap';
import type { AddressInfo } from 'node:net';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RulesError } from '../../src/rules/errors.js';
import { openDocument } from '../../src/rules/source.js';
import { RulesPoller, type RulesLogger } from '../../src/rules/poller.js';
import { CATALOG_TEXT, RULES_TEXT } from './fixtures.js';

const BUCKET = 'marquee-config';

interface S3rverLike {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// s3rver ships no types; this is the part we use. (A specifier that is not a literal keeps
// TypeScript from looking for its declarations.)
const S3RVER: string = 's3rver';
const { default: S3rver } = (await import(S3RVER)) as {
  default: new (options: Record<string, unknown>) => S3rverLike;
};

const quiet: RulesLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** A real s3rver on a free port, and a client that records the If-None-Match it sends. */
async function localS3(t: Test) {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: t.testdir(),
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  t.teardown(() => server.close());
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  t.teardown(() => client.destroy());
  const sent: Array<string | undefined> = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; headers?: Record<string, string> };
      if (request.method === 'GET') sent.push(request.headers?.['if-none-match']);
      return next(args);
    },
    { step: 'finalizeRequest', name: 'recordIfNoneMatch' },
  );
  const put = async (key: string, body: string) => {
    const res = await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    return res.ETag as string;
  };
  return { client, put, sent };
}

t.test('rules and catalog from S3, polled with conditional GETs', async (t) => {
  const { client, put, sent } = await localS3(t);
  const rulesEtag = await put('config/rules.yaml', RULES_TEXT);
  const catalogEtag = await put('config/catalog.json', CATALOG_TEXT);

  const poller = await RulesPoller.create({
    rules: `s3://${BUCKET}/config/rules.yaml`,
    catalog: `s3://${BUCKET}/config/catalog.json`,
    s3Client: client,
    pollMs: 0,
    logger: quiet,
  });
  t.teardown(() => poller.close());
  t.equal(poller.current().rulesEtag, rulesEtag, "the S3 object's ETag");
  t.equal(poller.current().catalogEtag, catalogEtag);
  t.same(poller.current().rules.types.boxshot?.sizes, ['171x256', '342x513', '684x1026']);
  t.same(sent, [undefined, undefined], 'the first load is unconditional');

  sent.length = 0;
  t.same(await poller.reload(), { rules: false, catalog: false }, 'unchanged objects');
  t.same(sent.sort(), [catalogEtag, rulesEtag].sort(), 'each poll asks If-None-Match with the ETag in force');
  t.equal(poller.status().ok, true, 'a 304 is not an error');

  const changes: string[] = [];
  poller.onChange((next) => changes.push(next.rulesEtag));
  const newEtag = await put('config/rules.yaml', RULES_TEXT.replace('dpr: [1, 2, 3]', 'dpr: [1, 2]'));
  t.same(await poller.reload(), { rules: true, catalog: false });
  t.same(poller.current().rules.dpr, [1, 2]);
  t.same(changes, [newEtag]);

  // A broken upload: refused, the good rules stay, and polls do not re-download it.
  const brokenEtag = await put('config/rules.yaml', RULES_TEXT.replace('maxWidth: 1200', 'maxWidth: -1'));
  t.same(await poller.reload(), { rules: false, catalog: false });
  t.same(poller.current().rules.dpr, [1, 2], 'the last good rules still serve');
  t.equal(poller.current().rulesEtag, newEtag);
  t.match(poller.status(), {
    ok: false,
    rules: { error: /\/types\/logo\/maxWidth: expected an integer number of pixels/ },
  });
  sent.length = 0;
  await poller.reload();
  t.ok(sent.includes(brokenEtag), 'the next poll asks If-None-Match with the refused ETag');
  t.equal(poller.status().ok, false, 'still reporting the refused version');
});

t.test('S3 documents that cannot be read', async (t) => {
  const { client, put } = await localS3(t);
  await put('config/rules.yaml', RULES_TEXT);
  const missing = await RulesPoller.create({
    rules: `s3://${BUCKET}/config/rules.yaml`,
    catalog: `s3://${BUCKET}/config/missing.json`,
    s3Client: client,
    logger: quiet,
  }).catch((e: unknown) => e);
  t.type(missing, RulesError);
  t.match((missing as Error).message, /^s3:\/\/marquee-config\/config\/missing\.json: not found/);

  const noBucket = await openDocument('s3://no-such-bucket/rules.yaml', client)
    .fetch()
    .catch((e: unknown) => e);
  t.match(noBucket, { name: 'RulesError', message: /not found/ });
  t.throws(() => openDocument('s3://bucket-only', client), {
    name: 'RulesError',
    message: /expected s3:\/\/bucket\/key/,
  });

  const doc = openDocument(`s3://${BUCKET}/config/rules.yaml`, client);
  const first = await doc.fetch();
  t.not(first, 'unchanged');
  t.equal(await doc.fetch(first === 'unchanged' ? undefined : first.etag), 'unchanged', 'a 304 reads as unchanged');
});
