import type { Writable } from 'node:stream';
import type { Context, StreamifyHandler } from 'aws-lambda';
import {
  MarqueeError,
  OutageLog,
  PRELUDE_CONTENT_TYPE,
  PRELUDE_DELIMITER_BYTES,
  failureBody,
  failurePrelude,
  isMarqueeError,
  parseGeneratorRequest,
  successPrelude,
  type RenderPrelude,
} from '@marquee/shared';
import { loadConfig } from './config.js';
import { createDeps, type Deps } from './deps.js';
import { generate } from './generate.js';
import { failureMetric, storeFailureMetric } from './log.js';
import { derivativeTarget, putDerivative } from './output.js';

/** The response stream Lambda hands a streaming handler (`awslambda.HttpResponseStream`'s shape). */
export type ResponseStream = Writable & { setContentType(contentType: string): void };

/**
 * What `createHandler` makes: Lambda's streaming handler shape (event, response stream, context),
 * reading only `awsRequestId` from the context, so tests and benches call it with a stream they
 * collect. It resolves once everything the invocation does is done, the derivative's PUT included.
 */
export type StreamingGenerator = (
  event: unknown,
  stream: ResponseStream,
  context?: Pick<Context, 'awsRequestId'>,
) => Promise<void>;

/** Process-wide: only the first invocation in this environment is a cold start. */
let invocations = 0;

function requestId(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' ? id.slice(0, 128) : undefined;
}

/** Lambda's streaming runtime (`awslambda` with both members), or undefined off it. */
function runtimeStreaming(): typeof awslambda | undefined {
  const g = (globalThis as { awslambda?: Partial<typeof awslambda> }).awslambda;
  return typeof g?.streamifyResponse === 'function' && typeof g.HttpResponseStream?.from === 'function'
    ? (g as typeof awslambda)
    : undefined;
}

/**
 * Writes Lambda's HTTP prelude and the body, and ends the stream: through
 * `awslambda.HttpResponseStream.from` where the runtime provides it (Lambda, the local endpoint),
 * else the same bytes by hand (a test's stream).
 */
function reply(stream: ResponseStream, prelude: RenderPrelude, body: Buffer): Promise<void> {
  // The capability, not the global: the AWS SDK sets a bare `globalThis.awslambda` of its own.
  const runtime = runtimeStreaming();
  let out: Writable = stream;
  if (runtime !== undefined) {
    out = runtime.HttpResponseStream.from(stream, prelude as unknown as Record<string, unknown>);
  } else {
    stream.setContentType(PRELUDE_CONTENT_TYPE);
    stream.write(JSON.stringify(prelude));
    stream.write(new Uint8Array(PRELUDE_DELIMITER_BYTES));
  }
  return new Promise((resolve, reject) => {
    out.once('error', reject);
    out.end(body.length > 0 ? body : undefined, () => resolve());
  });
}

/**
 * The Lambda transport around `generate`: decode the event, render, stream the prelude and the
 * image, end the stream, then keep the render: with `output`, the derivative is PUT after the
 * client has its bytes, in the foreground of the same invocation (a frozen environment finishes
 * nothing in the background). A failed PUT never fails the reply: it is counted (an EMF metric on
 * the line) and logged once per outage. A prewarm render (`store: true`) is PUT first and streams
 * no body. It never throws: a coded error becomes its failure reply, anything else INTERNAL, and
 * every invocation logs exactly one line (an outage of the store adds its own two: begun, over).
 */
export function createHandler(deps: Deps): StreamingGenerator {
  const storeOutage = new OutageLog(deps.logger, 'derivative store write');
  return async (event, stream, context) => {
    const coldStart = invocations++ === 0;
    const started = performance.now();
    const reqId = requestId(event);
    const base = { reqId, awsRequestId: context?.awsRequestId, coldStart };
    let replied = false;
    try {
      const request = parseGeneratorRequest(event);
      const target = derivativeTarget(request, deps);
      const out = await generate(request, deps);
      const facts = {
        contentType: out.contentType,
        bytes: out.data.length,
        width: out.width,
        height: out.height,
        ...out.timings,
        coldStart,
      };
      const line = { ...base, code: 'OK', status: 200, timings: out.timings, width: out.width, height: out.height };
      if (request.store === true && target !== undefined) {
        await putDerivative(target, out.data, out.contentType, deps);
        replied = true;
        await reply(stream, successPrelude({ ...facts, bytes: 0, stored: target.key }), Buffer.alloc(0));
        const ms = Math.round(performance.now() - started);
        deps.logger.info({ ...line, ms, bytes: out.data.length, key: target.key, stored: true }, 'generated');
        return;
      }
      replied = true;
      await reply(stream, successPrelude(facts), out.data);
      const repliedMs = Math.round(performance.now() - started);
      if (target === undefined) {
        deps.logger.info({ ...line, ms: repliedMs, bytes: out.data.length }, 'generated');
        return;
      }
      const putStarted = performance.now();
      let stored = true;
      try {
        await putDerivative(target, out.data, out.contentType, deps);
        storeOutage.succeeded();
      } catch (err) {
        stored = false;
        storeOutage.failed(isMarqueeError(err) ? err.cause : err, { key: target.key });
      }
      deps.logger.info(
        {
          ...line,
          ms: repliedMs,
          putMs: Math.round((performance.now() - putStarted) * 100) / 100,
          bytes: out.data.length,
          key: target.key,
          stored,
          ...(stored ? {} : storeFailureMetric(deps.config.functionName)),
        },
        'generated',
      );
    } catch (err) {
      const e = isMarqueeError(err) ? err : new MarqueeError('INTERNAL', 'internal error', { cause: err });
      // The public message is the log message; the underlying error, when there is one, rides along.
      // A coded failure is a reply, invisible to Lambda's `Errors` metric: the line itself
      // carries it as an EMF metric (see failureMetric), so an alarm can see it.
      const line = {
        ...base,
        code: e.code,
        status: e.status,
        ms: Math.round(performance.now() - started),
        ...failureMetric(deps.config.functionName, e.code, e.status),
      };
      // A stack helps with our failures (5xx), not with a caller's bad input: 4xx carry only the cause's text.
      if (e.status >= 500) deps.logger.error({ ...line, err: e.cause }, e.message);
      else deps.logger.info({ ...line, cause: e.cause instanceof Error ? e.cause.message : undefined }, e.message);
      // A failure after the prelude went out cannot be told: the stream is cut instead, and the
      // caller, short of the bytes the prelude announced, answers 502.
      if (replied) {
        stream.destroy(e);
        return;
      }
      const body = failureBody(e.code, e.message);
      await reply(stream, failurePrelude(body, e.status), Buffer.from(body));
    }
  };
}

// Once per environment, at init: a bad config fails the init, not every request.
const config = loadConfig();
const deps = createDeps(config);
const generator = createHandler(deps);

/**
 * The Lambda entry point: a response-streaming handler. Off Lambda's runtime (a test importing
 * this module) there is no `awslambda` to mark it with, and the plain function is exported.
 */
export const handler: StreamingGenerator | StreamifyHandler =
  runtimeStreaming()?.streamifyResponse((event: unknown, stream, context) => generator(event, stream, context)) ??
  generator;
