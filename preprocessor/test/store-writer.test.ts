import t from 'tap';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MAX_EVENT_PAYLOAD_BYTES, parseStoreRequest } from '@marquee/shared';
import { createMetrics } from '../src/plugins/metrics.js';
import { StoreWriter, eventBytes, type StoreWrite } from '../src/store/writer.js';
import { gate } from './store-harness.js';

/** The store writer's bounds: the event payload limit, the queue, one warning per outage. */

function write(n: number, bytes = 100): StoreWrite {
  return {
    id: `req-${n}`,
    target: { bucket: 'marquee-derivatives', key: `derivatives/${String(n).padStart(32, '0')}.jpg` },
    contentType: 'image/jpeg',
    width: 10,
    height: 10,
    body: Buffer.alloc(bytes, 0xff),
  };
}

function setup(
  options: { fail?: () => boolean; hold?: () => Promise<void>; maxQueueBytes?: number; freeSlots?: () => number } = {},
) {
  const sent: InvokeCommand['input'][] = [];
  const warnings: string[] = [];
  const lambda = {
    async send(command: InvokeCommand) {
      await options.hold?.();
      if (options.fail?.()) throw Object.assign(new Error('Rate Exceeded.'), { name: 'TooManyRequestsException' });
      sent.push(command.input);
      return { StatusCode: 202 };
    },
  } as unknown as LambdaClient;
  const metrics = createMetrics();
  const writer = new StoreWriter({
    lambda,
    functionName: 'marquee-generator',
    qualifier: 'live',
    maxQueueBytes: options.maxQueueBytes ?? 10_000,
    ...(options.freeSlots ? { freeSlots: options.freeSlots } : {}),
    metrics,
    logger: { info: () => {}, warn: (_obj, msg) => warnings.push(msg ?? '') },
  });
  const count = async (result: string) =>
    (await metrics.storeWrites.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return { writer, sent, warnings, count, metrics };
}

t.test('an Event invocation per write, carrying a valid store request', async (t) => {
  const { writer, sent, count } = setup();
  writer.enqueue(write(1));
  t.equal(sent.length, 0, 'nothing is sent in the caller’s turn');
  await writer.idle();
  t.equal(sent.length, 1);
  t.equal(sent[0]?.InvocationType, 'Event');
  t.equal(sent[0]?.FunctionName, 'marquee-generator');
  t.equal(sent[0]?.Qualifier, 'live');
  const request = parseStoreRequest(JSON.parse(Buffer.from(sent[0]!.Payload as Uint8Array).toString('utf8')));
  t.match(request, { v: 1, kind: 'store', id: 'req-1', contentType: 'image/jpeg', width: 10, height: 10 });
  t.same(Buffer.from(request.body, 'base64'), write(1).body);
  t.equal(
    eventBytes(write(1)),
    (sent[0]!.Payload as Uint8Array).length,
    'the size computed without building it is the size sent',
  );
  t.equal(await count('sent'), 1);
});

t.test('a write whose event would pass the payload limit is skipped, counted', async (t) => {
  const { writer, sent, count } = setup({ maxQueueBytes: 10 * 1024 * 1024 });
  // Base64 grows 4/3: this body alone fits 1 MB raw, not encoded.
  writer.enqueue(write(1, Math.floor(MAX_EVENT_PAYLOAD_BYTES * 0.8)));
  writer.enqueue(write(2, Math.floor(MAX_EVENT_PAYLOAD_BYTES * 0.7)));
  await writer.idle();
  t.equal(await count('skipped'), 1);
  t.equal(sent.length, 1, 'the one that fits is sent');
  t.ok((sent[0]!.Payload as Uint8Array).length <= MAX_EVENT_PAYLOAD_BYTES);
});

t.test('a full queue drops writes (counted); the same object is queued once', async (t) => {
  const held = gate();
  const { writer, sent, count, metrics } = setup({ hold: held.wait, maxQueueBytes: 1000 });
  for (let n = 1; n <= 15; n++) writer.enqueue(write(n));
  writer.enqueue(write(1));
  t.equal(writer.size, 10, '10 of 100 bytes fit in 1000');
  t.equal(await count('dropped'), 5);
  t.equal((await metrics.storeQueueBytes.get()).values[0]?.value, 1000);
  held.open();
  await writer.idle();
  t.equal(sent.length, 10, 'the duplicate was not queued');
  t.equal((await metrics.storeQueueBytes.get()).values[0]?.value, 0);
});

t.test('failures are counted, and logged once until a write works again', async (t) => {
  let failing = true;
  const { writer, warnings, count } = setup({ fail: () => failing });
  for (let n = 1; n <= 3; n++) writer.enqueue(write(n));
  await writer.idle();
  t.equal(await count('failed'), 3);
  t.equal(warnings.length, 1, 'one warning');
  failing = false;
  writer.enqueue(write(4));
  await writer.idle();
  t.equal(await count('sent'), 1);
});

t.test('close drains what it can within the grace, then drops the rest', async (t) => {
  const held = gate();
  const { writer, count } = setup({ hold: held.wait });
  for (let n = 1; n <= 6; n++) writer.enqueue(write(n));
  await writer.close(50);
  t.equal(await count('dropped'), 2, 'the queued ones beyond the four in flight');
  held.open();
  await writer.idle();
  t.equal(await count('sent'), 4);
  writer.enqueue(write(7));
  t.equal(writer.size, 0, 'closed: nothing more is taken');
});

t.test('store requests wait while live renders hold every Generator slot', async (t) => {
  let free = 0;
  const { writer, sent } = setup({ freeSlots: () => free });
  for (let n = 1; n <= 3; n++) writer.enqueue(write(n));
  await new Promise((resolve) => setTimeout(resolve, 120));
  t.equal(sent.length, 0, 'nothing sent while no slot is free');
  t.equal(writer.size, 3, 'still queued');
  free = 1;
  await writer.idle();
  t.equal(sent.length, 3, 'sent once a slot frees up');
});
