// The spike smoke: a tiny spike20x against the embedded stack (port 0, temp dataDir, its own
// process). Properties only, never timings: no 5xx other than shedding with Retry-After, every
// 200 decodes as an image of the size asked, Generator invocations never exceed unique keys,
// every render asked to keep an object in the derivatives bucket, the stack healthy after; and
// the instruments read the real stack (its /metrics, the Generator stages from Server-Timing, the
// CPU of its process tree).
import t from 'tap';
import { SCENARIOS, scaleScenario } from '../scenarios/definitions.js';
import { EMBEDDED_SCALE } from '../runner/cli.js';
import { runScenario } from '../runner/run.js';
import { startEmbeddedStack } from '../runner/stack.js';

t.test('spike20x smoke against the embedded stack', { timeout: 120_000 }, async (t) => {
  const stack = await startEmbeddedStack();
  t.teardown(() => stack.close());
  const scenario = scaleScenario(SCENARIOS.spike20x, EMBEDDED_SCALE.smoke);
  const report = await runScenario({
    baseUrl: stack.url,
    scenario,
    verify: 'all',
    embedded: true,
    lambdaStats: stack.lambdaStats,
    stackPid: stack.pid,
    store: stack.store,
  });
  const c = report.total.classes;
  t.ok(report.total.sent > 50, `${report.total.sent} requests sent`);
  t.ok(c.ok > 0, `${c.ok} images served`);

  const fiveHundreds = Object.entries(report.total.statuses).filter(([s]) => Number(s) >= 500);
  t.equal(
    c.serverError,
    0,
    `no 5xx other than shedding with Retry-After (5xx seen: ${JSON.stringify(fiveHundreds)}, shed ${c.shed})`,
  );
  t.equal(c.networkError, 0, 'no network errors or time-outs');
  t.equal(c.clientError, 0, `no 4xx: ${JSON.stringify(report.total.statuses)}`);
  t.equal(report.verification.skipped, 0, 'every 200 was kept for decoding');
  t.equal(report.verification.checked, c.ok, 'every 200 decoded');
  t.same(report.verification.failures, [], 'each is an image of the size and format asked');

  // Renders as the Preprocessor counts them; each render keeps itself, so the Lambda endpoint runs
  // no invocation of its own for a store write.
  const renders = report.generator.invocations;
  t.ok(renders !== undefined, 'the Preprocessor counted renders');
  t.ok((renders ?? Infinity) <= report.uniqueKeys, `renders ${renders} ≤ unique keys ${report.uniqueKeys}`);
  const lambda = report.generator.lambdaInvocations;
  t.ok(lambda !== undefined, 'the Lambda endpoint counted invocations');
  t.ok((lambda ?? Infinity) <= (renders ?? 0), `Lambda invocations ${lambda} ≤ renders ${renders}`);
  // Every render asked to keep is an object in the derivatives bucket, counted after the last PUTs.
  const kept = report.generator.storeWrites ?? 0;
  t.ok(kept > 0 && kept <= (renders ?? 0), `${kept} of ${renders} renders asked to keep`);
  const stored = report.checks.find((c) => c.name === 'every render stored');
  t.equal(stored?.status, 'pass', stored?.detail ?? 'no such check');
  t.match(report.store, { written: kept, bucket: 'marquee-derivatives', prefix: 'derivatives/' });
  t.equal(report.healthAfter.status, 200, 'GET /healthz is 200 after the spike');

  t.ok(report.total.stages.render.count > 0, `${report.total.stages.render.count} renders timed from Server-Timing`);
  t.ok(report.total.stages.render.p95 <= report.total.stages.render.max, 'no stage percentile above its maximum');
  const origin = report.resources.reduce((n, r) => n + (r.originRequests ?? 0), 0);
  t.ok(origin > 0, `${origin} origin requests counted from the Preprocessor's /metrics`);
  const cpu = report.resources.map((r) => r.cpu).filter((c) => c !== undefined);
  t.ok(
    cpu.some((c) => (c.stackTree ?? 0) > 0 && (c.stackTree ?? 0) >= (c.stackMain ?? 0)),
    `the stack's process tree used CPU, at least its main process's: ${JSON.stringify(cpu)}`,
  );
  t.ok(report.memory.growth !== undefined, 'memory growth measured after the warm-up');
  if (c.shed > 0) t.ok(Object.keys(report.total.retryAfter).length > 0, 'Retry-After values of the shed replies');
  t.match(report.recovery.unjudgeable, /shorter than two|fewer than/, 'a smoke run is too short to judge recovery');
  t.ok(['pass', 'fail'].includes(report.verdict), `verdict ${report.verdict}`);
});
