import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { FunctionPool, zeroCounts, type LambdaCounters } from './pool.js';
import type { Outcome } from './environment.js';
import { isJsonText } from './json.js';
import { canWatchMemory } from './memory.js';
import {
  DEFAULTS,
  defaultLogger,
  resolveFunctions,
  type LocalLambdaOptions,
  type ResolvedFunction,
} from './options.js';
import { LOCAL_ACCOUNT_ID, LOG_TAIL_BYTES, MAX_EVENT_REQUEST_BYTES, MAX_SYNC_REQUEST_BYTES } from './limits.js';
import { invokeComplete, payloadChunk } from './event-stream.js';
import { MAX_STREAMED_RESPONSE_BYTES } from '@marquee/shared';
import { CodeStore } from './code.js';
import { control, isControlPath, type FunctionRef } from './control.js';
import { LambdaApiError, LocalFunction, type FunctionVersion } from './versions.js';
import { MAX_CODE_REQUEST_BYTES } from './limits.js';

export interface LambdaStats extends LambdaCounters {
  /** Per function, all its versions summed. */
  functions: Record<string, LambdaCounters>;
  /** Per function, per version (`$LATEST`, `1`, …). */
  versions: Record<string, Record<string, LambdaCounters>>;
}

export interface LocalLambda {
  /** `http://host:port`: the `endpoint` for `new LambdaClient({ endpoint })`. */
  url: string;
  port: number;
  /** Totals over every function, and per function under `functions`. */
  stats(): LambdaStats;
  /** Stops accepting invocations, lets running ones finish (briefly), kills every environment. */
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
/** InvokeWithResponseStream: the reply is an event stream of `PayloadChunk`s and one `InvokeComplete`. */
const STREAM_INVOKE_PATH = /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations\/?$/;
const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'] as const;
type InvocationType = (typeof INVOCATION_TYPES)[number];
/** A streamed invocation is synchronous: `Event` is not one of its types. */
const STREAM_INVOCATION_TYPES: readonly InvocationType[] = ['RequestResponse', 'DryRun'];

/** One checked invocation, ready to run. */
interface Call {
  fn: ResolvedFunction;
  pool: FunctionPool;
  /** The version that runs it (`x-amz-executed-version`). */
  version: string;
  type: InvocationType;
  payload: string;
  requestId: string;
  arn: string;
  tail: boolean;
}

/** A function name as Lambda accepts it: `name`, `name:qualifier`, `account:function:name`, or a full ARN. */
function parseFunctionRef(raw: string): FunctionRef {
  const parts = raw.split(':');
  if (parts[0] === 'arn') return { name: parts[6] ?? '', qualifier: parts[7] };
  if (parts[1] === 'function') return { name: parts[2] ?? '', qualifier: parts[3] };
  return { name: parts[0] ?? '', qualifier: parts[1] };
}

/** Reads the body, draining (not keeping) whatever passes `limit`, so the 413 reaches the client intact. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/** A Lambda service error, shaped for the AWS SDK's restJson1 parser (`x-amzn-ErrorType` names the exception). */
function serviceError(
  res: ServerResponse,
  status: number,
  type: string,
  body: Record<string, unknown>,
  requestId: string,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': requestId,
  });
  res.end(text);
}

function userError(res: ServerResponse, status: number, type: string, message: string, requestId: string): void {
  serviceError(res, status, type, { Type: 'User', message }, requestId);
}

function throttled(res: ServerResponse, requestId: string): void {
  serviceError(
    res,
    429,
    'TooManyRequestsException',
    {
      __type: 'TooManyRequestsException',
      message: 'Rate Exceeded.',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    },
    requestId,
  );
}

function logResult(outcome: Outcome, requestId: string, durationMs: number, call: Call): string {
  const { fn, version } = call;
  const report =
    `START RequestId: ${requestId} Version: ${version}\n${outcome.logTail}END RequestId: ${requestId}\n` +
    `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tMemory Size: ${fn.memoryMb} MB` +
    `${outcome.maxMemoryMb === undefined ? '' : `\tMax Memory Used: ${outcome.maxMemoryMb} MB`}\n`;
  return Buffer.from(Buffer.from(report).subarray(-LOG_TAIL_BYTES)).toString('base64');
}

/** The invoke reply as Lambda shapes it: 200 always, with `X-Amz-Function-Error` when the function failed. */
function invokeReply(res: ServerResponse, outcome: Outcome, call: Call, logTail: string | undefined): void {
  const { requestId } = call;
  const body = outcome.kind === 'ok' ? outcome.payload : JSON.stringify(outcome.error);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amz-executed-version': call.version,
    'x-amzn-RequestId': requestId,
  };
  if (outcome.kind !== 'ok') headers['x-amz-function-error'] = 'Unhandled';
  if (logTail !== undefined) headers['x-amz-log-result'] = logTail;
  res.writeHead(200, headers);
  res.end(body);
}

/**
 * Starts a local endpoint that speaks the Lambda Invoke and InvokeWithResponseStream APIs, so
 * the real `@aws-sdk/client-lambda` works against it with a custom `endpoint`.
 */
export async function startLocalLambda(options: LocalLambdaOptions): Promise<LocalLambda> {
  const logger = options.logger ?? defaultLogger();
  const region = options.region ?? DEFAULTS.region;
  if (!canWatchMemory())
    logger.warn('no /proc here: function memory bounds only the V8 heap, not the whole environment');
  const arnOf = (name: string, qualifier?: string): string =>
    `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${name}${qualifier ? `:${qualifier}` : ''}`;
  const functions = new Map<string, LocalFunction>();
  for (const resolved of resolveFunctions(options)) {
    const fn = new LocalFunction(
      resolved,
      await CodeStore.fromFolder(resolved.handler),
      (config, shared) =>
        new FunctionPool({
          ...config,
          functionName: config.name,
          idleMs: options.idleMs ?? DEFAULTS.idleMs,
          stdout: options.stdout ?? process.stdout,
          stderr: options.stderr ?? process.stderr,
          logger,
          shared,
        }),
      (qualifier) => arnOf(resolved.name, qualifier),
    );
    functions.set(resolved.name, fn);
    const alias = options.functions[resolved.name]?.publishAs;
    if (alias !== undefined) {
      const published = await fn.publish({});
      fn.createAlias({ name: alias, functionVersion: published.version });
    }
  }
  const find = (raw: string): { fn: LocalFunction; ref: FunctionRef } => {
    const ref = parseFunctionRef(raw);
    const fn = functions.get(ref.name);
    if (fn === undefined) throw notFoundError(ref);
    return { fn, ref };
  };
  const notFoundError = (ref: FunctionRef): LambdaApiError =>
    new LambdaApiError('ResourceNotFoundException', 404, `Function not found: ${arnOf(ref.name, ref.qualifier)}`);

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const streamed = STREAM_INVOKE_PATH.exec(url.pathname);
    const invoke = INVOKE_PATH.exec(url.pathname) ?? streamed;
    if (req.method === 'GET' && url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (isControlPath(url.pathname)) return controlReply(req, res, url, requestId);
    if (req.method !== 'POST' || !invoke) {
      req.resume();
      return userError(
        res,
        404,
        'UnknownOperationException',
        `Unknown operation ${req.method ?? ''} ${url.pathname}`,
        requestId,
      );
    }

    const typeHeader = req.headers['x-amz-invocation-type'] ?? 'RequestResponse';
    const type = (streamed ? STREAM_INVOCATION_TYPES : INVOCATION_TYPES).find((t) => t === typeHeader);
    const body = await readBody(req, type === 'Event' ? MAX_EVENT_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES);
    const ref = parseFunctionRef(decodeURIComponent(invoke[1] ?? ''));
    const qualifier = url.searchParams.get('Qualifier') ?? ref.qualifier ?? undefined;
    const local = functions.get(ref.name);
    if (local === undefined) return apiError(res, notFoundError(ref), requestId);
    let version: FunctionVersion;
    try {
      version = local.route(qualifier);
    } catch (err) {
      if (err instanceof LambdaApiError) return apiError(res, err, requestId);
      throw err;
    }
    const { fn, pool } = version;
    if (type === undefined) {
      return userError(
        res,
        400,
        'InvalidParameterValueException',
        `Unsupported invocation type: ${String(typeHeader)}`,
        requestId,
      );
    }
    if (body === undefined) {
      const limit = type === 'Event' ? MAX_EVENT_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES;
      return userError(
        res,
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
        requestId,
      );
    }
    const payload = body.toString('utf8');
    // Checked, not parsed: the runtime parses it once, for the handler (see json.ts).
    if (payload.length > 0 && !isJsonText(payload)) {
      return userError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json', requestId);
    }
    const call = {
      fn,
      pool,
      version: version.version,
      type,
      payload,
      requestId,
      arn: arnOf(fn.name, qualifier ?? undefined),
      tail: req.headers['x-amz-log-type'] === 'Tail',
    };
    await (streamed ? dispatchStream(res, call) : dispatch(res, call));
  }

  /**
   * A response-streaming invocation: 200 and the function's content type once its first chunk
   * (or its end) comes, each chunk as a `PayloadChunk` event as it comes, and an `InvokeComplete`
   * once the handler has settled (work after it ended its stream included), with `ErrorCode`
   * and `ErrorDetails` when it failed, even mid-stream. A stream past Lambda's limit is cut
   * there and ends in an error, as Lambda's does.
   */
  async function dispatchStream(res: ServerResponse, call: Call): Promise<void> {
    const { fn, pool, requestId } = call;
    if (call.type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-RequestId': requestId }).end();
      return;
    }
    let streamedBytes = 0;
    let overLimit = false;
    const start = (contentType: string | undefined): void => {
      if (res.headersSent) return;
      res.writeHead(200, {
        'content-type': contentType ?? 'application/octet-stream',
        'x-amz-executed-version': call.version,
        'x-amzn-RequestId': requestId,
      });
    };
    const started = performance.now();
    const running = pool.tryInvoke({
      requestId,
      payload: call.payload,
      invokedFunctionArn: call.arn,
      onChunk: (data, contentType) => {
        start(contentType);
        streamedBytes += data.byteLength;
        if (streamedBytes > MAX_STREAMED_RESPONSE_BYTES) overLimit = true;
        if (!overLimit && !res.destroyed) res.write(payloadChunk(data));
      },
    });
    if (running === undefined) {
      logger.info({ fn: fn.name, requestId }, 'invocation throttled');
      return throttled(res, requestId);
    }
    const outcome = await running;
    const durationMs = performance.now() - started;
    // A handler that does not stream has its result sent as one chunk, as Lambda sends it.
    const buffered = outcome.kind === 'ok' && streamedBytes === 0 ? outcome.payload : undefined;
    start(buffered !== undefined ? 'application/json' : undefined);
    if (buffered !== undefined && buffered.length > 0) res.write(payloadChunk(Buffer.from(buffered)));
    const error =
      outcome.kind !== 'ok'
        ? { ErrorCode: outcome.error.errorType, ErrorDetails: outcome.error.errorMessage }
        : overLimit
          ? {
              ErrorCode: 'Function.ResponseSizeTooLarge',
              ErrorDetails: `Response payload size exceeded maximum allowed payload size (${MAX_STREAMED_RESPONSE_BYTES} bytes).`,
            }
          : {};
    const tail = call.tail ? { LogResult: logResult(outcome, requestId, durationMs, call) } : {};
    logger.debug(
      { fn: fn.name, requestId, durationMs, outcome: outcome.kind, streamedBytes },
      'streamed invocation done',
    );
    res.end(invokeComplete({ ...error, ...tail }));
  }

  async function dispatch(res: ServerResponse, call: Call): Promise<void> {
    const { fn, pool, requestId } = call;
    if (call.type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-RequestId': requestId }).end();
      return;
    }
    const invocation = { requestId, payload: call.payload, invokedFunctionArn: call.arn };
    if (call.type === 'Event') {
      if (!pool.enqueue(invocation)) return throttled(res, requestId);
      res.writeHead(202, { 'x-amzn-RequestId': requestId }).end();
      return;
    }
    const started = performance.now();
    const running = pool.tryInvoke(invocation);
    if (running === undefined) {
      logger.info({ fn: fn.name, requestId }, 'invocation throttled');
      return throttled(res, requestId);
    }
    const outcome = await running;
    const durationMs = performance.now() - started;
    logger.debug(
      { fn: fn.name, requestId, durationMs, outcome: outcome.kind, maxMemoryMb: outcome.maxMemoryMb },
      'invocation done',
    );
    invokeReply(res, outcome, call, call.tail ? logResult(outcome, requestId, durationMs, call) : undefined);
  }

  /** A refusal as Lambda shapes it (ResourceNotFoundException's member is `Message`, the others' `message`). */
  function apiError(res: ServerResponse, err: LambdaApiError, requestId: string): void {
    const key = err.type === 'ResourceNotFoundException' ? 'Message' : 'message';
    serviceError(res, err.status, err.type, { Type: 'User', [key]: err.message }, requestId);
  }

  async function controlReply(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
    try {
      const reply = await control(
        {
          method: req.method ?? 'GET',
          url,
          body: async () => {
            const body = await readBody(req, MAX_CODE_REQUEST_BYTES);
            if (body === undefined)
              throw new LambdaApiError(
                'RequestTooLargeException',
                413,
                `Request must be smaller than ${MAX_CODE_REQUEST_BYTES} bytes`,
              );
            const text = body.toString('utf8');
            if (text.length === 0) return {};
            try {
              return JSON.parse(text) as unknown;
            } catch {
              throw new LambdaApiError('InvalidRequestContentException', 400, 'Could not parse request body into json');
            }
          },
        },
        find,
      );
      req.resume();
      if (reply.body === undefined) {
        res.writeHead(reply.status, { 'x-amzn-RequestId': requestId }).end();
        return;
      }
      const text = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'x-amzn-RequestId': requestId,
      });
      res.end(text);
    } catch (err) {
      req.resume();
      if (err instanceof LambdaApiError) return apiError(res, err, requestId);
      throw err;
    }
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId).catch((err: unknown) => {
      logger.error({ err, requestId }, 'local lambda request failed');
      if (res.headersSent) res.destroy();
      else
        serviceError(
          res,
          500,
          'ServiceException',
          { Type: 'Service', message: 'Internal error in the local Lambda endpoint' },
          requestId,
        );
    });
  });
  // Invocations may legitimately run as long as the longest function timeout.
  server.requestTimeout = 0;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host, () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    stats() {
      const total: LambdaStats = { ...zeroCounts(), environments: 0, busy: 0, functions: {}, versions: {} };
      for (const [name, fn] of functions) {
        const counters = fn.stats();
        total.functions[name] = counters;
        total.versions[name] = fn.versionStats();
        for (const key of Object.keys(counters) as (keyof LambdaCounters)[]) total[key] += counters[key];
      }
      return total;
    },
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...functions.values()].map((fn) => fn.close(options.closeGraceMs ?? DEFAULTS.closeGraceMs)));
        server.closeIdleConnections();
        // Replies to killed invocations are written by now; let them flush before cutting what is left.
        setTimeout(() => server.closeAllConnections(), 100).unref();
        await closed;
      })();
      return closing;
    },
  };
}
