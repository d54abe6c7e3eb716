/**
 * The bootstrap of one local execution environment: a child process that
 * imports the handler module once (the init phase) and then runs one
 * invocation at a time, as the endpoint sends them over IPC.
 *
 * Crashes are deliberately not caught: an uncaught exception, an unhandled
 * rejection, `process.exit` or an out-of-memory abort ends this process, and
 * the endpoint answers `Runtime.ExitError`, as Lambda does. Memory past the
 * function's limit is the endpoint's to police (it SIGKILLs this process and
 * answers `Runtime.OutOfMemory`): nothing here can see native allocations.
 */
import { basename, isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  LOG_END_MARK,
  type ChildMessage,
  type FunctionErrorBody,
  type InvokeMessage,
  type ParentMessage,
} from './protocol.js';
import type { Callback } from 'aws-lambda';
import { runtimeIdentity, type LambdaContext } from './runtime-context.js';
import { ResponseStream, installAwsLambdaGlobal, isStreamingHandler } from './response-stream.js';

type Handler = (event: unknown, context: LambdaContext, callback: Callback<unknown>) => unknown;
type StreamingHandler = (event: unknown, stream: ResponseStream, context: LambdaContext) => unknown;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** Sends an invocation's outcome once its log lines are on the stdout pipe, followed by the end mark. */
function answer(requestId: string, message: ChildMessage): void {
  process.stdout.write(`${LOG_END_MARK}${requestId}\n`, () => send(message));
}

function errorBody(err: unknown): FunctionErrorBody {
  if (err instanceof Error) {
    return { errorType: err.name, errorMessage: err.message, trace: err.stack?.split('\n') ?? [] };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

/** Init errors carry Lambda's runtime error types, so a missing module reads as it does on AWS. */
function initErrorBody(err: unknown, handlerName: string): FunctionErrorBody {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND') {
    return {
      ...errorBody(err),
      errorType: 'Runtime.ImportModuleError',
      errorMessage: `Error: Cannot find module '${handlerName}'`,
    };
  }
  if (err instanceof SyntaxError) return { ...errorBody(err), errorType: 'Runtime.UserCodeSyntaxError' };
  return errorBody(err);
}

async function loadHandler(modulePath: string, exportName: string): Promise<Handler> {
  const mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown> & {
    default?: Record<string, unknown>;
  };
  const fn = mod[exportName] ?? mod.default?.[exportName];
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${basename(modulePath)}.${exportName} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return fn as Handler;
}

/** Calls a handler that returns a promise, a value, or (with three parameters) answers through a callback. */
function call(handler: Handler, event: unknown, context: LambdaContext): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // Lambda reports whatever the handler gave the callback as its error (a string too), so the
    // value is passed on as it is rather than wrapped in an Error that would change its errorType.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const callback = (err: unknown, result?: unknown): void => (err ? reject(err) : resolve(result));
    const out = handler(event, context, callback);
    if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
      (out as PromiseLike<unknown>).then(resolve, reject);
    } else if (handler.length < 3) {
      resolve(out);
    }
  });
}

const identity = runtimeIdentity();

function contextFor(message: InvokeMessage): LambdaContext {
  return {
    ...identity,
    callbackWaitsForEmptyEventLoop: true,
    invokedFunctionArn: message.invokedFunctionArn,
    awsRequestId: message.requestId,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
}

/**
 * A streaming handler's invocation: its chunks go to the endpoint as it writes them; it is over
 * when the handler has settled (work after `end()`, such as a PUT, is still this invocation's,
 * as on Lambda). A stream the handler left open is ended for it.
 */
async function invokeStreaming(handler: Handler, message: InvokeMessage): Promise<void> {
  const { requestId } = message;
  const stream = new ResponseStream((data, contentType, done) => {
    const chunk: ChildMessage = { type: 'chunk', requestId, data, ...(contentType ? { contentType } : {}) };
    if (process.send === undefined) return done();
    process.send(chunk, (err: Error | null) => done(err));
  });
  try {
    const event: unknown = message.payload.length === 0 ? {} : JSON.parse(message.payload);
    await (handler as unknown as StreamingHandler)(event, stream, contextFor(message));
    if (!stream.writableEnded) await new Promise<void>((resolve) => stream.end(() => resolve()));
  } catch (err) {
    answer(requestId, { type: 'error', requestId, error: errorBody(err) });
    return;
  }
  answer(requestId, { type: 'result', requestId, payload: '' });
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<void> {
  const { requestId } = message;
  if (isStreamingHandler(handler)) return invokeStreaming(handler, message);
  let result: unknown;
  try {
    const event: unknown = message.payload.length === 0 ? {} : JSON.parse(message.payload);
    result = await call(handler, event, contextFor(message));
  } catch (err) {
    answer(requestId, { type: 'error', requestId, error: errorBody(err) });
    return;
  }
  let payload: string;
  try {
    // Lambda answers `null` for a handler that returns nothing.
    payload = JSON.stringify(result) ?? 'null';
  } catch (err) {
    answer(requestId, { type: 'error', requestId, error: { ...errorBody(err), errorType: 'Runtime.MarshalError' } });
    return;
  }
  answer(requestId, { type: 'result', requestId, payload });
}

async function main(): Promise<void> {
  const [modulePath, exportName = 'handler'] = process.argv.slice(2);
  if (modulePath === undefined || !isAbsolute(modulePath))
    throw new Error('runtime: expected an absolute handler module path');
  // The endpoint going away (even killed) closes the channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
  installAwsLambdaGlobal();

  let handler: Handler;
  try {
    handler = await loadHandler(modulePath, exportName);
  } catch (err) {
    send({ type: 'init-error', error: initErrorBody(err, basename(modulePath)) });
    return;
  }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'invoke') void invoke(handler, message);
  });
  send({ type: 'ready' });
}

await main();
