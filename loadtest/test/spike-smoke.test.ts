// The spike smoke: a tiny spike20x against the embedded stack (port 0, temp dataDir, its own
// process). Properties only, never timings: no 5xx other than shedding with Retry-After, every
// 200 decodes as an image of the size asked, Generator invocations never exceed unique keys,
// the stack healthy after.
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

  const invocations = report.generator.lambdaInvocations;
  t.ok(invocations !== undefined, 'the Lambda endpoint counted invocations');
  t.ok(
    (invocations ?? Infinity) <= report.uniqueKeys,
    `Generator invocations ${invocations} ≤ unique keys ${report.uniqueKeys}`,
  );
  if (report.generator.invocations !== undefined) {
    t.ok(
      report.generator.invocations <= report.uniqueKeys,
      `/metrics invocations ${report.generator.invocations} ≤ unique keys`,
    );
  }
  t.equal(report.healthAfter.status, 200, 'GET /healthz is 200 after the spike');
});
