import t, { type Test } from 'tap';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { InvalidationResult, Invalidator } from '../../src/invalidation/invalidator.js';
import { listHistory, openTarget, PublishConflictError, publishRules, rollbackRules } from '../../src/publish/index.js';
import type { PrewarmRequest } from '../../src/publish/index.js';
import { RulesError } from '../../src/rules/errors.js';
import { RulesPoller, type RulesLogger } from '../../src/rules/poller.js';
import { RULES_TEXT, SOURCES_BUCKET, defaultCatalog } from '../rules/fixtures.js';

const BUCKET = 'marquee-config';
const KEY = 'config/rules.yaml';
const TARGET = `s3://${BUCKET}/${KEY}`;
/** A draft that changes the billboard badge: billboards of top-10 titles at 640 px and wider. */
const DRAFT = RULES_TEXT.replace('scale: 0.08', 'scale: 0.1');
const quiet: RulesLogger = { info: () => {}, warn: () => {}, error: () => {} };

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

/** A real s3rver on a free port (its objects under `dir`), and a client for it. */
async function localS3(t: Test, dir: string) {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: path.join(dir, 's3'),
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
  const text = async (key: string) => {
    const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (await res.Body?.transformToString('utf8')) ?? '';
  };
  const keys = async () =>
    ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key).sort();
  return { client, text, keys };
}

/** An Invalidator that records what it is asked, and what happened before (the rollout wait). */
function recordingInvalidator(log: string[]) {
  const calls: Array<{ paths: string[]; reason: string }> = [];
  const invalidator: Invalidator = {
    name: 'recording',
    async invalidate(paths, reason): Promise<InvalidationResult> {
      calls.push({ paths: [...paths], reason });
      log.push('invalidate');
      return { backend: 'recording', paths: paths.length, requests: 1, ids: [`inv-${calls.length}`] };
    },
  };
  return { invalidator, calls };
}

t.test('publish to S3: history, rules, invalidation of the diff, rollback', async (t) => {
  const dir = t.testdir();
  const s3 = await localS3(t, dir);
  const original = await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: RULES_TEXT }));
  const log: string[] = [];
  const { invalidator, calls } = recordingInvalidator(log);
  const prewarmed: PrewarmRequest[] = [];
  const options = {
    target: TARGET,
    s3Client: s3.client,
    author: 'ada',
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
    invalidator,
    prewarm: async (request: PrewarmRequest) => {
      prewarmed.push(request);
      // The looks are stored before the flip (issue 21): the target still holds the old rules.
      log.push((await s3.text(KEY)) === RULES_TEXT ? 'prewarm, old rules in force' : 'prewarm, new rules in force');
      return { queued: request.paths.length };
    },
    awaitRollout: async (etag: string) => {
      log.push(`rollout ${etag}`);
    },
    now: () => new Date('2026-11-26T05:15:00.123Z'),
  };

  const published = await publishRules({ ...options, draftText: DRAFT, draftOrigin: 'draft.yaml' });
  t.equal(published.published, true);
  t.equal(published.previousEtag, original.ETag);
  t.equal(await s3.text(KEY), DRAFT, 'the draft, byte for byte, where the Preprocessors read');
  t.equal(published.id, `20261126T051500.123Z-${published.id.slice(-8)}`);
  t.equal(
    await s3.text(`config/rules-history/${published.id}.yaml`),
    RULES_TEXT,
    'the replaced rules kept in the history beside the target',
  );
  t.ok(published.diff.changed > 0);
  t.ok(
    published.diff.changedPaths.every((p) => p.startsWith('/v1/artwork/billboard/80000001/')),
    'only the top-10 title’s billboards',
  );
  t.same(calls, [{ paths: published.diff.invalidations, reason: `rules publish ${published.id} by ada` }]);
  t.same(
    log,
    ['prewarm, old rules in force', `rollout ${published.etag}`, 'invalidate'],
    'prewarmed before the rules were written; invalidated once the Preprocessors serve them',
  );
  t.same(prewarmed[0]?.paths, published.diff.changedPaths);
  t.match(published.prewarm, { done: true, result: { queued: published.diff.changedPaths.length } });

  // What the Preprocessors read: the rules poller sees the published version under the same tag.
  const catalogFile = path.join(dir, 'catalog.json');
  await writeFile(catalogFile, JSON.stringify(defaultCatalog));
  const poller = await RulesPoller.create({
    rules: TARGET,
    catalog: catalogFile,
    s3Client: s3.client,
    pollMs: 0,
    logger: quiet,
  });
  t.teardown(() => poller.close());
  t.equal(poller.current().rulesEtag, published.etag, 'the tag /readyz reports, what a rollout waits for');
  t.equal(poller.current().rules.types.billboard?.overlays?.[0]?.scale, 0.1);

  const [entry] = await listHistory({ target: TARGET, s3Client: s3.client });
  t.match(entry, {
    id: published.id,
    author: 'ada',
    target: TARGET,
    previousEtag: original.ETag,
    publishedEtag: published.etag,
    impact: {
      changed: published.diff.changed,
      unchanged: published.diff.unchanged,
      invalidations: published.diff.invalidations.length,
    },
    invalidation: { backend: 'recording', ids: ['inv-1'] },
  });

  // The same text again: nothing to publish, nothing to invalidate, no history entry.
  const again = await publishRules({ ...options, draftText: DRAFT, now: () => new Date('2026-11-26T05:16:00.000Z') });
  t.equal(again.published, false);
  t.equal(calls.length, 1);
  t.equal((await listHistory({ target: TARGET, s3Client: s3.client })).length, 1);

  const rolled = await rollbackRules({ ...options, id: published.id, now: () => new Date('2026-11-26T05:20:00.000Z') });
  t.equal(await s3.text(KEY), RULES_TEXT, 'the rules before the publish, restored');
  t.equal(rolled.diff.changed, published.diff.changed, 'the same URLs change back');
  t.same(calls[1]?.paths, published.diff.invalidations, 'and are invalidated again');
  const history = await listHistory({ target: TARGET, s3Client: s3.client });
  t.same(
    history.map((e) => [e.id, e.rollbackOf]),
    [
      [rolled.id, published.id],
      [published.id, undefined],
    ],
    'newest first; the rollback says what it rolled back',
  );
  t.equal(await s3.text(`config/rules-history/${rolled.id}.yaml`), DRAFT, 'the rolled-back draft is kept too');
});

t.test('a draft the loader refuses is not published', async (t) => {
  const s3 = await localS3(t, t.testdir());
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: RULES_TEXT }));
  const log: string[] = [];
  const { invalidator, calls } = recordingInvalidator(log);
  const refused = await publishRules({
    draftText: RULES_TEXT.replace('sizes: [171x256, 342x513, 684x1026]', 'sizes: [171x256, 342-513, 684x1026]'),
    draftOrigin: 'draft.yaml',
    target: TARGET,
    s3Client: s3.client,
    author: 'ada',
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
    invalidator,
  }).catch((err: unknown) => err);
  t.type(refused, RulesError);
  t.match((refused as Error).message, /^draft\.yaml: \/types\/boxshot\/sizes\/1: expected WxH like 342x513/);
  t.equal(await s3.text(KEY), RULES_TEXT, 'the rules in force untouched');
  t.same(await s3.keys(), [KEY], 'no history written');
  t.same(calls, []);
});

t.test('a publish from rules that changed meanwhile is refused (conditional write)', async (t) => {
  const s3 = await localS3(t, t.testdir());
  const first = await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: RULES_TEXT }));
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: DRAFT }));
  const target = openTarget(TARGET, s3.client);
  const stale = await target.write(RULES_TEXT, first.ETag).catch((err: unknown) => err);
  t.type(stale, PublishConflictError, 'refused: the object is no longer the version read');
  t.equal(await s3.text(KEY), DRAFT);
});

t.test('publish to a file: history beside it; a first publish only adds', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'rules.yaml');
  const log: string[] = [];
  const { invalidator, calls } = recordingInvalidator(log);
  const options = {
    target: file,
    author: 'grace',
    catalog: defaultCatalog,
    sourcesBucket: SOURCES_BUCKET,
    invalidator,
  };

  const first = await publishRules({ ...options, draftText: RULES_TEXT, now: () => new Date('2026-01-01T00:00:00Z') });
  t.match(first, { published: true, previousEtag: undefined, invalidation: { skipped: /no URL changed/ } });
  t.equal(first.diff.changed + first.diff.removed + first.diff.unchanged, 0, 'no rules before: every URL is added');
  t.ok(first.diff.added > 0);
  t.same(calls, []);

  const second = await publishRules({ ...options, draftText: DRAFT, now: () => new Date('2026-01-02T00:00:00Z') });
  t.equal(await readFile(file, 'utf8'), DRAFT);
  t.equal(second.previousEtag, first.etag);
  t.match(second.etag, /^sha256:[0-9a-f]{64}$/, 'tagged as the rules poller tags a file');
  t.same(calls[0]?.paths, second.diff.invalidations);
  t.same((await readdir(path.join(dir, 'rules-history'))).sort(), [
    `${first.id}.json`,
    `${second.id}.json`,
    `${second.id}.yaml`,
  ]);

  await rollbackRules({ ...options, id: second.id, now: () => new Date('2026-01-03T00:00:00Z') });
  t.equal(await readFile(file, 'utf8'), RULES_TEXT);
  const rollback = await rollbackRules({ ...options, id: 'not-an-id' }).catch((err: unknown) => err);
  t.match(rollback, { name: 'RangeError', message: /not a history id/ });
  const missing = await rollbackRules({ ...options, id: '20200101T000000.000Z-00000000' }).catch((e: unknown) => e);
  t.match(missing, { message: /no rules saved under 20200101T000000\.000Z-00000000/ });
});
