// Issue 21's done-when, through the embedded stack with its CDN (real Varnish, the real Generator
// on the local Lambda, local S3): warm boxshot URLs in Varnish, publish a boxshot WebP look change
// with `npm run rules -- publish --local --prewarm` (the CLI finds the stack itself), refetch the
// same URLs through Varnish. Every changed reply is the new look, answered from the store: the
// refetch causes no Generator invocation, because the publish rendered the new looks BEFORE it
// wrote the rules (a publish that invalidates first and prewarms after renders them live). Every
// URL of another type stays a Varnish HIT.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import http from 'node:http';
import sharp from 'sharp';
import YAML from 'yaml';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { childEnv } from '@marquee/shared';
import { localS3Client } from '../s3/index.js';
import { startStack } from '../stack/stack.js';

// 448 renders at 2 at once on 2 shared cores, then two publishes and a refetch: about 3 minutes,
// near .taprc's 240 s on a busy machine.
t.setTimeout(600_000);

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-publish-first-'));
const stack = await startStack({
  dataDir: path.join(dir, 'data'),
  port: 0,
  logger: false,
  lambdaConcurrency: 4,
  cdn: true,
  // The Preprocessor reloads the published rules quickly; the CLI waits for its /readyz.
  preprocessor: { reloadMs: 200 },
});
t.teardown(async () => {
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});
await stack.seed?.complete;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(pathAndQuery: string, base = stack.cdnUrl!): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}${pathAndQuery}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

const invocations = () => stack.lambda.stats().invocations;

async function readCatalog(): Promise<string> {
  const s3 = localS3Client(stack.s3Endpoint);
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: 'marquee-sources', Key: 'catalog.json' }));
    return (await object.Body?.transformToString()) ?? '{}';
  } finally {
    s3.destroy();
  }
}
const catalog = JSON.parse(await readCatalog()) as { titles: Record<string, unknown> };
const titles = Object.keys(catalog.titles);
// Two WebP sizes (the look that changes) and one JPEG (unchanged) per title: N ≥ 50 boxshot URLs.
const boxshots = titles.flatMap((id) => [
  `/v1/artwork/boxshot/${id}/171x256.webp`,
  `/v1/artwork/boxshot/${id}/342x513.webp`,
  `/v1/artwork/boxshot/${id}/171x256.jpg`,
]);
const others = titles.slice(0, 4).map((id) => `/v1/artwork/billboard/${id}/1280x720.jpg`);

const cli = fileURLToPath(new URL('../../../preprocessor/dist/cli/rules.js', import.meta.url));
const port = (url: string) => new URL(url).port;
// What `--local` reads to find a stack started on other ports: the stack's own variables. Nothing
// else: the endpoints, buckets and rules location are the CLI's to find.
const cliEnv = childEnv({
  MARQUEE_LOCAL_S3_PORT: port(stack.s3Endpoint),
  MARQUEE_LOCAL_LAMBDA_PORT: port(stack.lambdaEndpoint),
  MARQUEE_LOCAL_CDN_PORT: port(stack.cdnUrl!),
  PORT: port(stack.url),
});
for (const name of Object.keys(cliEnv)) if (/^(MARQUEE_(?!LOCAL_)|AWS_)/.test(name)) delete cliEnv[name];
// The CLI's prewarm holds this share of the stack's 4 Lambda environments: 2 renders at once.
cliEnv.MARQUEE_LOCAL_LAMBDA_CONCURRENCY = '4';
cliEnv.MARQUEE_PREWARM_SHARE = '0.5';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rules(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: cliEnv, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const rulesText = await readFile(new URL('../../../preprocessor/config/rules.yaml', import.meta.url), 'utf8');

/** A draft of the shipped rules whose boxshot WebP is encoded at `quality` (the shipped rules say 75–80). */
async function boxshotWebpDraft(quality: number): Promise<string> {
  const draft = YAML.parse(rulesText) as { types: Record<string, Record<string, unknown>> };
  draft.types.boxshot!.encoding = { webp: { quality } };
  const file = path.join(dir, `draft-q${quality}.yaml`);
  await writeFile(file, YAML.stringify(draft));
  return file;
}

interface Refetch {
  publish: Run;
  /** Each URL's reply, fetched through Varnish from the moment the CDN served the new look. */
  replies: Map<string, Reply>;
  /** Generator invocations from just before the flip was seen until the publish and the refetch ended. */
  invocations: number;
}

/**
 * Publishes while watching the CDN: `probe` (a changed URL, warm in Varnish) is fetched again
 * and again until its ETag changes, i.e. the instant the invalidation lets the new look through;
 * then every URL is refetched at once, while the CLI may still be running. This is what live
 * traffic does right after a flip. A publish that prewarmed after the flip (the old order) would
 * meet this refetch before its renders were stored: misses rendered live (`X-Cache: miss`,
 * invocations > 0). The second test below shows the check failing that way.
 */
async function publishAndRefetch(
  args: string[],
  probe: string,
  oldEtag: string,
  urls: readonly string[],
): Promise<Refetch> {
  const publishing = rules(args);
  let done = false;
  void publishing.then(() => (done = true));
  let atFlip: number | undefined;
  while (atFlip === undefined) {
    const before = invocations();
    const reply = await get(probe);
    if (reply.status === 200 && reply.headers.etag !== oldEtag) atFlip = before;
    else if (done) break;
    else await sleep(20);
  }
  const replies = new Map<string, Reply>();
  await Promise.all(urls.map(async (url) => replies.set(url, await get(url))));
  const publish = await publishing;
  return { publish, replies, invocations: invocations() - (atFlip ?? invocations()) };
}

const warm = new Map<string, Reply>();

t.test(`publishing a boxshot look: ${boxshots.length} URLs refetched through Varnish, no live render`, async (t) => {
  t.ok(boxshots.length >= 50, `${boxshots.length} boxshot URLs`);
  for (const url of [...boxshots, ...others]) {
    const reply = await get(url);
    if (reply.status === 200) warm.set(url, reply);
  }
  const served = boxshots.filter((url) => warm.has(url));
  const otherServed = others.filter((url) => warm.has(url));
  t.ok(served.length >= 50, `${served.length} boxshot URLs warm in Varnish`);
  t.ok(otherServed.length > 0, `${otherServed.length} billboard URLs warm in Varnish`);
  for (const url of [...served, ...otherServed]) t.equal((await get(url)).headers['x-cdn'], 'HIT', `${url} warm`);

  const draft = await boxshotWebpDraft(30);
  const probe = served.find((url) => url.endsWith('.webp'))!;
  const before = invocations();
  const started = performance.now();
  const {
    publish,
    replies,
    invocations: caused,
  } = await publishAndRefetch(
    ['publish', draft, '--local', '--prewarm', '--author', 'test'],
    probe,
    warm.get(probe)!.headers.etag!,
    served,
  );
  const publishMs = performance.now() - started;
  t.equal(publish.code, 0, `${publish.stdout}\n${publish.stderr}`);
  t.match(
    publish.stdout,
    /prewarm \(before the rules were written, set: changed\): \d+ images?: \d+ rendered, \d+ already stored, 0 failed/,
  );
  t.match(publish.stdout, /live renders: none/);
  t.match(publish.stdout, /invalidation: varnish/, 'the CLI found Varnish itself');
  t.notMatch(publish.stderr, /NodeDeprecationWarning|AWS SDK for JavaScript/, 'no SDK notice');
  const rendered = Number(/(\d+) rendered/.exec(publish.stdout)?.[1]);
  t.ok(rendered > 0, `${rendered} new looks rendered into the store`);
  t.comment(`publish: ${rendered} renders, ${invocations() - before} invocations, ${(publishMs / 1000).toFixed(1)} s`);

  for (const url of served) {
    const again = replies.get(url)!;
    const old = warm.get(url)!;
    t.equal(again.status, 200, url);
    if (url.endsWith('.webp')) {
      t.not(again.headers.etag, old.headers.etag, `${url}: a new look`);
      t.equal((await sharp(again.body).metadata()).format, 'webp');
      t.ok(
        again.body.length < old.body.length,
        `${url}: quality 30 is smaller (${again.body.length} < ${old.body.length})`,
      );
      // From the store: rendered before the flip. A render after it would say miss or coalesced.
      t.equal(again.headers['x-cache'], 'store', `${url}: from the store`);
    } else {
      t.equal(again.headers.etag, old.headers.etag, `${url}: the same look`);
      t.ok(again.body.equals(old.body), `${url}: the same bytes`);
    }
  }
  t.equal(caused, 0, `the refetch of ${served.length} URLs caused no Generator invocation`);
  for (const url of otherServed) t.equal((await get(url)).headers['x-cdn'], 'HIT', `${url}: still a Varnish HIT`);
});

// The control arm: the same refetch after a publish whose new looks are NOT in the store at the
// flip, which is where a prewarm after the flip leaves them. The check above fails on it.
t.test('without the prewarm before the flip, the same refetch renders live', async (t) => {
  const webp = boxshots.filter((url) => url.endsWith('.webp') && warm.has(url));
  const current = new Map<string, Reply>();
  for (const url of webp) current.set(url, await get(url));
  const probe = webp[0]!;
  const {
    publish,
    replies,
    invocations: caused,
  } = await publishAndRefetch(
    ['publish', await boxshotWebpDraft(31), '--local', '--author', 'test'],
    probe,
    current.get(probe)!.headers.etag!,
    webp,
  );
  t.equal(publish.code, 0, `${publish.stdout}\n${publish.stderr}`);
  t.match(publish.stdout, /prewarm: not run/);
  const live = webp.filter((url) => replies.get(url)?.headers['x-cache'] !== 'store');
  t.ok(live.length > 0, `${live.length} of ${webp.length} replies rendered live, not from the store`);
  t.ok(caused > 0, `${caused} Generator invocations caused by the refetch`);
});

// The rollback first stopped on MARQUEE_DERIVATIVES_BUCKET, then looked for the Generator
// on AWS and exited 0 with 254 failures. The looks it restores (quality 30) are in the store.
t.test('rollback --local --prewarm finds the stack and the restored looks in the store', async (t) => {
  const history = await rules(['history', '--local', '--json']);
  t.equal(history.code, 0, history.stderr);
  const [latest] = JSON.parse(history.stdout) as Array<{ id: string }>;
  const rollback = await rules(['rollback', latest!.id, '--local', '--prewarm', '--author', 'test']);
  t.equal(rollback.code, 0, `${rollback.stdout}\n${rollback.stderr}`);
  t.match(rollback.stdout, /: \d+ images?: 0 rendered, \d+ already stored, 0 failed/);
  t.match(rollback.stdout, /live renders: none/);
  t.match(rollback.stdout, /invalidation: varnish/);
});

t.test('rules show --local prints the rules in force; --help answers', async (t) => {
  const show = await rules(['show', '--local']);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /quality: 30/, 'the rules the rollback restored are in force');
  const help = await rules(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /usage: rules/);
  t.match(help.stdout, /--local/);
});
