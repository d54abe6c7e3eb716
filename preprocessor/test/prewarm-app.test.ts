import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CATALOG, metric, startStoreHarness, until } from './store-harness.js';

/**
 * Prewarm on a catalog reload, through the app: a new title's warm set is rendered into the store
 * within the prewarm share of the Generator slots while live requests are served, and each of its
 * canonical URLs is then answered from the store without a Generator invocation.
 */

const h = await startStoreHarness({
  // Prewarm renders take a little while, so that live requests overlap them.
  double: { renderGate: (request) => (request.store ? sleep(30) : Promise.resolve()) },
});
t.teardown(() => h.close());
const app = await h.start({ generator: { maxInFlight: 4 }, prewarm: { share: 0.5 } });
await app.ready();

t.test('a catalog reload with a new title prewarms its warm set, then serves it from the store', async (t) => {
  t.equal(app.prewarm?.limit, 2, 'half of 4 slots');
  const next = structuredClone(CATALOG) as { titles: Record<string, unknown> };
  next.titles.t2 = {
    name: 'New Release',
    artwork: { boxshot: { en: { source: 'titles/t2/boxshot/en.jpg', version: '7' } } },
  };
  await writeFile(h.catalogFile, JSON.stringify(next));
  const changed = await app.rulesPoller.reload();
  t.same(changed, { rules: false, catalog: true });

  // Live traffic while the prewarm runs: never shed for it.
  const live = await Promise.all(
    ['171x256', '342x513', '684x1026', '171x256@2x', '342x513@2x'].map((size) =>
      app.inject({ method: 'GET', url: `/v1/artwork/boxshot/t1/${size}.jpg` }),
    ),
  );
  t.same(
    live.map((r) => r.statusCode),
    [200, 200, 200, 200, 200],
    'live misses answered during the prewarm',
  );

  await until(
    async () =>
      (await metric(app, 'marquee_prewarm_queued_total')) > 0 &&
      app.prewarm?.pending === 0 &&
      (await metric(app, 'marquee_prewarm_rendered_total')) === (await metric(app, 'marquee_prewarm_queued_total')),
    'the prewarm',
  );
  // boxshot's default prewarm: 3 sizes × 1x, 2x × avif, webp, jpeg; 342x513@2x is 684x1026.
  t.equal(await metric(app, 'marquee_prewarm_rendered_total'), 15);
  t.equal(await metric(app, 'marquee_prewarm_failed_total'), 0);
  t.ok(h.calls.maxPrewarmInFlight >= 1 && h.calls.maxPrewarmInFlight <= 2, 'at most the share in flight');
  t.ok(h.calls.maxInFlight <= 4, 'live and prewarm together within the slots');
  const prewarmed = h.calls.renders.filter((r) => r.store === true);
  t.equal(prewarmed.length, 15);
  t.ok(
    prewarmed.every((r) => 's3' in r.source && r.source.s3.key === 'titles/t2/boxshot/en.jpg' && r.version === '7'),
    'only the new artwork',
  );

  const invocations = h.calls.renders.length;
  const before = await metric(app, 'marquee_generator_invocations_total', { outcome: 'ok' });
  const seen = new Set<string>();
  for (const size of ['171x256', '342x513', '684x1026', '171x256@2x', '342x513@2x', '684x1026@2x']) {
    for (const ext of ['avif', 'webp', 'jpg']) {
      const res = await app.inject({ method: 'GET', url: `/v1/artwork/boxshot/t2/${size}.${ext}` });
      const etag = String(res.headers.etag);
      // 342x513@2x is the image 684x1026 is: its second URL finds it in the output cache.
      const expected = seen.has(etag) ? 'hit' : 'store';
      seen.add(etag);
      t.equal(
        res.headers['x-cache'],
        expected,
        `${size}.${ext} from the ${expected === 'hit' ? 'output cache' : 'store'}`,
      );
    }
  }
  t.equal(seen.size, 15);
  t.equal(h.calls.renders.length, invocations, 'no Generator invocation');
  t.equal(await metric(app, 'marquee_generator_invocations_total', { outcome: 'ok' }), before);

  // Outside the warm set (3x is not prewarmed by default): rendered on demand.
  const outside = await app.inject({ method: 'GET', url: '/v1/artwork/boxshot/t2/171x256@3x.jpg' });
  t.equal(outside.headers['x-cache'], 'miss');
  t.equal(h.calls.renders.length, invocations + 1);

  // A reload that changes nothing prewarms nothing more.
  await writeFile(h.catalogFile, JSON.stringify({ ...next, titles: { ...next.titles } }, null, 1));
  await app.rulesPoller.reload();
  await sleep(20);
  t.equal(await metric(app, 'marquee_prewarm_queued_total'), 15, 'nothing new queued');
});
