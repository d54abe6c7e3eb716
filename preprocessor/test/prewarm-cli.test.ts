import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from '@marquee/shared';
import { parsePrewarmArgs, progressBar } from '../src/prewarm/cli-args.js';
import { CATALOG_TEXT, RULES_PATH } from './rules/fixtures.js';

/**
 * `npm run prewarm` as an operator runs it (the compiled CLI in a child process): what it selects
 * and how it refuses bad input. Rendering through a real stack is in infra/local/test/e2e-prewarm.test.ts.
 */

const CLI = fileURLToPath(new URL('../dist/cli/prewarm.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'marquee-prewarm-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const catalogFile = path.join(dir, 'catalog.json');
await writeFile(catalogFile, CATALOG_TEXT);

/** This process's environment without any derivatives bucket it may have, plus `extra`. */
function ownEnv(extra: Record<string, string>): Record<string, string> {
  const env = childEnv();
  delete env.MARQUEE_DERIVATIVES_BUCKET;
  return { ...env, ...extra };
}

function run(args: string[], env: Record<string, string> = { MARQUEE_DERIVATIVES_BUCKET: 'marquee-derivatives' }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, '--rules', RULES_PATH, '--catalog', catalogFile, ...args],
      { env: ownEnv(env) },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

t.test('--dry-run lists the warm set of what is selected', async (t) => {
  const res = await run(['--dry-run', '--title', '80000001', '--type', 'boxshot', '--locale', 'fr']);
  t.equal(res.code, 0, res.stderr);
  const urls = res.stdout.trim().split('\n');
  t.equal(urls.length, 15, 'boxshot: 3 sizes × 1x, 2x × 3 formats, one shared image');
  t.ok(
    urls.every((u) => u.startsWith('/v1/artwork/boxshot/80000001/') && u.endsWith('?locale=fr')),
    'canonical URLs of the French boxshot',
  );
  t.match(res.stderr, /15 images in the warm set of title 80000001, type boxshot, locale fr/);

  const all = await run(['--dry-run']);
  t.equal(all.code, 0);
  t.ok(all.stdout.trim().split('\n').length > 15, 'every title without a filter');
});

t.test('bad input is refused with a reason, exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--title', 'nope'], /unknown title nope/],
    [['--type', 'poster'], /unknown type poster; the rules define boxshot, billboard, logo/],
    [['--concurrency', '0'], /--concurrency must be an integer from 1 to 1000, got "0"/],
    [['--bogus'], /Unknown option '--bogus'[\s\S]*usage: npm run prewarm/],
  ];
  for (const [args, message] of cases) {
    const res = await run(args);
    t.equal(res.code, 2, args.join(' '));
    t.match(res.stderr, message, args.join(' '));
    t.equal(res.stdout, '', 'nothing on stdout');
  }
  const noBucket = await run(['--dry-run'], {});
  t.equal(noBucket.code, 2);
  t.match(noBucket.stderr, /needs MARQUEE_DERIVATIVES_BUCKET/);
});

t.test('arguments and the progress bar', async (t) => {
  t.same(parsePrewarmArgs(['--title', '1', '--type', 'logo', '--locale', 'en', '--concurrency', '3']), {
    filter: { titleId: '1', type: 'logo', locale: 'en' },
    rules: undefined,
    catalog: undefined,
    local: false,
    concurrency: 3,
    dryRun: false,
  });
  const bar = progressBar({ reason: 'cli', total: 40, done: 10, rendered: 8, skipped: 2, failed: 0, ms: 1500 }, 20);
  t.equal(bar, '[#####---------------] 10/40  rendered 8  skipped 2  failed 0  1.5 s');
});
