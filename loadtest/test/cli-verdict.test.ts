// The verdict end to end, through the command line a user runs: a short spike against the
// stand-in Preprocessor passes with its limits and exits 0; the same run with an impossible
// `--slo` (and the first run as `--baseline`) fails, says why, and exits 1; a malformed `--slo`
// is refused before any load with exit code 2.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFake } from './fake-preprocessor.js';

const cli = fileURLToPath(new URL('../runner/cli.ts', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import=tsx', cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('the command line judges a run: exit 0, then an impossible limit exits 1', { timeout: 120_000 }, async (t) => {
  const fake = await startFake();
  t.teardown(() => fake.app.close());
  const out = await mkdtemp(path.join(tmpdir(), 'marquee-cli-'));
  t.teardown(() => rm(out, { recursive: true, force: true }));
  // ~10 s of load: every phase of spike20x, at 2/s → 40/s.
  const common = ['spike20x', '--url', fake.url, '--smoke', '--time-scale', '0.02', '--out', out];

  // Latency limits loosened for a shared 2-core machine: this run is the control, not a benchmark.
  const ok = await run([...common, '--slo', 'p95Ms=60000', '--slo', 'p99Ms=60000']);
  t.equal(ok.code, 0, `a run within its limits exits 0\n${ok.stdout}${ok.stderr.slice(-2000)}`);
  t.match(ok.stdout.split('\n')[0], /^VERDICT: PASS/, 'the verdict is the first line');
  const first = path.join(out, 'spike20x-smoke-latest.json');
  const passed = JSON.parse(await readFile(first, 'utf8')) as { verdict: string; checks: unknown[] };
  t.equal(passed.verdict, 'pass');
  t.ok(passed.checks.length > 20, `${passed.checks.length} checks in the JSON`);

  const bad = await run([...common, '--slo', 'p99Ms=0.001', '--baseline', first]);
  t.equal(bad.code, 1, `an impossible p99 fails the run\n${bad.stdout.slice(0, 3000)}`);
  t.match(bad.stdout.split('\n')[0], /^VERDICT: FAIL/);
  for (const phase of ['base', 'spike', 'recovery'])
    t.match(
      bad.stdout,
      new RegExp(`FAIL {2}${phase} +p99 of 200/304 +[\\d.]+ ms > 0 ms`),
      `${phase}: p99 against 0.001 ms`,
    );
  t.notMatch(bad.stdout, /FAIL {2}warm-up/, 'the warm-up is not judged');
  t.match(bad.stdout, /Compared with .*spike20x-smoke-latest\.json/, 'the baseline run beside this one');
  t.match(bad.stdout, /--slo given: p99Ms=0\.001/);
  const failed = JSON.parse(await readFile(path.join(out, 'spike20x-smoke-latest.json'), 'utf8')) as {
    verdict: string;
    checks: Array<{ key?: string; status: string; limit?: number }>;
    comparison?: { rows: unknown[] };
  };
  t.equal(failed.verdict, 'fail');
  const p99 = failed.checks.filter((c) => c.key === 'p99Ms');
  t.ok(p99.length >= 5 && p99.every((c) => c.status === 'fail' && c.limit === 0.001), 'every judged phase fails p99');
  t.ok((failed.comparison?.rows.length ?? 0) > 0, 'the JSON keeps the comparison');
  const html = await readFile(path.join(out, 'spike20x-smoke-latest.html'), 'utf8');
  t.match(html, /class="verdict fail">VERDICT: FAIL/);
  t.match(html, /data-series="p99, baseline run"/, "the baseline's p99 drawn beside this run's");
});

t.test('a malformed --slo is refused before any load, exit 2', async (t) => {
  const r = await run(['spike20x', '--url', 'http://127.0.0.1:9', '--slo', 'p99=2000']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown key "p99"; known keys: p95Ms/);
  const rate = await run(['spike20x', '--url', 'http://127.0.0.1:9', '--slo', 'maxShedRate=5']);
  t.equal(rate.code, 2);
  t.match(rate.stderr, /fraction 0..1/);
});
