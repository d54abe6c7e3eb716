import t, { type Test } from 'tap';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { buildApp } from '../src/app.js';
import { loadConfig, type ConfigOverrides } from '../src/config.js';
import { publicReason } from '../src/routes/health.js';

/**
 * What an operator used to imgproxy expects of the Preprocessor: metrics on a port of their own,
 * error and shed series at zero from the start, and a readiness probe that says why the rules or
 * the catalog are not current without naming where they live.
 */

const RULES = fileURLToPath(new URL('../config/rules.yaml', import.meta.url));
const CATALOG = {
  version: 1,
  titles: { t1: { name: 'T', artwork: { boxshot: { en: { source: 'titles/t1/boxshot/en.jpg', version: '1' } } } } },
};

/** Answers the readiness DryRun; nothing here renders. */
const lambda = {
  async send(command: InvokeCommand) {
    if (command.input.InvocationType === 'DryRun') return { StatusCode: 204 };
    throw new Error('not used');
  },
  destroy() {},
} as unknown as LambdaClient;

interface Setup {
  app: FastifyInstance;
  dir: string;
  rules: string;
  catalog: string;
}

async function setup(t: Test, overrides: ConfigOverrides = {}): Promise<Setup> {
  const dir = t.testdir();
  const rules = path.join(dir, 'rules.yaml');
  const catalog = path.join(dir, 'catalog.json');
  await copyFile(RULES, rules);
  await writeFile(catalog, JSON.stringify(CATALOG));
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      rules,
      catalog,
      reloadMs: 60_000,
      maxEventLoopDelayMs: 0,
      signingKey: 'signing-key-for-tests-0123456789',
      studioToken: 'studio-token-for-tests',
      ...overrides,
    },
    {},
  );
  const app = await buildApp(config, { logger: false, lambda });
  t.teardown(() => app.close());
  return { app, dir, rules, catalog };
}

/** The series a dashboard or an alert needs before the first error happens. */
const ZERO_SERIES = [
  'marquee_shed_total{reason="in_flight"} 0',
  'marquee_shed_total{reason="event_loop"} 0',
  'marquee_shed_total{reason="throttled"} 0',
  'marquee_generator_invocations_total{outcome="failed"} 0',
  'marquee_generator_invocations_total{outcome="throttled"} 0',
  'marquee_generator_errors_total{code="TIMEOUT"} 0',
  'marquee_generator_errors_total{code="GENERATOR_FAILED"} 0',
  'marquee_generator_errors_total{code="SOURCE_NOT_FOUND"} 0',
  'marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="502"} 0',
  'marquee_http_requests_total{route="/v1/artwork/:type/:titleId/:file",status="503"} 0',
];

t.test('by default /metrics is on the public port, error and shed series at zero', async (t) => {
  const { app } = await setup(t);
  const res = await app.inject('/metrics');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['cache-control'], 'no-store');
  for (const line of ZERO_SERIES) t.ok(res.body.split('\n').includes(line), line);
  t.equal(app.metricsUrl, undefined);
});

t.test('MARQUEE_METRICS_PORT: /metrics on its own port and not on the public one', async (t) => {
  const { app } = await setup(t, { metricsPort: 0 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const publicPort = (app.server.address() as { port: number }).port;
  t.match(app.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const metricsUrl = app.metricsUrl!;
  t.not(new URL(metricsUrl).port, String(publicPort), 'another port');

  const onPublic = await fetch(`http://127.0.0.1:${publicPort}/metrics`);
  t.equal(onPublic.status, 404, 'the public port has no /metrics');
  t.match(onPublic.headers.get('content-type'), /problem\+json/);

  const scraped = await fetch(metricsUrl);
  t.equal(scraped.status, 200);
  t.match(scraped.headers.get('content-type'), /^text\/plain/);
  t.equal(scraped.headers.get('cache-control'), 'no-store');
  const text = await scraped.text();
  for (const line of ZERO_SERIES) t.ok(text.split('\n').includes(line), line);
  // What the public port served is counted where the scraper reads.
  t.match(text, /marquee_http_requests_total\{route="unmatched",status="404"\} 1/);

  const other = await fetch(new URL('/readyz', metricsUrl));
  t.equal(other.status, 404, 'only /metrics on the metrics port');
  const post = await fetch(metricsUrl, { method: 'POST' });
  t.equal(post.status, 405);

  await app.close();
  await t.rejects(fetch(metricsUrl), 'closed with the app');
});

t.test('a metrics port that is taken stops the start', async (t) => {
  const { app: first } = await setup(t, { metricsPort: 0 });
  await first.ready();
  const taken = Number(new URL(first.metricsUrl!).port);
  const { app: second } = await setup(t, { metricsPort: taken });
  await t.rejects(async () => second.ready(), { code: 'EADDRINUSE' });
});

interface Ready {
  status: string;
  rules: {
    current: boolean;
    catalogEtag: string;
    notCurrent?: { rules?: { reason: string; since: string }; catalog?: { reason: string; since: string } };
  };
}

t.test('/readyz says why the rules or the catalog are not current, without locations', async (t) => {
  const { app, dir, rules, catalog } = await setup(t);
  const ready = async (): Promise<Ready> => {
    const res = await app.inject('/readyz');
    t.equal(res.statusCode, 200, 'the last good documents serve: still ready');
    t.notMatch(res.body, dir, 'no path in the probe');
    return res.json<Ready>();
  };

  const fine = await ready();
  t.equal(fine.rules.current, true);
  t.notOk(fine.rules.notCurrent, 'no reason while current');

  await writeFile(catalog, '{"version": 1, "titles": {');
  await app.rulesPoller.reload();
  const badCatalog = await ready();
  t.equal(badCatalog.rules.current, false);
  t.match(badCatalog.rules.notCurrent?.catalog?.reason, /^JSON syntax error/);
  t.notOk(badCatalog.rules.notCurrent?.rules, 'the rules are fine');
  t.ok(Date.parse(badCatalog.rules.notCurrent!.catalog!.since) > 0);

  const shipped = await readFile(RULES, 'utf8');
  await writeFile(rules, shipped.replace('sizes: [171x256,', 'sizes: [171-256,'));
  await app.rulesPoller.reload();
  const both = await ready();
  t.match(both.rules.notCurrent?.rules?.reason, /^\/types\/boxshot\/sizes\/0: .*171-256/, 'names the field at fault');
  t.ok(both.rules.notCurrent?.catalog);

  await copyFile(RULES, rules);
  await writeFile(catalog, JSON.stringify(CATALOG));
  await app.rulesPoller.reload();
  const fixed = await ready();
  t.equal(fixed.rules.current, true);
  t.notOk(fixed.rules.notCurrent);
});

t.test('a reason never carries the location, on S3 or a file', async (t) => {
  const at = new Date('2026-01-02T03:04:05Z');
  t.same(
    publicReason({
      location: 's3://secret-bucket/catalog.json',
      etag: '"x"',
      error: 's3://secret-bucket/catalog.json: not found (NoSuchKey)',
      errorAt: at,
    }),
    { reason: 'not found (NoSuchKey)', since: '2026-01-02T03:04:05.000Z' },
  );
  t.same(
    publicReason({
      location: '/srv/rules.yaml',
      etag: 'sha256:x',
      error: '/srv/rules.yaml: /types/boxshot/sizes/0: expected WxH, got "x" (see /srv/rules.yaml)',
      errorAt: at,
    })?.reason,
    '/types/boxshot/sizes/0: expected WxH, got "x" (see the document)',
  );
  t.equal(publicReason({ location: '/srv/rules.yaml', etag: 'x', error: undefined, errorAt: undefined }), undefined);
});
