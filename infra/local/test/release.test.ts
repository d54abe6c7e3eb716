import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetAliasCommand, LambdaClient, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { runRelease, type ReleaseOptions } from '../../../preprocessor/dist/release/release.js';
import type { ReleaseReport } from '../../../preprocessor/dist/release/report.js';
import { startStack } from '../stack/stack.js';

/**
 * Generator releases rehearsed on the embedded stack, through the real local Lambda endpoint and
 * @aws-sdk/client-lambda: candidates are copies of the packaged bundle, patched where a render
 * changes (what a careless edit to the Generator would do), and gated against version 1.
 */

const BUNDLE = fileURLToPath(new URL('../../../generator/dist/bundle', import.meta.url));
const CLI = fileURLToPath(new URL('../../../preprocessor/dist/release/cli.js', import.meta.url));
// `npm test` packages the Generator before tap runs; a bare `tap` without the bundle says so.
if (!existsSync(path.join(BUNDLE, 'index.mjs')))
  throw new Error('the Generator is not packaged: run `npm run package -w generator` first');

const dir = await mkdtemp(path.join(tmpdir(), 'marquee-release-'));
const stack = await startStack({
  dataDir: path.join(dir, 'data'),
  port: 0,
  logger: false,
  lambdaConcurrency: 4,
  handler: path.join(BUNDLE, 'index.mjs'),
});
const lambda = new LambdaClient({
  endpoint: stack.lambdaEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
});
t.teardown(async () => {
  lambda.destroy();
  await stack.close();
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the bundle with `patch` applied to its entry; the patch must find what it changes. */
async function candidate(name: string, patch: (code: string) => string): Promise<string> {
  const out = path.join(dir, name);
  await cp(BUNDLE, out, { recursive: true });
  const entry = path.join(out, 'index.mjs');
  const code = await readFile(entry, 'utf8');
  const patched = patch(code);
  if (patched === code) throw new Error(`candidate ${name}: the patch found nothing to change`);
  await writeFile(entry, patched);
  return out;
}

function replaceOnce(code: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(code)) throw new Error(`patch target not found: ${pattern}`);
  return code.replace(pattern, replacement);
}

const { rules, catalog } = stack.app.rulesPoller.current();
const base = (over: Partial<ReleaseOptions>): ReleaseOptions => ({
  lambda,
  functionName: 'marquee-generator',
  alias: 'live',
  candidate: BUNDLE,
  rules,
  catalog,
  sourcesBucket: stack.app.config.sourcesBucket,
  // Boxshots in JPEG and WebP: every kind of those renders in tens of ms (a 3x AVIF billboard takes
  // seconds on a CI core); the whole universe is the rehearsal's (README), not a unit test's.
  sampleSize: 24,
  filter: { type: 'boxshot', formats: ['jpeg', 'webp'] },
  concurrency: 2,
  outDir: path.join(dir, 'reports', String(Date.now())),
  ...over,
});

async function alias(): Promise<{ version: string | undefined; weights: Record<string, number> }> {
  const got = await lambda.send(new GetAliasCommand({ FunctionName: 'marquee-generator', Name: 'live' }));
  return { version: got.FunctionVersion, weights: got.RoutingConfig?.AdditionalVersionWeights ?? {} };
}

// The Preprocessor serves through `live` all along: every reply must be a 200, whatever the release does.
const paths = ['/v1/artwork/boxshot/80000001/342x513.webp', '/v1/artwork/boxshot/80000002/342x513.jpg'];
const served = { ok: 0, other: [] as string[] };
let serving = true;
const traffic = (async () => {
  for (let i = 0; serving; i++) {
    const url = `${stack.url}${paths[i % paths.length] ?? ''}?v=traffic${i % 7}`;
    const res = await fetch(url).catch((err: unknown) => ({ status: String(err), arrayBuffer: async () => 0 }));
    await res.arrayBuffer();
    if (res.status === 200) served.ok++;
    else served.other.push(`${res.status} ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
})();

t.test('the stack starts with version 1 and live → 1, and the Preprocessor invokes live', async (t) => {
  t.same(await alias(), { version: '1', weights: {} });
  const res = await fetch(`${stack.url}/v1/artwork/boxshot/80000001/342x513.jpg?v=first`);
  const body = Buffer.from(await res.arrayBuffer());
  t.equal(res.status, 200, res.status === 200 ? 'a 200' : body.toString('utf8', 0, 200));
  t.ok((stack.lambda.stats().versions['marquee-generator']?.['1']?.invocations ?? 0) > 0, 'version 1 ran it');
  t.equal(stack.lambda.stats().versions['marquee-generator']?.$LATEST?.invocations, 0, '$LATEST ran nothing');
});

t.test('the same code again is no release: no version is published', async (t) => {
  const { report, exitCode } = await runRelease(base({ candidate: BUNDLE }));
  t.equal(exitCode, 0);
  t.equal(report.candidate, '1');
  const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'marquee-generator' }));
  t.same(
    versions.Versions?.map((v) => v.Version),
    ['$LATEST', '1'],
  );
});

let rebuilt = '';
t.test('a rebuild that renders the same passes the gate, every pair compared', async (t) => {
  rebuilt = await candidate('rebuild', (code) => `${code}\n// rebuilt\n`);
  const { report, exitCode, page } = await runRelease(base({ candidate: rebuilt }));
  t.equal(exitCode, 0, 'exit 0');
  t.equal(report.candidate, '2');
  t.equal(report.gate.pairs.length, 24);
  t.same(report.gate.failures, []);
  t.ok(
    report.gate.pairs.every((p) => p.baseline.executed === '1' && p.candidate.executed === '2'),
    'each side rendered by its version number',
  );
  t.equal(report.sample.covered, Math.min(report.sample.kinds, 24), 'the sample spans the kinds first');
  t.ok(page !== undefined && existsSync(page), 'the HTML page is written');
  t.same(await alias(), { version: '1', weights: {} }, 'without --shift the alias does not move');
});

t.test('another WebP quality fails the gate and names its pairs (the CLI exits 1)', async (t) => {
  const webp = await candidate('webp-quality', (code) =>
    replaceOnce(code, /case"webp":return (\w+)\.webp\(\{quality:(\w+),/, 'case"webp":return $1.webp({quality:$2-5,'),
  );
  const out = path.join(dir, 'reports', 'webp');
  const run = await promisify(execFile)(
    process.execPath,
    [CLI, '--candidate', webp, '--local', '--sample', '24', '--type', 'boxshot', '--format', 'jpeg,webp', '--out', out],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        MARQUEE_LAMBDA_ENDPOINT: stack.lambdaEndpoint,
        MARQUEE_S3_ENDPOINT: stack.s3Endpoint,
        MARQUEE_RULES: stack.rules,
      },
    },
  ).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  t.equal(run.code, 1, run.stderr);
  const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8')) as ReleaseReport;
  const webpPairs = report.gate.pairs.filter((p) => p.kind.split(' ')[1] === 'webp');
  t.ok(webpPairs.length > 0, 'the sample has WebP pairs');
  t.equal(report.gate.failures.length, webpPairs.length, 'every WebP pair fails');
  t.ok(
    report.gate.failures.every((f) => f.kind.split(' ')[1] === 'webp'),
    'only WebP pairs fail',
  );
  t.ok(
    report.gate.pairs.filter((p) => p.kind.split(' ')[1] !== 'webp').every((p) => p.identical),
    'the other formats are identical',
  );
  t.match(run.stderr, /FAIL/);
  t.match(run.stderr, /\/v1\/artwork\/\S+\.webp/, 'the failing pairs are named');
  const files = await readdir(path.join(out, 'pairs'));
  t.ok(
    files.some((f) => f.endsWith('.diff.png')),
    'difference images for the worst pairs',
  );
  t.same(await alias(), { version: '1', weights: {} });
});

t.test('a crop one pixel off fails the gate, on cropped pairs only', async (t) => {
  const crop = await candidate('crop', (code) =>
    replaceOnce(
      code,
      /left:(\w+)\(Math\.round\((\w+)\.left\*(\w+)\),0,/,
      'left:$1(Math.round($2.left*$3)+1,0,',
    ).replace(/top:(\w+)\(Math\.round\((\w+)\.top\*(\w+)\),0,/, 'top:$1(Math.round($2.top*$3)+1,0,'),
  );
  const { report, exitCode } = await runRelease(base({ candidate: crop }));
  t.equal(exitCode, 1);
  const dssims = report.gate.failures.map((f) => f.dssim ?? Number.NaN);
  t.ok(report.gate.failures.length > 0, `${report.gate.failures.length} pairs fail, DSSIM ${dssims.join(', ')}`);
  t.ok(
    report.gate.failures.every((f) => f.kind.includes(' cover ')),
    'every failing pair is a cover crop',
  );
});

t.test('a shift promotes a good candidate step by step', async (t) => {
  const { report, exitCode } = await runRelease(base({ candidate: '2', shift: [10, 50, 100], probesPerStep: 20 }));
  t.equal(exitCode, 0);
  t.equal(report.shift?.outcome, 'promoted');
  t.same(
    report.shift?.steps.map((s) => s.weight),
    [10, 50, 100],
  );
  t.equal(report.shift?.steps.at(-1)?.baseline.invocations, 0, 'at 100 % only the candidate runs');
  t.ok(
    report.shift?.steps.every((s) => s.candidate.invocations >= 3),
    'every step watched the candidate at least 3 times',
  );
  t.same(await alias(), { version: '2', weights: {} });
});

t.test('a candidate that breaches its latency is rolled back', async (t) => {
  const slow = await candidate('slow', (code) =>
    replaceOnce(
      code,
      /streamifyResponse\(\((\w+),(\w+),(\w+)\)=>(\w+)\(\1,\2,\3\)\)/,
      'streamifyResponse(($1,$2,$3)=>new Promise((z)=>setTimeout(z,2500)).then(()=>$4($1,$2,$3)))',
    ),
  );
  const { report, exitCode } = await runRelease(
    base({ candidate: slow, sampleSize: 8, shift: [10, 50, 100], probesPerStep: 20 }),
  );
  t.equal(exitCode, 1);
  t.same(report.gate.failures, [], 'it renders the same: only the shift can catch it');
  t.equal(report.shift?.outcome, 'rolled back');
  t.match(report.shift?.steps.at(-1)?.breach, /p95/);
  t.same(await alias(), { version: '2', weights: {} }, 'live is back on the version it served');
});

t.test('the Preprocessor kept serving throughout', async (t) => {
  serving = false;
  await traffic;
  t.ok(served.ok > 0, `${served.ok} replies`);
  t.same(served.other, [], 'every reply a 200');
});
