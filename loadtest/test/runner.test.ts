// The runner end to end against a stand-in Preprocessor (test/fake-preprocessor.ts): the
// open-model load, the classification, /metrics sampling, verification and the reports.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SCENARIOS, scaleScenario } from '../scenarios/definitions.js';
import { applySlo } from '../scenarios/limits.js';
import { SEEDED_UNIVERSE, enumerateKeys } from '../scenarios/universe.js';
import { runScenario } from '../runner/run.js';
import { writeReports, textSummary, toHtml } from '../runner/report.js';
import { parsePrometheus, pointFrom, sumMetric } from '../runner/metrics.js';
import { startFake } from './fake-preprocessor.js';

const keys = enumerateKeys(SEEDED_UNIVERSE);

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

  // What a point keeps: origin requests of the artwork route only, renders without throttled
  // attempts, renders asked to keep, and per-stage histograms when the Preprocessor exports them.
  const point = pointFrom(
    parsePrometheus(
      [
        'marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="200"} 90',
        'marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="503"} 10',
        'marquee_http_requests_total{route="/healthz",status="200"} 5',
        'marquee_generator_invocations_total{outcome="ok"} 40',
        'marquee_generator_invocations_total{outcome="throttled"} 7',
        'marquee_store_writes_total 38',
        'marquee_generator_stage_seconds_sum{stage="render"} 4',
        'marquee_generator_stage_seconds_count{stage="render"} 40',
        'marquee_generator_stage_seconds_bucket{stage="render",le="0.1"} 30',
      ].join('\n'),
    ),
    1,
  );
  t.equal(point.originRequests, 100);
  t.equal(point.generatorInvocations, 40);
  t.equal(point.throttled, 7);
  t.equal(point.storeWrites, 38);
  t.same(point.stageSeconds, { render: { sum: 4, count: 40 } });
});

t.test('a small spike against the stand-in: properties, reports', async (t) => {
  // 60/s of 300 ms renders is about 18 in flight before the cache warms: past 4, shed on any machine.
  const fake = await startFake({ maxInFlight: 4, renderDelayMs: 300 });
  t.teardown(() => fake.app.close());
  // No shedding allowed at all: the verdict must then fail on the spike's shedding, whatever the timing.
  const scenario = applySlo(scaleScenario(SCENARIOS.spike20x, { baseRate: 3, timeScale: 0.03, maxInFlight: 100 }), [
    { key: 'maxShedRate', value: 0 },
  ]);
  const report = await runScenario({ baseUrl: fake.url, scenario, keys, verify: 'all' });

  const c = report.total.classes;
  t.ok(report.total.sent > 100, `sent ${report.total.sent}`);
  t.equal(c.ok + c.shed + c.dropped, report.total.sent, 'every request is a 200 or shed');
  t.ok(c.shed > 0, `the spike is shed past 4 renders in flight (${c.shed})`);
  t.equal(c.serverError, 0);
  t.ok((report.total.xCache.hit ?? 0) > 0, `Zipf repeats hit the cache (${report.total.xCache.hit ?? 0} hits)`);
  t.equal(report.verification.failures.length, 0);
  t.equal(report.verification.checked, c.ok, 'every 200 decoded');
  t.equal(report.generator.invocations, fake.invocations(), 'invocations from /metrics');
  t.ok(report.metrics.points.length >= 3, 'metrics sampled during the run');
  // Every property holds; the store is not counted without a bucket to list (test/store.test.ts lists one).
  const properties = report.checks.filter((x) => x.kind === 'property' && x.name !== 'every render stored');
  t.ok(
    properties.every((x) => x.status === 'pass'),
    JSON.stringify(properties.filter((x) => x.status !== 'pass')),
  );
  t.equal(report.checks.find((x) => x.name === 'every render stored')?.status, 'skip', 'no bucket: not measured');
  t.equal(report.phases.length, 6);
  t.ok(report.phases.find((p) => p.name === 'spike')!.sent > report.phases.find((p) => p.name === 'base')!.sent);
  // Shedding past 4 renders is over a budget of none: the verdict says so.
  const spikeShed = report.checks.find((x) => x.scope === 'spike' && x.key === 'maxShedRate');
  t.equal(spikeShed?.status, 'fail', `spike shed ${spikeShed?.figure} % > ${spikeShed?.limit} %`);
  t.equal(report.verdict, 'fail');
  t.equal(report.checks.filter((x) => x.scope === 'warm-up').length, 0, 'the warm-up is not judged');
  const spike = report.phases.find((p) => p.name === 'spike')!;
  t.ok((spike.retryAfter['1'] ?? 0) > 0, `Retry-After values seen: ${JSON.stringify(spike.retryAfter)}`);
  t.ok(report.total.stages.render.count > 0, `renders timed from Server-Timing: ${report.total.stages.render.count}`);
  t.ok(
    report.resources.some((r) => (r.originRequests ?? 0) > 0),
    'origin requests per phase from /metrics',
  );
  t.ok(
    report.resources.some((r) => r.cpu?.loadGen !== undefined),
    'the load generator CPU per phase',
  );

  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = await writeReports(report, dir, 'spike');
  const json = JSON.parse(await readFile(files.json, 'utf8')) as Record<string, unknown>;
  t.equal(json.verdict, 'fail');
  for (const field of [
    'scenario',
    'verdict',
    'resources',
    'usage',
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
  t.match(html, /Replies by class/);
  for (const phase of ['warm-up', 'base', 'ramp', 'spike', 'return', 'recovery'])
    t.match(html, new RegExp(`data-phase="${phase}"`), `phase ${phase} shaded`);
  t.equal((html.match(/<svg /g) ?? []).length, 7, 'seven charts');
  t.ok(html.indexOf('class="verdict fail"') < html.indexOf('<h2>'), 'the verdict comes before everything else');
  t.match(html, /<th>p95 ms<\/th>/, 'p95 in the latency table');
  const text = textSummary(report);
  t.match(text.split('\n')[0], /^VERDICT: FAIL — \d+ of \d+ checks passed.*spike shed rate/);
  t.match(text, /FAIL {2}spike +shed rate +[\d.]+ % > 0 % +\(\d+ shed of \d+ requests\)/);
  t.match(text, /PASS {2}run +healthy after/);
});

t.test('errors are counted apart from shedding and fail the checks', async (t) => {
  const fake = await startFake({ failFirst: 3 });
  t.teardown(() => fake.app.close());
  // No warm-up here: errors in a warm-up would be reported but not judged.
  const scenario = {
    ...scaleScenario(SCENARIOS.baseline, { baseRate: 20, timeScale: 0.01 }),
    phases: [{ name: 'steady', durationS: 3, fromX: 1, toX: 1 }],
  };
  const report = await runScenario({ baseUrl: fake.url, scenario, keys, verify: 'none' });
  t.equal(report.total.classes.serverError, 3);
  t.equal(report.total.classes.shed, 0);
  // 3 errors among the first requests: well past the 1 % budget of whichever phase they fall in.
  const failed = report.checks.filter((c) => c.key === 'maxErrorRate' && c.status === 'fail');
  t.ok(failed.length > 0, JSON.stringify(report.checks.filter((c) => c.key === 'maxErrorRate')));
  t.equal(report.verdict, 'fail');
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
