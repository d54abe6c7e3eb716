import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputCache } from '../src/cache/output-cache.js';
import { SingleFlight } from '../src/cache/single-flight.js';
import { etagMatches } from '../src/images.js';

const image = (bytes: number) => ({
  body: Buffer.alloc(bytes),
  contentType: 'image/jpeg',
  width: 1,
  height: 1,
  etag: '"x"',
  contentLength: String(bytes),
});

t.test('the output cache is bounded in bytes, not entries', async (t) => {
  const cache = new OutputCache(10_000, 5_000);
  for (let i = 0; i < 20; i++) cache.set(`k${i}`, image(1_000));
  t.ok(cache.bytes <= 10_000, `bytes ${cache.bytes} within bound`);
  t.ok(cache.entries < 20);
  t.ok(cache.get('k19'), 'most recent kept');
  t.notOk(cache.get('k0'), 'oldest evicted');
  cache.set('big', image(6_000));
  t.notOk(cache.get('big'), 'an entry over the per-entry cap is not kept');
});

t.test('a zero-byte cache keeps nothing', async (t) => {
  const cache = new OutputCache(0, 0);
  cache.set('a', image(10));
  t.notOk(cache.get('a'));
});

t.test('single flight: concurrent callers share one run; failures are not remembered', async (t) => {
  const flights = new SingleFlight<number>();
  let runs = 0;
  const work = async () => {
    runs++;
    await sleep(20);
    return 42;
  };
  const calls = Array.from({ length: 20 }, () => flights.run('k', work));
  t.equal(calls.filter((c) => !c.shared).length, 1);
  t.same(await Promise.all(calls.map((c) => c.promise)), Array(20).fill(42));
  t.equal(runs, 1);
  t.equal(flights.size, 0);

  const failing = flights.run('f', async () => {
    throw new Error('boom');
  });
  await t.rejects(failing.promise, /boom/);
  const again = flights.run('f', async () => 1);
  t.equal(again.shared, false, 'a failed key runs again');
  t.equal(await again.promise, 1);
});

t.test('If-None-Match: lists, weak tags; star is not taken on trust', async (t) => {
  t.ok(etagMatches('"abc"', '"abc"'));
  t.ok(etagMatches('"x", W/"abc"', '"abc"'));
  t.notOk(etagMatches('*', '"abc"'), 'a 304 for * would claim artwork exists before rendering proved it');
  t.notOk(etagMatches('"abd"', '"abc"'));
  t.notOk(etagMatches(undefined, '"abc"'));
});
