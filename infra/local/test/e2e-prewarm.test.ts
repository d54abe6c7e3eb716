// Publishing a new artwork version the way a catalog service would, on the whole embedded stack:
// the Preprocessor's catalog reload sees it, prewarms its warm set through the real Generator into
// the derivative store (local S3), and the first request for each of those URLs is answered from
// the store without a Generator invocation. A render made on demand is stored after its reply, and
// a restarted Preprocessor serves it from the store.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { request } from 'undici';
import sharp from 'sharp';
import YAML from 'yaml';
import { buildApp } from '@marquee/preprocessor';
import { childEnv } from '@marquee/shared';
import { localS3Client } from '../s3/index.js';
import { startStack } from '../stack/stack.js';

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-e2e-prewarm-'));
const rulesFile = path.join(dir, 'rules.yaml');
const rules = YAML.parse(
  await readFile(new URL('../../../preprocessor/config/rules.yaml', import.meta.url), 'utf8'),
) as {
  types: Record<string, Record<string, unknown>>;
};
// A small warm set, so the test stays quick on two cores: 2 sizes at 1x in 2 formats.
rules.types.boxshot!.prewarm = { sizes: ['171x256', '342x513'], dprs: [1], formats: ['webp', 'jpeg'] };
await writeFile(rulesFile, YAML.stringify(rules));

const stack = await startStack({
  dataDir: path.join(dir, 'data'),
  port: 0,
  logger: false,
  lambdaConcurrency: 2,
  // The catalog is polled often, as a short publish-to-prewarm delay needs.
  preprocessor: { rules: rulesFile, reloadMs: 200 },
});
const s3 = localS3Client(stack.s3Endpoint);
t.teardown(async () => {
  s3.destroy();
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

const SOURCES = 'marquee-sources';
const DERIVATIVES = 'marquee-derivatives';
const TITLE = '90000001';

async function get(pathAndQuery: string, base = stack.url) {
  const res = await request(`${base}${pathAndQuery}`, { method: 'GET' });
  const body = Buffer.from(await res.body.arrayBuffer());
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  };
  return { status: res.statusCode, header, body };
}

/** A sample's value from the Preprocessor's /metrics, as a scraper reads it (0 when absent). */
async function metric(name: string, labels = '', base = stack.url): Promise<number> {
  const text = (await get('/metrics', base)).body.toString();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function until(check: () => Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

t.test('a new artwork version is prewarmed: its warm set is served from the store', async (t) => {
  const sourceKey = `titles/${TITLE}/boxshot/en.jpg`;
  const master = await sharp({
    create: { width: 1000, height: 1500, channels: 3, background: { r: 30, g: 90, b: 160 } },
  })
    .jpeg({ quality: 85 })
    .toBuffer();

  // The catalog service's publish: the master first, then the catalog entry naming it.
  await s3.send(new PutObjectCommand({ Bucket: SOURCES, Key: sourceKey, Body: master, ContentType: 'image/jpeg' }));
  const current = await s3.send(new GetObjectCommand({ Bucket: SOURCES, Key: 'catalog.json' }));
  const catalog = JSON.parse(await current.Body!.transformToString()) as { titles: Record<string, unknown> };
  catalog.titles[TITLE] = {
    name: 'Premiere Night',
    artwork: { boxshot: { en: { source: sourceKey, version: '1', width: 1000, height: 1500 } } },
  };
  await s3.send(
    new PutObjectCommand({
      Bucket: SOURCES,
      Key: 'catalog.json',
      Body: JSON.stringify(catalog),
      ContentType: 'application/json',
    }),
  );

  await until(
    async () => (await metric('marquee_prewarm_rendered_total')) + (await metric('marquee_prewarm_failed_total')) >= 4,
    'the prewarm of the new title',
  );
  t.equal(await metric('marquee_prewarm_queued_total'), 4, 'the warm set: 4 images');
  t.equal(await metric('marquee_prewarm_rendered_total'), 4, 'all rendered');
  t.equal(await metric('marquee_prewarm_failed_total'), 0);
  t.equal(await metric('marquee_prewarm_in_flight'), 0);

  const invocations = await metric('marquee_generator_invocations_total', 'outcome="ok"');
  for (const [file, format, width] of [
    ['171x256.webp', 'webp', 171],
    ['171x256.jpg', 'jpeg', 171],
    ['342x513.webp', 'webp', 342],
    ['342x513.jpg', 'jpeg', 342],
  ] as const) {
    const res = await get(`/v1/artwork/boxshot/${TITLE}/${file}`);
    t.equal(res.status, 200, file);
    t.equal(res.header('x-cache'), 'store', `${file}: answered from the store`);
    t.equal(res.header('content-type'), `image/${format}`);
    t.match(await sharp(res.body).metadata(), { format, width }, `${file}: the image`);
  }
  t.equal(
    await metric('marquee_generator_invocations_total', 'outcome="ok"'),
    invocations,
    'no Generator invocation for the warm set',
  );

  // Outside the warm set: rendered on demand.
  const outside = await get(`/v1/artwork/boxshot/${TITLE}/342x513@2x.webp`);
  t.equal(outside.status, 200);
  t.equal(outside.header('x-cache'), 'miss');
  t.equal(await metric('marquee_generator_invocations_total', 'outcome="ok"'), invocations + 1);
});

t.test(
  'a render made on demand is stored by the invocation that streamed it; a restarted Preprocessor serves it from the store',
  async (t) => {
    const url = `/v1/artwork/boxshot/${TITLE}/684x1026.jpg`;
    const before = await metric('marquee_generator_invocations_total', 'outcome="ok"');
    const first = await get(url);
    t.equal(first.header('x-cache'), 'miss');
    const key = `derivatives/${first.header('etag').slice(1, -1)}.jpg`;
    await until(
      () =>
        s3.send(new HeadObjectCommand({ Bucket: DERIVATIVES, Key: key })).then(
          () => true,
          () => false,
        ),
      'the Generator to store the render',
    );
    t.equal(
      await metric('marquee_generator_invocations_total', 'outcome="ok"'),
      before + 1,
      'one invocation rendered, streamed and stored it',
    );

    // A restart: the same configuration, an empty output cache.
    const restarted = await buildApp({ ...stack.app.config, port: 0 }, { logger: false });
    t.teardown(() => restarted.close());
    const address = await restarted.listen({ host: '127.0.0.1', port: 0 });
    const again = await get(url, address);
    t.equal(again.status, 200);
    t.equal(again.header('x-cache'), 'store');
    t.same(again.body, first.body, 'the same bytes');
    t.equal(await metric('marquee_generator_invocations_total', 'outcome="ok"', address), 0, 'no invocation');
  },
);

t.test('npm run prewarm renders a warm set by hand, and a second run finds it stored', async (t) => {
  const cli = fileURLToPath(new URL('../../../preprocessor/dist/cli/prewarm.js', import.meta.url));
  const { config } = stack.app;
  const env = childEnv({
    MARQUEE_RULES: rulesFile,
    MARQUEE_S3_ENDPOINT: config.s3Endpoint,
    MARQUEE_LAMBDA_ENDPOINT: config.generator.endpoint,
    MARQUEE_DERIVATIVES_BUCKET: DERIVATIVES,
  });
  const run = () =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [cli, '--title', '80000001', '--type', 'logo', '--locale', 'en', '--concurrency', '1'],
        { env },
        (err, _stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
      );
    });
  const first = await run();
  t.equal(first.code, 0, first.stderr);
  const total = Number(/(\d+) images in the warm set/.exec(first.stderr)?.[1]);
  t.equal(total, 9, 'logo: 3 images in each of 3 formats');
  t.match(first.stderr, new RegExp(`prewarm: ${total}/${total} done`), 'plain progress lines off a terminal');
  t.match(first.stderr, new RegExp(`${total} rendered, 0 already stored, 0 failed`));

  const again = await run();
  t.equal(again.code, 0);
  t.match(again.stderr, new RegExp(`0 rendered, ${total} already stored, 0 failed`), 'resumable: nothing twice');

  const res = await get('/v1/artwork/logo/80000001/600x200.png');
  t.equal(res.header('x-cache'), 'store');
});
