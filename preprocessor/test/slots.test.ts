import t from 'tap';
import { Slots } from '../src/generator/slots.js';

t.test('holders up to max, then a bounded FIFO queue, then refusal', async (t) => {
  const slots = new Slots(2, 1);
  await slots.acquire(1000);
  await slots.acquire(1000);
  t.equal(slots.inUse, 2);
  let third = false;
  const waiting = slots.acquire(1000).then(() => (third = true));
  t.equal(slots.queued, 1);
  await t.rejects(
    slots.acquire(1000),
    { code: 'OVERLOADED', status: 503, retryAfter: 1 },
    'queue full: refused at once',
  );
  slots.release();
  await waiting;
  t.ok(third, 'the waiter got the released slot');
  t.equal(slots.inUse, 2);
  slots.release();
  slots.release();
  t.equal(slots.inUse, 0);
});

t.test('a waiter gives up after its wait and leaves the queue', async (t) => {
  const slots = new Slots(1, 5);
  await slots.acquire(10);
  await t.rejects(slots.acquire(20), { code: 'OVERLOADED' });
  t.equal(slots.queued, 0);
  await t.rejects(slots.acquire(0), { code: 'OVERLOADED' }, 'no wait allowed: refused');
  slots.release();
  await slots.acquire(0);
  t.equal(slots.inUse, 1);
});
