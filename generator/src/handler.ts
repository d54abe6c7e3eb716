import type { Context, Handler } from 'aws-lambda';
import {
  MarqueeError,
  failure,
  isMarqueeError,
  isStoreRequest,
  parseGeneratorRequest,
  type GeneratorResult,
} from '@marquee/shared';
import { loadConfig } from './config.js';
import { createDeps, type Deps } from './deps.js';
import { generate } from './generate.js';
import { failureMetric } from './log.js';
import { storeOutput } from './store.js';

/**
 * The Lambda entry point's type. The event is `unknown`, not a GeneratorRequest: Lambda hands
 * over whatever JSON the invoker sent, and only `parseGeneratorRequest` makes it a request.
 */
export type GeneratorHandler = Handler<unknown, GeneratorResult>;

/**
 * What `createHandler` makes: a GeneratorHandler that answers with its promise (never the
 * callback) and reads only `awsRequestId` from the context, so tests and benches call it
 * with the event alone.
 */
export type InvokeGenerator = (event: unknown, context?: Pick<Context, 'awsRequestId'>) => Promise<GeneratorResult>;

/** Process-wide: only the first invocation in this environment is a cold start. */
let invocations = 0;

function requestId(event: unknown): string | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const id = (event as { id?: unknown }).id;
  return typeof id === 'string' ? id.slice(0, 128) : undefined;
}

/**
 * The Lambda transport around `generate`: decode the event, run, encode the
 * result. It never throws: a coded error becomes `{ ok: false }`, anything
 * else becomes INTERNAL, and every invocation logs exactly one line (a failure's
 * line also counts it as a CloudWatch metric).
 */
export function createHandler(deps: Deps): InvokeGenerator {
  return async (event, context) => {
    const coldStart = invocations++ === 0;
    const started = performance.now();
    const reqId = requestId(event);
    const base = { reqId, awsRequestId: context?.awsRequestId, coldStart };
    try {
      // A store request (the Preprocessor handing back an output to keep) is not a render.
      if (isStoreRequest(event)) {
        const stored = await storeOutput(event, deps);
        const ms = Math.round(performance.now() - started);
        deps.logger.info({ ...base, code: 'OK', status: 200, ms, bytes: stored.bytes, key: stored.s3?.key }, 'stored');
        return { ...stored, coldStart };
      }
      const request = parseGeneratorRequest(event);
      const out = await generate(request, deps);
      deps.logger.info(
        {
          ...base,
          code: 'OK',
          status: 200,
          ms: Math.round(performance.now() - started),
          timings: out.timings,
          bytes: out.bytes,
          width: out.width,
          height: out.height,
          output: out.s3 === undefined ? 'inline' : 's3',
        },
        'generated',
      );
      return { ...out, coldStart };
    } catch (err) {
      const e = isMarqueeError(err) ? err : new MarqueeError('INTERNAL', 'internal error', { cause: err });
      // The public message is the log message; the underlying error, when there is one, rides along.
      // A coded failure is a returned value, invisible to Lambda's `Errors` metric: the line
      // itself carries it as an EMF metric (see failureMetric), so an alarm can see it.
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
      return failure(e.code, e.message);
    }
  };
}

// Once per environment, at init: a bad config fails the init, not every request.
const config = loadConfig();
const deps = createDeps(config);

/** The Lambda entry point. */
export const handler: GeneratorHandler = createHandler(deps);
