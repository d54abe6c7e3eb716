// The CloudFront backend through the real @aws-sdk/client-cloudfront, pointed at a local HTTP
// endpoint that speaks the CreateInvalidation/GetInvalidation wire format (REST-XML) and holds
// CloudFront's rules: the in-progress budgets (3,000 files, 15 wildcards, a `#tag` item counted as
// a file), the tag items' format, and CallerReference idempotency. It records every request, so the tests assert the shapes that went on the wire.
import t, { type Test } from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { CloudFrontInvalidator, planBatches, CLOUDFRONT_LIMITS } from '../../src/invalidation/cloudfront.js';
import { supportsTags } from '../../src/invalidation/invalidator.js';

const DISTRIBUTION = 'E2EXAMPLE123';
const NS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';

interface Recorded {
  method: string;
  url: string;
  paths: string[];
  callerReference: string | undefined;
}

interface Made {
  id: string;
  reference: string;
  paths: string[];
  /** GetInvalidation answers InProgress this many more times, then Completed. */
  pendingPolls: number;
}

const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

function invalidationXml(made: Made, status: string): string {
  const items = made.paths.map((p) => `<Path>${p}</Path>`).join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?><Invalidation xmlns="${NS}"><Id>${made.id}</Id><Status>${status}</Status>` +
    `<CreateTime>2026-01-01T00:00:00.000Z</CreateTime><InvalidationBatch><Paths><Quantity>${made.paths.length}</Quantity>` +
    `<Items>${items}</Items></Paths><CallerReference>${made.reference}</CallerReference></InvalidationBatch></Invalidation>`
  );
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0"?><ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;
}

/** A stand-in for CloudFront's invalidation API, on 127.0.0.1. */
async function fakeCloudFront(
  t: Test,
  options: {
    pollsInProgress?: number;
    refuseFirst?: number;
    cacheTagHeader?: string | null;
    denyConfig?: boolean;
  } = {},
) {
  const recorded: Recorded[] = [];
  const made = new Map<string, Made>();
  let refusals = options.refuseFirst ?? 0;
  const inProgress = () => [...made.values()].filter((m) => m.pendingPolls > 0);
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = req.url ?? '';
      const paths = tags(body, 'Path');
      recorded.push({ method: req.method ?? '', url, paths, callerReference: tags(body, 'CallerReference')[0] });
      const reply = (status: number, xml: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'text/xml', ...headers });
        res.end(xml);
      };
      const create = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation$/.exec(url);
      const get = /^\/2020-05-31\/distribution\/([^/]+)\/invalidation\/([^/?]+)$/.exec(url);
      const config = /^\/2020-05-31\/distribution\/([^/]+)\/config$/.exec(url);
      if (req.method === 'GET' && config) {
        // The distribution's CacheTagConfig, as the CDK app sets it (null: a distribution without).
        if (options.denyConfig === true) return reply(403, errorXml('AccessDenied', 'not authorized'));
        const header = options.cacheTagHeader === undefined ? 'cache-tag' : options.cacheTagHeader;
        const tagConfig = header === null ? '' : `<CacheTagConfig><HeaderName>${header}</HeaderName></CacheTagConfig>`;
        return reply(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><DistributionConfig xmlns="${NS}"><CallerReference>cdk</CallerReference>` +
            `<Comment>Marquee artwork</Comment><Enabled>true</Enabled>${tagConfig}</DistributionConfig>`,
          { etag: 'E1' },
        );
      }
      if (req.method === 'POST' && create) {
        const reference = tags(body, 'CallerReference')[0] ?? '';
        const quantity = Number(tags(body, 'Quantity')[0]);
        if (quantity !== paths.length) return reply(400, errorXml('InconsistentQuantities', 'Quantity'));
        // Tag items: `#` then visible ASCII without commas, at most 256 characters, no wildcard.
        const badTag = paths.find(
          (p) => p.startsWith('#') && (!/^#[\x21-\x7e]{1,256}$/.test(p) || p.includes(',') || p.includes('*')),
        );
        if (badTag !== undefined) return reply(400, errorXml('InvalidArgument', `bad tag item ${badTag}`));
        const earlier = made.get(reference);
        if (earlier) {
          // CloudFront's idempotency: the same reference and paths answer the invalidation made before.
          if (earlier.paths.join('\n') !== paths.join('\n'))
            return reply(409, errorXml('InvalidationBatchAlreadyExists', 'other paths under this reference'));
          return reply(201, invalidationXml(earlier, earlier.pendingPolls > 0 ? 'InProgress' : 'Completed'));
        }
        const files = inProgress().flatMap((m) => m.paths.filter((p) => !p.endsWith('*'))).length;
        const wild = inProgress().flatMap((m) => m.paths.filter((p) => p.endsWith('*'))).length;
        const newWild = paths.filter((p) => p.endsWith('*')).length;
        if (
          refusals-- > 0 ||
          files + paths.length - newWild > CLOUDFRONT_LIMITS.filesInProgress ||
          wild + newWild > CLOUDFRONT_LIMITS.wildcardsInProgress
        )
          return reply(400, errorXml('TooManyInvalidationsInProgress', 'too many invalidations in progress'));
        const entry = { id: `I${made.size + 1}`, reference, paths, pendingPolls: options.pollsInProgress ?? 1 };
        made.set(reference, entry);
        return reply(201, invalidationXml(entry, 'InProgress'), {
          location: `https://cloudfront.amazonaws.com${url}/${entry.id}`,
        });
      }
      if (req.method === 'GET' && get) {
        const entry = [...made.values()].find((m) => m.id === get[2]);
        if (!entry) return reply(404, errorXml('NoSuchInvalidation', 'no such invalidation'));
        const status = entry.pendingPolls > 0 ? 'InProgress' : 'Completed';
        entry.pendingPolls = Math.max(0, entry.pendingPolls - 1);
        return reply(200, invalidationXml(entry, status));
      }
      reply(404, errorXml('NotFound', url));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const client = new CloudFrontClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  t.teardown(() => client.destroy());
  const creates = () => recorded.filter((r) => r.method === 'POST');
  return { client, recorded, creates, made };
}

const files = (n: number, prefix = '/v1/artwork/boxshot') =>
  Array.from({ length: n }, (_, i) => `${prefix}/${String(80000000 + i)}/342x513.jpg`);
const wildcards = (n: number) => Array.from({ length: n }, (_, i) => `/v1/artwork/type${String(i).padStart(2, '0')}/*`);

t.test('a small invalidation is one request, paths sorted and unique, XML as CloudFront reads it', async (t) => {
  const cf = await fakeCloudFront(t);
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  const paths = ['/v1/artwork/logo/*', '/v1/artwork/boxshot/80000001/342x513.jpg', '/v1/artwork/logo/*'];
  const result = await invalidator.invalidate(paths, 'rules v7');
  t.same(result, { backend: 'cloudfront', paths: 2, requests: 1, ids: ['I1'] });
  t.equal(cf.creates().length, 1);
  const [sent] = cf.creates();
  t.equal(sent!.url, `/2020-05-31/distribution/${DISTRIBUTION}/invalidation`);
  t.same(sent!.paths, ['/v1/artwork/boxshot/80000001/342x513.jpg', '/v1/artwork/logo/*']);
  t.match(sent!.callerReference, /^marquee-[0-9a-f]{40}$/);
  t.equal(cf.recorded.filter((r) => r.method === 'GET').length, 0, 'one batch: nothing to wait for');
});

t.test(
  'past the limits: 3,000 files and 15 wildcards a request, the next sent once the one before completed',
  async (t) => {
    const cf = await fakeCloudFront(t, { pollsInProgress: 2 });
    const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
    const result = await invalidator.invalidate([...files(6500), ...wildcards(20)], 'artwork catalog refresh');
    t.equal(result.paths, 6520);
    t.equal(result.requests, 3);
    t.same(result.ids, ['I1', 'I2', 'I3']);
    const shapes = cf.creates().map((c) => ({
      files: c.paths.filter((p) => !p.endsWith('*')).length,
      wildcards: c.paths.filter((p) => p.endsWith('*')).length,
    }));
    t.same(shapes, [
      { files: 3000, wildcards: 15 },
      { files: 3000, wildcards: 5 },
      { files: 500, wildcards: 0 },
    ]);
    // Each later batch came after GetInvalidation said the one before was Completed.
    const order = cf.recorded.map((r) => `${r.method} ${r.url.split('/').pop()}`);
    t.same(order, [
      'POST invalidation',
      'GET I1',
      'GET I1',
      'GET I1',
      'POST invalidation',
      'GET I2',
      'GET I2',
      'GET I2',
      'POST invalidation',
    ]);
    const all = cf.creates().flatMap((c) => c.paths);
    t.equal(new Set(all).size, 6520, 'every path sent exactly once');
  },
);

t.test('the fake holds CloudFront to its budget: two full batches at once are refused', async (t) => {
  // The instrument can fail: without the wait above, the second request is refused.
  const cf = await fakeCloudFront(t, { pollsInProgress: 5 });
  const send = (paths: string[], ref: string) =>
    cf.client.send(
      new CreateInvalidationCommand({
        DistributionId: DISTRIBUTION,
        InvalidationBatch: { CallerReference: ref, Paths: { Quantity: paths.length, Items: paths } },
      }),
    );
  await send(wildcards(15), 'a');
  await t.rejects(send(['/v1/artwork/other/*'], 'b'), { name: 'TooManyInvalidationsInProgress' });
  await send(files(3000), 'c');
  await t.rejects(send(files(1, '/v1/artwork/logo'), 'd'), { name: 'TooManyInvalidationsInProgress' });
});

t.test('a retried publish sends the same caller references and creates nothing new', async (t) => {
  const cf = await fakeCloudFront(t, { pollsInProgress: 0 });
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  const paths = [...files(3001), '/v1/artwork/logo/*'];
  const first = await invalidator.invalidate(paths, 'rules v8');
  // The retry lists the paths in another order, as a recomputed diff may.
  const again = await invalidator.invalidate([...paths].reverse(), 'rules v8');
  t.same(again.ids, first.ids, 'CloudFront answered with the invalidations it already had');
  t.equal(cf.made.size, 2, 'two invalidations exist, not four');
  const refs = cf.creates().map((c) => c.callerReference);
  t.same(refs.slice(2), refs.slice(0, 2), 'the same references, batch by batch');
  t.not(refs[0], refs[1], 'each batch its own reference');
  const other = await invalidator.invalidate(paths, 'rules v9');
  t.notSame(other.ids, first.ids, 'another publish (another reason) is another invalidation');
  t.equal(cf.made.size, 4);
});

t.test("someone else's invalidations in progress: waited out and retried", async (t) => {
  const cf = await fakeCloudFront(t, { refuseFirst: 2 });
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  const result = await invalidator.invalidate(['/v1/artwork/boxshot/*'], 'rules v10');
  t.same(result.ids, ['I1']);
  t.equal(cf.creates().length, 3, 'two refusals, then created');
  t.equal(new Set(cf.creates().map((c) => c.callerReference)).size, 1, 'the retry is the same request');

  const stubborn = await fakeCloudFront(t, { refuseFirst: 1000 });
  const giveUp = new CloudFrontInvalidator({
    client: stubborn.client,
    distributionId: DISTRIBUTION,
    pollMs: 1,
    maxWaitMs: 50,
  });
  await t.rejects(giveUp.invalidate(['/v1/artwork/boxshot/*'], 'rules v11'), {
    name: 'TooManyInvalidationsInProgress',
  });
});

t.test('paths CloudFront would refuse are refused before any request', async (t) => {
  const cf = await fakeCloudFront(t);
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  for (const bad of [
    'v1/artwork/boxshot/*',
    '/v1/artwork/*/80000001/342x513.jpg',
    '/v1/a b.jpg',
    `/${'a'.repeat(4000)}`,
  ]) {
    await t.rejects(invalidator.invalidate([bad], 'x'), RangeError, bad.slice(0, 40));
  }
  t.equal(cf.recorded.length, 0);
});

t.test('planBatches: exactly at the limits is one batch; one more is two', async (t) => {
  t.equal(planBatches([...files(3000), ...wildcards(15)]).length, 1);
  t.equal(planBatches([...files(3001)]).length, 2);
  t.equal(planBatches([...wildcards(16)]).length, 2);
  t.same(planBatches([]), []);
});

const tagItems = (n: number) => Array.from({ length: n }, (_, i) => `tt:boxshot/${String(80000000 + i)}`);

t.test('tags: #tag items beside the paths in one batch, counted with the files', async (t) => {
  const cf = await fakeCloudFront(t);
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  t.ok(supportsTags(invalidator));
  const result = await invalidator.invalidateTagged(
    {
      tags: ['look:0123456789abcdef', 'type:logo', 'type:logo'],
      paths: ['/v1/artwork/boxshot/80000001/342x513.jpg', '/v1/artwork/boxshot/80000001/342x513.jpg?v=3'],
    },
    'rules v12',
  );
  t.same(result, { backend: 'cloudfront', paths: 2, tags: 2, requests: 1, ids: ['I1'] });
  t.same(cf.creates()[0]!.paths, [
    '#look:0123456789abcdef',
    '#type:logo',
    '/v1/artwork/boxshot/80000001/342x513.jpg',
    '/v1/artwork/boxshot/80000001/342x513.jpg?v=3',
  ]);
});

t.test('tags past the budget: 3,000 items a request with the files, the next once the first completed', async (t) => {
  const cf = await fakeCloudFront(t, { pollsInProgress: 1 });
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  const result = await invalidator.invalidateTagged({ tags: tagItems(2500), paths: files(1000) }, 'rules v13');
  t.match(result, { tags: 2500, paths: 1000, requests: 2 });
  t.same(
    cf.creates().map((c) => c.paths.length),
    [3000, 500],
  );
  t.equal(new Set(cf.creates().flatMap((c) => c.paths)).size, 3500, 'every item once');
  t.ok(cf.creates()[0]!.paths.every((p) => p.startsWith('#')) === false, 'tags and files share a batch');
  t.same(
    cf.recorded.map((r) => (r.url.endsWith('/config') ? 'config' : r.method)),
    ['config', 'POST', 'GET', 'GET', 'POST'],
    'the second batch after GetInvalidation said Completed',
  );
});

t.test('tags CloudFront would refuse are refused before any request; the double refuses them too', async (t) => {
  const cf = await fakeCloudFront(t);
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  for (const bad of ['look:a,b', 'type:box*', 'a b', '', 'é', 'x'.repeat(257)])
    await t.rejects(invalidator.invalidateTagged({ tags: [bad], paths: [] }, 'x'), RangeError);
  t.equal(cf.recorded.length, 0);
  // The instrument can fail: sent raw, the same items are CloudFront's 400.
  for (const bad of ['#type:box*', `#${'x'.repeat(257)}`])
    await t.rejects(
      cf.client.send(
        new CreateInvalidationCommand({
          DistributionId: DISTRIBUTION,
          InvalidationBatch: { CallerReference: bad.slice(0, 20), Paths: { Quantity: 1, Items: [bad] } },
        }),
      ),
      { name: 'InvalidArgument' },
    );
});

t.test('a distribution without CacheTagConfig: tag items are refused before any invalidation', async (t) => {
  // CloudFront would accept them and purge nothing: a publish would report success and serve stale looks.
  const cf = await fakeCloudFront(t, { cacheTagHeader: null });
  const invalidator = new CloudFrontInvalidator({ client: cf.client, distributionId: DISTRIBUTION, pollMs: 1 });
  await t.rejects(invalidator.invalidateTagged({ tags: ['type:logo'], paths: [] }, 'x'), /has no CacheTagConfig/);
  t.equal(cf.creates().length, 0);
  t.same(
    cf.recorded.map((r) => `${r.method} ${r.url}`),
    [`GET /2020-05-31/distribution/${DISTRIBUTION}/config`],
  );
  // With the config: checked once per invalidator, not per call.
  const ok = await fakeCloudFront(t);
  const tagged = new CloudFrontInvalidator({ client: ok.client, distributionId: DISTRIBUTION, pollMs: 1 });
  await tagged.invalidateTagged({ tags: ['type:logo'], paths: [] }, 'a');
  await tagged.invalidateTagged({ tags: ['type:box'], paths: [] }, 'b');
  t.equal(ok.recorded.filter((r) => r.url.endsWith('/config')).length, 1);
  t.equal(ok.creates().length, 2);
});

t.test('a role that may not read the distribution config: the tags are sent, and the log says unchecked', async (t) => {
  const cf = await fakeCloudFront(t, { denyConfig: true });
  const logged: string[] = [];
  const invalidator = new CloudFrontInvalidator({
    client: cf.client,
    distributionId: DISTRIBUTION,
    pollMs: 1,
    logger: { info: (_obj, msg) => logged.push(msg) },
  });
  const result = await invalidator.invalidateTagged({ tags: ['type:logo'], paths: [] }, 'x');
  t.equal(result.tags, 1);
  t.same(cf.creates()[0]?.paths, ['#type:logo']);
  t.match(logged, [/CacheTagConfig is unchecked/]);
});
