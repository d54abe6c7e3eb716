import t from 'tap';
import { Scheduler, type Priority } from '../src/lambda/scheduler.js';

const bounds = { live: 4, studio: 4, prewarm: 100 };

/** Whose acquire resolved, in order. */
function recorder() {
  const order: string[] = [];
  const wait = (s: Scheduler, priority: Priority, name: string, waitMs = 1000) =>
    s.acquire(priority, waitMs).then((release) => {
      order.push(name);
      return release;
    });
  return { order, wait };
}

t.test('holders up to the slots, then a bounded queue per priority, then refusal with Retry-After', async (t) => {
  const s = new Scheduler({ slots: 2, maxQueue: { live: 1, studio: 1, prewarm: 1 }, prewarmSlots: 1 });
  const a = await s.acquire('live', 1000);
  await s.acquire('live', 1000);
  t.equal(s.inUse, 2);
  const waiting = s.acquire('live', 1000);
  t.equal(s.queued, 1);
  await t.rejects(s.acquire('live', 1000), { code: 'OVERLOADED', status: 503, retryAfter: 1 }, 'queue full');
  a();
  a();
  t.equal(s.inUse, 2, 'a release is counted once, however often it is called');
  (await waiting)();
  t.equal(s.inUse, 1);
});

t.test('a waiter gives up after its wait and leaves the queue', async (t) => {
  const s = new Scheduler({ slots: 1, maxQueue: bounds, prewarmSlots: 1 });
  const held = await s.acquire('live', 10);
  await t.rejects(s.acquire('live', 20), { code: 'OVERLOADED' });
  t.equal(s.queued, 0);
  await t.rejects(s.acquire('live', 0), { code: 'OVERLOADED' }, 'no wait allowed: refused');
  held();
  (await s.acquire('live', 0))();
});

t.test('a released slot goes to live, then studio, then prewarm, whatever the arrival order', async (t) => {
  const s = new Scheduler({ slots: 1, maxQueue: bounds, prewarmSlots: 1 });
  const { order, wait } = recorder();
  const first = await s.acquire('live', 1000);
  const p = wait(s, 'prewarm', 'prewarm', Number.POSITIVE_INFINITY);
  const st = wait(s, 'studio', 'studio');
  const l = wait(s, 'live', 'live');
  first();
  (await l)();
  (await st)();
  (await p)();
  t.same(order, ['live', 'studio', 'prewarm']);
});

t.test('prewarm never holds more than its share, and a live miss never waits behind it', async (t) => {
  const s = new Scheduler({ slots: 4, maxQueue: bounds, prewarmSlots: 1 });
  const p1 = await s.acquire('prewarm', Number.POSITIVE_INFINITY);
  let second = false;
  const p2 = s.acquire('prewarm', Number.POSITIVE_INFINITY).then((r) => ((second = true), r));
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(second, 'a second prewarm waits though three slots are free');
  const lives = await Promise.all([s.acquire('live', 10), s.acquire('live', 10), s.acquire('live', 10)]);
  t.equal(s.held('live'), 3, 'live takes every slot prewarm may not');
  t.equal(s.held('prewarm'), 1);
  lives[0]?.();
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(second, 'a freed slot is not prewarm’s while its share is held');
  p1();
  (await p2)();
  t.ok(second, 'its share freed, the next prewarm goes');
  for (const r of lives) r();
});

t.test('no caller slips in ahead of a waiter of its priority or higher', async (t) => {
  const s = new Scheduler({ slots: 1, maxQueue: bounds, prewarmSlots: 1 });
  const { order, wait } = recorder();
  const held = await s.acquire('live', 1000);
  const waiter = wait(s, 'live', 'waiter');
  held();
  // The slot is the waiter's from the release on: a newcomer cannot take it in between.
  const newcomer = wait(s, 'live', 'newcomer');
  (await waiter)();
  (await newcomer)();
  t.same(order, ['waiter', 'newcomer']);
  const studio = await s.acquire('studio', 1000);
  const live = wait(s, 'live', 'live');
  studio();
  (await live)();
  const idle = await s.acquire('prewarm', 0);
  t.equal(s.held('prewarm'), 1, 'with nothing held or waiting, even prewarm goes at once');
  idle();
});
