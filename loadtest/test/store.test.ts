// "Every render stored", counted in a real bucket: the runner lists the derivatives prefix of a
// local S3 (s3rver, as the embedded stack runs it) before and after a run against the stand-in
// Preprocessor, which keeps its renders the way the Generator does (counted, then PUT after the
// reply). PUTs that land after the last reply still count (the runner waits for them, bounded);
// PUTs that never happen fail the check and the verdict.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { localS3Client, startLocalS3 } from '@marquee/local';
import { DERIVATIVES_PREFIX } from '@marquee/shared';
import { SCENARIOS, scaleScenario } from '../scenarios/definitions.js';
import { SEEDED_UNIVERSE, enumerateKeys } from '../scenarios/universe.js';
import { runScenario } from '../runner/run.js';
import { textSummary } from '../runner/report.js';
import { settledCount, writtenBetween, type StoreTarget } from '../runner/store.js';
import { startFake } from './fake-preprocessor.js';

const keys = enumerateKeys(SEEDED_UNIVERSE);
// The SDK's notice about Node 20 (the local S3 client here), as the runner's own client does.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const BUCKET = 'marquee-derivatives';

t.test('writtenBetween counts new keys and keys written again, nothing else', async (t) => {
  const before = new Map([
    ['derivatives/a.jpg', '"e1" 2026-01-01T00:00:00.000Z 10'],
    ['derivatives/b.jpg', '"e2" 2026-01-01T00:00:00.000Z 10'],
  ]);
  const after = new Map([
    ...before,
    ['derivatives/b.jpg', '"e2" 2026-01-01T00:00:05.000Z 10'],
    ['derivatives/c.jpg', '"e3" 2026-01-01T00:00:05.000Z 12'],
  ]);
  t.equal(writtenBetween(before, after), 2, 'c is new, b was written again, a is untouched');
  t.equal(writtenBetween(before, before), 0);
});

t.test('settledCount waits for the expected count, and gives up after its bound', async (t) => {
  let clock = 0;
  const fake = { now: () => clock, wait: async (ms: number) => void (clock += ms) };
  let landed = 0;
  const late = await settledCount({
    ...fake,
    expected: 3,
    timeoutMs: 10_000,
    count: async () => Math.min(3, landed++),
  });
  t.same(late, { written: 3, waitedMs: 1500, settled: true }, 'the last PUTs land 1.5 s after the run');
  clock = 0;
  const lost = await settledCount({ ...fake, expected: 3, timeoutMs: 2000, count: async () => 2 });
  t.same(lost, { written: 2, waitedMs: 2000, settled: false }, 'one PUT never lands: counted at the bound');
  clock = 0;
  let counts = 0;
  const nothing = await settledCount({ ...fake, expected: undefined, count: async () => ++counts });
  t.same(nothing, { written: 1, waitedMs: 0, settled: false }, 'nothing to expect: one count, no wait');
});

t.test('the run counts the objects written to a real bucket and judges them', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const s3 = await startLocalS3({ directory: dir, buckets: [BUCKET] });
  t.teardown(() => s3.close());
  const client = localS3Client(s3.endpoint);
  t.teardown(() => client.destroy());
  const target: StoreTarget = { endpoint: s3.endpoint, bucket: BUCKET, prefix: DERIVATIVES_PREFIX };
  // An object from before the run, and one outside the prefix: neither is written by the run.
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${DERIVATIVES_PREFIX}old.jpg`, Body: 'x' }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/x.jpg', Body: 'x' }));
  const scenario = {
    ...scaleScenario(SCENARIOS.baseline, { baseRate: 10, timeScale: 0.01 }),
    phases: [{ name: 'steady', durationS: 2, fromX: 1, toX: 1 }],
  };
  const storeOf = (r: Awaited<ReturnType<typeof runScenario>>) =>
    r.checks.find((c) => c.name === 'every render stored');

  await t.test('every PUT lands, the last ones after the replies: PASS', async (t) => {
    const fake = await startFake({ store: { client, bucket: BUCKET, prefix: DERIVATIVES_PREFIX, lateMs: 1500 } });
    t.teardown(() => fake.app.close());
    const report = await runScenario({ baseUrl: fake.url, scenario, keys, verify: 'none', store: target });
    await fake.settled();
    const check = storeOf(report);
    const renders = fake.invocations();
    t.ok(renders > 5, `${renders} renders`);
    t.equal(report.generator.storeWrites, renders, 'every render was asked to be kept');
    t.equal(check?.status, 'pass', check?.detail ?? 'no such check');
    t.equal(check?.figure, renders, 'objects written');
    t.equal(check?.limit, renders, 'renders asked to keep');
    t.ok(report.store && 'written' in report.store && report.store.waitedMs > 0, 'it waited for the late PUTs');
    t.match(report.store, { objectsBefore: 1, objectsAfter: renders + 1, written: renders, bucket: BUCKET });
    const text = textSummary(report);
    t.match(text, new RegExp(`PASS {2}run +every render stored +${renders} = ${renders} `));
    t.match(
      text,
      new RegExp(`${renders} asked to keep; ${renders} store objects written to s3://${BUCKET}/derivatives/`),
    );
  });

  await t.test('two PUTs never happen: FAIL, and the verdict with it', async (t) => {
    const fake = await startFake({ store: { client, bucket: BUCKET, prefix: DERIVATIVES_PREFIX, lose: 2 } });
    t.teardown(() => fake.app.close());
    const report = await runScenario({
      baseUrl: fake.url,
      scenario,
      keys,
      verify: 'none',
      store: target,
      storeSettleMs: 1000,
    });
    await fake.settled();
    const renders = fake.invocations();
    const check = storeOf(report);
    t.equal(check?.status, 'fail', check?.detail ?? 'no such check');
    t.equal(check?.limit, renders);
    // The keys repeat the first run's (same seed): objects written again count, with the 2 lost ones missing.
    t.equal(check?.figure, renders - 2);
    t.match(check?.detail, /2 missing/);
    t.equal(report.verdict, 'fail');
    t.match(textSummary(report).split('\n')[0], /^VERDICT: FAIL .*failed: run every render stored/);
    t.ok(report.store && 'waitedMs' in report.store && report.store.waitedMs >= 1000, 'waited the whole bound');
  });

  await t.test('a bucket that cannot be listed is not measured, not passed', async (t) => {
    const fake = await startFake({ store: { client, bucket: BUCKET, prefix: DERIVATIVES_PREFIX } });
    t.teardown(() => fake.app.close());
    const report = await runScenario({
      baseUrl: fake.url,
      scenario: { ...scenario, phases: [{ name: 'steady', durationS: 0.5, fromX: 1, toX: 1 }] },
      keys,
      verify: 'none',
      store: { ...target, bucket: 'no-such-bucket' },
    });
    await fake.settled();
    const check = storeOf(report);
    t.equal(check?.status, 'skip');
    t.match(check?.detail, /not measured: could not list s3:\/\/no-such-bucket/);
  });
});
