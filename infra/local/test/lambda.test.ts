import t from 'tap';
import { request } from 'node:http';
import {
  GetFunctionCommand,
  InvokeCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  RequestTooLargeException,
} from '@aws-sdk/client-lambda';
import { MAX_SYNC_REQUEST_BYTES, MAX_SYNC_RESPONSE_BYTES } from '../lambda/index.js';
import { GENERATOR_RUNTIME } from '@marquee/shared';
import { harness, json } from './helpers.js';

t.test('a successful invocation answers the payload as Lambda does', async (t) => {
  const h = await harness(t, { echo: { memoryMb: 256, env: { FIXTURE_CUSTOM: 'yes' } } });
  const out = await h.invoke('echo', { hello: 'world' });
  t.equal(out.StatusCode, 200);
  t.equal(out.ExecutedVersion, '$LATEST');
  t.equal(out.FunctionError, undefined);
  const body = json(out) as Record<string, Record<string, unknown>>;
  t.same(body.event, { hello: 'world' });
  t.same(body.env, { name: 'echo', version: '$LATEST', memory: '256', region: 'us-east-1', custom: 'yes' });
  t.match(body.context, {
    awsRequestId: /^[0-9a-f-]{36}$/,
    functionName: 'echo',
    memoryLimitInMB: '256',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:echo',
  });
  const remaining = body.context?.remainingMs as number;
  t.ok(remaining > 0 && remaining <= 10_000, 'getRemainingTimeInMillis counts down from the timeout');
});

t.test('qualifiers and ARNs name the same function', async (t) => {
  const h = await harness(t, { echo: { publishAs: 'live' } });
  const byArn = await h.invoke('arn:aws:lambda:us-east-1:123456789012:function:echo', {});
  t.equal(byArn.StatusCode, 200);
  const aliased = await h.invoke('echo', {}, { Qualifier: 'live' });
  t.match((json(aliased) as { context: unknown }).context, { invokedFunctionArn: /:function:echo:live$/ });
});

t.test('cold start, then the warm environment is reused', async (t) => {
  const h = await harness(t, { echo: {} });
  const first = json(await h.invoke('echo', {})) as { pid: number; invocations: number };
  const second = json(await h.invoke('echo', {})) as { pid: number; invocations: number };
  t.equal(second.pid, first.pid, 'same process');
  t.equal(second.invocations, 2, 'module state survives between invocations');
  t.match(h.lambda.stats(), { invocations: 2, coldStarts: 1, environments: 1, busy: 0 });
  t.match(h.lambda.stats().functions.echo, { invocations: 2, coldStarts: 1 });
});

t.test('an idle environment is reaped and the next call is a cold start', async (t) => {
  const h = await harness(t, { echo: {} }, { idleMs: 50 });
  await h.invoke('echo', {});
  while (h.lambda.stats().environments > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await h.invoke('echo', {});
  t.equal(h.lambda.stats().coldStarts, 2);
});

t.test('beyond the concurrency limit the SDK raises TooManyRequestsException', async (t) => {
  const concurrency = 2;
  const h = await harness(t, { slow: {} }, { concurrency });
  // Occupy every environment first (waiting on the counters, not the clock), then one more call.
  const running = Array.from({ length: concurrency }, () => h.invoke('slow', { ms: 1000 }));
  while (h.lambda.stats().busy < concurrency) await new Promise((resolve) => setTimeout(resolve, 10));
  const err = await h.invoke('slow', { ms: 1 }).catch((e: unknown) => e);
  t.type(err, TooManyRequestsException);
  t.match(err, {
    name: 'TooManyRequestsException',
    Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    $metadata: { httpStatusCode: 429 },
  });
  const done = await Promise.all(running);
  t.ok(
    done.every((out) => out.StatusCode === 200 && out.FunctionError === undefined),
    'the running invocations complete',
  );
  t.match(h.lambda.stats(), { throttles: 1, coldStarts: concurrency, invocations: concurrency });
});

t.test('a handler that throws is a function error, and the environment stays warm', async (t) => {
  const h = await harness(t, { throws: {} });
  const out = await h.invoke('throws', {});
  t.equal(out.StatusCode, 200);
  t.equal(out.FunctionError, 'Unhandled');
  t.match(json(out), { errorType: 'TypeError', errorMessage: 'boom' });
  await h.invoke('throws', {});
  t.match(h.lambda.stats(), { coldStarts: 1, errors: 2, crashes: 0 });
});

t.test('a timeout kills the environment; the next invocation gets a fresh one', async (t) => {
  const h = await harness(t, { hang: { timeoutMs: 300 }, echo: {} });
  const out = await h.invoke('hang', {});
  t.equal(out.FunctionError, 'Unhandled');
  t.match(json(out), { errorType: 'Sandbox.Timedout', errorMessage: /Task timed out after 0\.30 seconds$/ });
  t.match(h.lambda.stats().functions.hang, { timeouts: 1, environments: 0 });
  const again = await h.invoke('hang', {});
  t.match(json(again), { errorType: 'Sandbox.Timedout' });
  t.match(h.lambda.stats().functions.hang, { timeouts: 2, coldStarts: 2 });
});

t.test('a crashing environment answers Runtime.ExitError and the endpoint survives', async (t) => {
  const h = await harness(t, { crash: {} });
  const first = json(await h.invoke('crash', {})) as { pid: number };
  const out = await h.invoke('crash', { crash: true });
  t.equal(out.FunctionError, 'Unhandled');
  t.match(json(out), { errorType: 'Runtime.ExitError', errorMessage: /exit status 3/ });
  const next = json(await h.invoke('crash', {})) as { pid: number };
  t.not(next.pid, first.pid, 'a fresh environment');
  t.match(h.lambda.stats(), { crashes: 1, coldStarts: 2 });
});

t.test('an uncaught exception after the reply does not count as capacity', async (t) => {
  // Regression guard: an environment that dies while warm must leave the pool, not block it.
  const h = await harness(t, { crash: { concurrency: 1 } });
  await h.invoke('crash', { throwLater: true });
  while (h.lambda.stats().environments > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const out = await h.invoke('crash', {});
  t.equal(out.FunctionError, undefined);
  t.equal(h.lambda.stats().coldStarts, 2);
});

t.test('a request payload over 6 MB is refused with 413', async (t) => {
  const h = await harness(t, { echo: {} });
  const payload = Buffer.alloc(MAX_SYNC_REQUEST_BYTES + 1, 0x20);
  payload[0] = 0x22;
  payload[payload.length - 1] = 0x22;
  const err = await h.client
    .send(new InvokeCommand({ FunctionName: 'echo', Payload: payload }))
    .catch((e: unknown) => e);
  t.type(err, RequestTooLargeException);
  t.match(err, { $metadata: { httpStatusCode: 413 } });
  t.equal(h.lambda.stats().invocations, 0);
});

t.test('a response payload over 6 MB is a Function.ResponseSizeTooLarge error', async (t) => {
  const h = await harness(t, { big: {} });
  const out = await h.invoke('big', { bytes: MAX_SYNC_RESPONSE_BYTES });
  t.equal(out.FunctionError, 'Unhandled');
  t.match(json(out), { errorType: 'Function.ResponseSizeTooLarge' });
  const fits = await h.invoke('big', { bytes: 1000 });
  t.equal(fits.FunctionError, undefined);
  t.equal(h.lambda.stats().coldStarts, 1, 'the environment survives');
});

t.test('an unknown function is a 404 ResourceNotFoundException', async (t) => {
  const h = await harness(t, { echo: {} });
  const err = await h.invoke('nope', {}).catch((e: unknown) => e);
  t.type(err, ResourceNotFoundException);
  t.match(err, { message: /Function not found: .*:function:nope/, $metadata: { httpStatusCode: 404 } });
  const config = await h.client.send(new GetFunctionCommand({ FunctionName: 'echo' }));
  t.match(config.Configuration, { FunctionName: 'echo', Runtime: GENERATOR_RUNTIME, Timeout: 10 });
});

t.test('DryRun answers 204 and Event answers 202 then runs', async (t) => {
  const h = await harness(t, { logs: {} });
  const dry = await h.invoke('logs', {}, { InvocationType: 'DryRun' });
  t.equal(dry.StatusCode, 204);
  t.equal(h.lambda.stats().invocations, 0);
  const event = await h.invoke('logs', { id: 'async-1' }, { InvocationType: 'Event' });
  t.equal(event.StatusCode, 202);
  while (!h.output().includes('async-1')) await new Promise((resolve) => setTimeout(resolve, 20));
  t.match(
    JSON.parse(h.output().trim().split('\n').at(-1) ?? ''),
    { msg: 'hello from the function', id: 'async-1' },
    'stdout passes through',
  );
});

t.test('LogType Tail returns the log tail', async (t) => {
  const h = await harness(t, { logs: {} });
  const out = await h.invoke('logs', { id: 'tail-1' }, { LogType: 'Tail' });
  const log = Buffer.from(out.LogResult ?? '', 'base64').toString();
  t.match(log, /START RequestId: .*\n.*tail-1.*\nEND RequestId/);
});

t.test('callback-style handlers work', async (t) => {
  const h = await harness(t, { callback: {} });
  t.same(json(await h.invoke('callback', {})), { called: true });
});

t.test('invalid JSON is a 400 InvalidRequestContentException', async (t) => {
  const h = await harness(t, { echo: {} });
  const err = await h.client
    .send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{nope') }))
    .catch((e: unknown) => e);
  t.match(err, { name: 'InvalidRequestContentException', $metadata: { httpStatusCode: 400 } });
});

t.test('a missing export is an init error, not a crash of the endpoint', async (t) => {
  const h = await harness(t, { missing: {} });
  const out = await h.invoke('missing', {});
  t.equal(out.FunctionError, 'Unhandled');
  t.match(json(out), { errorType: 'Runtime.HandlerNotFound' });
});

t.test('close() answers running invocations and leaves no child behind', async (t) => {
  const h = await harness(t, { hang: {} });
  const running = h.invoke('hang', {});
  while (h.lambda.stats().busy === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const pending = running.catch((e: unknown) => e);
  await h.lambda.close();
  t.match(h.lambda.stats(), { environments: 0, busy: 0 });
  const settled = await pending;
  t.ok(settled, 'the caller got an answer or an error, not a hang');
});

t.test('bad options stop start-up with a precise message', async (t) => {
  const { startLocalLambda } = await import('../lambda/index.js');
  await t.rejects(startLocalLambda({ functions: { f: { handler: 'relative.mjs' } } }), /absolute path/);
  await t.rejects(startLocalLambda({ functions: { f: { handler: '/no/such/module.mjs' } } }), /not found/);
  await t.rejects(startLocalLambda({ functions: { 'bad name': { handler: '/x' } } }), /invalid function name/);
});

t.test('unknown routes are 404 UnknownOperationException', async (t) => {
  const h = await harness(t, { echo: {} });
  const status = await new Promise<number | undefined>((resolve, reject) => {
    request(`${h.lambda.url}/2015-03-31/nothing`, (res) => {
      res.resume();
      resolve(res.statusCode);
    })
      .on('error', reject)
      .end();
  });
  t.equal(status, 404);
});
