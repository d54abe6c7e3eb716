// The runner end to end against a stand-in Preprocessor (test/fake-preprocessor.ts): the
// open-model load, the classification, /metrics sampling, verification and the reports.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCENARIOS, scaleScenario } from '../scenarios/definitions.js';
import { SEEDED_UNIVERSE, enumerateKeys } from '../scenarios/universe.js';
import { runScenario } from '../runner/run.js';
import { writeReports, textSummary, toHtml } from '../runner/report.js';
import { parsePrometheus, sumMetric } from '../runner/metrics.js';
import { startFake } from './fake-preprocessor.js';

// The seeded universe minus explicit AVIF (the fake answers it with 404, which is an error).
const keys = enumerateKeys(SEEDED_UNIVERSE).filter((k) => k.ext !== 'avif');

t.test('parses Prometheus text as prom-client writes it', async (t) => {
  const samples = parsePrometheus(
    [
      '# HELP x y',
      'marquee_cache_requests_total{result="hit"} 5',
      'marquee_cache_requests_total{result="miss",route="a \\"b\\""} 2',
      'marquee_process_resident_memory_bytes 1.5e+08',
      'junk line',
    ].join('\n'),
  );
  t.equal(sumMetric(samples, 'marquee_cache_requests_total'), 7);
  t.equal(sumMetric(samples, 'marquee_cache_requests_total', { result: 'hit' }), 5);
  t.equal(samples[1]?.labels.route, 'a "b"');
  t.equal(sumMetric(samples, 'marquee_process_resident_memory_bytes'), 150_000_000);
});

t.test('a small spike against the stand-in: properties, reports', async (t) => {
  const fake = await startFake({ maxInFlight: 4, renderDelayMs: 30 });
  t.teardown(() => fake.app.close());
  const scenario = scaleScenario(SCENARIOS.spike20x, { baseRate: 3, timeScale: 0.03, maxInFlight: 100 });
  const report = await runScenario({ baseUrl: fake.url, scenario, keys, verify: 'all' });

  const c = report.total.classes;
  t.ok(report.total.sent > 100, `sent ${report.total.sent}`);
  t.equal(c.ok + c.shed + c.dropped, report.total.sent, 'every request is a 200 or shed');
  t.ok(c.shed > 0, `the spike is shed past 4 renders in flight (${c.shed})`);
  t.equal(c.serverError, 0);
  t.ok(report.total.xCache.hit ?? 0 > 0, 'Zipf repeats hit the cache');
  t.equal(report.verification.failures.length, 0);
  t.equal(report.verification.checked, c.ok, 'every 200 decoded');
  t.equal(report.generator.invocations, fake.invocations(), 'invocations from /metrics');
  t.ok(report.metrics.points.length >= 3, 'metrics sampled during the run');
  t.ok(
    report.checks.every((x) => x.pass),
    JSON.stringify(report.checks.filter((x) => !x.pass)),
  );
  t.equal(report.phases.length, 5);
  t.ok(report.phases.find((p) => p.name === 'spike')!.sent > report.phases.find((p) => p.name === 'base')!.sent);

  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = await writeReports(report, dir, 'spike');
  const json = JSON.parse(await readFile(files.json, 'utf8')) as Record<string, unknown>;
  for (const field of [
    'scenario',
    'phases',
    'total',
    'timeline',
    'metrics',
    'uniqueKeys',
    'generator',
    'memory',
    'recovery',
    'checks',
  ]) {
    t.ok(field in json, `JSON has ${field}`);
  }
  const html = await readFile(files.html, 'utf8');
  t.match(html, /<svg[^>]*>[\s\S]*Throughput/);
  t.match(html, /Latency percentiles/);
  t.match(html, /Status over time/);
  for (const phase of ['base', 'ramp', 'spike', 'return', 'recovery'])
    t.match(html, new RegExp(`data-phase="${phase}"`), `phase ${phase} shaded`);
  t.equal((html.match(/<svg /g) ?? []).length, 5, 'five charts');
  t.match(textSummary(report), /PASS {2}no 5xx other than shedding/);
});

t.test('errors are counted apart from shedding and fail the checks', async (t) => {
  const fake = await startFake({ failFirst: 3 });
  t.teardown(() => fake.app.close());
  const scenario = scaleScenario(SCENARIOS.baseline, { baseRate: 20, timeScale: 0.01 });
  const report = await runScenario({ baseUrl: fake.url, scenario, keys, verify: 'none' });
  t.equal(report.total.classes.serverError, 3);
  t.equal(report.total.classes.shed, 0);
  t.equal(report.checks.find((c) => c.name.startsWith('no 5xx'))?.pass, false);
  t.match(toHtml(report), /class="fail"/);
});

t.test('a dead target gives network errors, not a hang', async (t) => {
  const scenario = scaleScenario(SCENARIOS.baseline, { baseRate: 10, timeScale: 0.01 });
  const report = await runScenario({
    baseUrl: 'http://127.0.0.1:9',
    scenario,
    keys,
    verify: 'none',
    metrics: false,
    timeoutMs: 2000,
  });
  t.equal(report.total.classes.networkError, report.total.sent);
  t.equal(report.healthAfter.status, 0);
});
