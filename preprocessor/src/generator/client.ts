import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  ERRORS,
  MarqueeError,
  parseGeneratorResult,
  type ErrorCode,
  type GeneratorRequest,
  type GeneratorSuccess,
} from '@marquee/shared';
import type { Metrics } from '../plugins/metrics.js';
import { Slots } from './slots.js';

export interface RenderedImage {
  body: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** Where the time went, in ms: what a MISS reply's `Server-Timing` header reports. */
  timings: RenderTimings;
}

export interface RenderTimings {
  /** Waiting for an in-flight slot. */
  queueMs: number;
  /** The Lambda call(s) as seen here, throttle retries and the derivative read-back included. */
  invokeMs: number;
  /** The Generator's own `timings`. */
  fetchMs: number;
  renderMs: number;
}

export interface GeneratorClientOptions {
  functionName: string;
  qualifier: string | undefined;
  endpoint: string | undefined;
  region: string;
  timeoutMs: number;
  maxInFlight: number;
  /** Renders waiting for an in-flight slot; past it requests are shed at once. */
  maxQueue: number;
  /** Longest wait for a slot, within the deadline. */
  queueTimeoutMs: number;
  /** Longest time spent retrying throttles, within the deadline: past it, 503 rather than a late 504. */
  throttleRetryMs: number;
  /** Reads outputs the Generator wrote to the derivatives bucket (too large to return inline). */
  s3: S3Client;
  metrics: Metrics;
  /** For tests: a client speaking to something else. */
  lambda?: LambdaClient;
}

/** First retry after ~50 ms, doubling, each with full jitter, while the deadline allows. */
const RETRY_BASE_MS = 50;
/** Largest derivative read back from S3: beyond the Lambda 6 MB limit but bounded. */
const MAX_DERIVATIVE_BYTES = 64 * 1024 * 1024;

/** What a client is told when the Generator refuses a source: no bucket, key or host names. */
const PUBLIC_DETAIL: Partial<Record<ErrorCode, string>> = {
  SOURCE_NOT_FOUND: 'The source image of this artwork is missing.',
  SOURCE_TOO_LARGE: 'The source image of this artwork is too large to render.',
  UNSUPPORTED_IMAGE: 'The source image of this artwork is not a supported or valid image.',
  SOURCE_FETCH_FAILED: 'The source image of this artwork could not be fetched.',
  SOURCE_NOT_ALLOWED: 'The source image of this artwork is not in an allowed location.',
  OUTPUT_TOO_LARGE: 'The rendered image is too large to return.',
  INVALID_SPEC: 'The image spec was refused by the Generator.',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? '';
}

/**
 * Invokes the Generator through the real Lambda Invoke API: a deadline per image, jittered
 * retries of throttling inside it, and a cap on invocations in flight past which callers are
 * shed at once (503 + Retry-After) instead of queued without bound.
 */
export class GeneratorClient {
  private readonly lambda: LambdaClient;
  private readonly slots: Slots;
  /** Stage histograms bound to their label once (a render observes three). */
  private readonly stages: Record<'queue' | 'fetch' | 'render', { observe: (v: number) => void }>;

  constructor(private readonly opts: GeneratorClientOptions) {
    this.slots = new Slots(opts.maxInFlight, opts.maxQueue);
    const { generatorStages } = opts.metrics;
    this.stages = {
      queue: generatorStages.labels('queue'),
      fetch: generatorStages.labels('fetch'),
      render: generatorStages.labels('render'),
    };
    const agentOptions = { keepAlive: true, maxSockets: opts.maxInFlight };
    this.lambda =
      opts.lambda ??
      new LambdaClient({
        region: opts.region,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        // Retries are ours (throttling only, within the deadline): the SDK's would stack on them.
        maxAttempts: 1,
        requestHandler: {
          httpAgent: new Agent(agentOptions),
          httpsAgent: new HttpsAgent(agentOptions),
          connectionTimeout: 2000,
        },
      });
  }

  /** Invocations in flight. */
  get pending(): number {
    return this.slots.inUse;
  }

  /** Renders waiting for a slot. */
  get waiting(): number {
    return this.slots.queued;
  }

  async render(request: GeneratorRequest): Promise<RenderedImage> {
    const deadline = Date.now() + this.opts.timeoutMs;
    const queued = performance.now();
    const wait = this.slots.acquire(Math.min(this.opts.queueTimeoutMs, this.opts.timeoutMs));
    this.opts.metrics.queued.set(this.slots.queued);
    try {
      await wait;
    } catch (err) {
      this.opts.metrics.shed.inc({ reason: 'in_flight' });
      throw err;
    } finally {
      this.opts.metrics.queued.set(this.slots.queued);
    }
    this.opts.metrics.inFlight.set(this.slots.inUse);
    const started = performance.now();
    try {
      const result = await this.invokeWithRetries(request, deadline);
      this.opts.metrics.invocations.inc({ outcome: 'ok' });
      if (result.coldStart) this.opts.metrics.coldStarts.inc();
      const image = await this.materialise(result, deadline, request.store === true);
      image.timings = {
        queueMs: started - queued,
        invokeMs: performance.now() - started,
        fetchMs: result.timings.fetchMs,
        renderMs: result.timings.renderMs,
      };
      const { stages } = this;
      stages.queue.observe(image.timings.queueMs / 1000);
      stages.fetch.observe(image.timings.fetchMs / 1000);
      stages.render.observe(image.timings.renderMs / 1000);
      return image;
    } finally {
      this.slots.release();
      this.opts.metrics.inFlight.set(this.slots.inUse);
      this.opts.metrics.generatorDuration.observe((performance.now() - started) / 1000);
    }
  }

  /** A cheap reachability check for /readyz: a DryRun invocation validates function and permission. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    try {
      await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.opts.functionName,
          Qualifier: this.opts.qualifier,
          InvocationType: 'DryRun',
        }),
        { abortSignal: AbortSignal.timeout(timeoutMs) },
      );
      return true;
    } catch {
      return false;
    }
  }

  destroy(): void {
    this.lambda.destroy();
  }

  private async invokeWithRetries(request: GeneratorRequest, deadline: number): Promise<GeneratorSuccess> {
    const throttleDeadline = Math.min(deadline, Date.now() + this.opts.throttleRetryMs);
    const payload = Buffer.from(JSON.stringify(request));
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new MarqueeError('TIMEOUT', 'The image was not ready in time.');
      const signal = AbortSignal.timeout(remaining);
      try {
        return await this.invokeOnce(payload, signal);
      } catch (err) {
        if (err instanceof MarqueeError) throw err;
        if (errorName(err) === 'TooManyRequestsException') {
          this.opts.metrics.invocations.inc({ outcome: 'throttled' });
          const backoff = Math.random() * RETRY_BASE_MS * 2 ** Math.min(attempt, 6);
          if (Date.now() + backoff >= throttleDeadline) {
            this.opts.metrics.shed.inc({ reason: 'throttled' });
            throw new MarqueeError('THROTTLED', 'The Generator is at its concurrency limit; retry shortly.', {
              retryAfter: 1,
              cause: err,
            });
          }
          await sleep(backoff);
          continue;
        }
        throw this.translate(err, signal);
      }
    }
  }

  private async invokeOnce(payload: Uint8Array, signal: AbortSignal): Promise<GeneratorSuccess> {
    const out = await this.lambda.send(
      new InvokeCommand({ FunctionName: this.opts.functionName, Qualifier: this.opts.qualifier, Payload: payload }),
      { abortSignal: signal },
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    if (out.FunctionError) {
      const detail = safeJson(text) as { errorType?: string; errorMessage?: string } | undefined;
      this.opts.metrics.invocations.inc({ outcome: 'failed' });
      const timedOut = /timed out/i.test(detail?.errorMessage ?? '');
      this.opts.metrics.generatorErrors.inc({ code: timedOut ? 'TIMEOUT' : 'GENERATOR_FAILED' });
      throw new MarqueeError(
        timedOut ? 'TIMEOUT' : 'GENERATOR_FAILED',
        timedOut ? 'The Generator timed out.' : `The Generator failed (${detail?.errorType ?? 'unknown error'}).`,
      );
    }
    const result = parseGeneratorResult(safeJson(text));
    if (!result.ok) {
      this.opts.metrics.invocations.inc({ outcome: 'error' });
      this.opts.metrics.generatorErrors.inc({ code: result.error.code });
      // The Generator's message names buckets and keys: it goes to the log, the client gets the public one.
      const { code, message } = result.error;
      // The Preprocessor built the spec and chose the source: the Generator refusing either is a
      // fault on this side of the API (502), not the client's request (400/403).
      const served: ErrorCode = code === 'INVALID_SPEC' || code === 'SOURCE_NOT_ALLOWED' ? 'GENERATOR_FAILED' : code;
      throw new MarqueeError(served, PUBLIC_DETAIL[code] ?? `${ERRORS[served].title}.`, {
        cause: new Error(`${code}: ${message}`),
      });
    }
    return result;
  }

  private translate(err: unknown, signal: AbortSignal): MarqueeError {
    this.opts.metrics.invocations.inc({ outcome: 'failed' });
    if (signal.aborted || errorName(err) === 'AbortError' || errorName(err) === 'TimeoutError') {
      this.opts.metrics.generatorErrors.inc({ code: 'TIMEOUT' });
      return new MarqueeError('TIMEOUT', 'The image was not ready in time.', { cause: err });
    }
    if (NETWORK_CODES.has(errorCode(err)) || errorName(err) === 'ServiceUnavailableException') {
      this.opts.metrics.generatorErrors.inc({ code: 'GENERATOR_UNAVAILABLE' });
      return new MarqueeError('GENERATOR_UNAVAILABLE', 'The Generator cannot be reached; retry shortly.', {
        retryAfter: 2,
        cause: err,
      });
    }
    this.opts.metrics.generatorErrors.inc({ code: 'GENERATOR_FAILED' });
    return new MarqueeError('GENERATOR_FAILED', `The Generator call failed (${errorName(err) || 'error'}).`, {
      cause: err,
    });
  }

  /**
   * The image bytes: inline, or read back from the derivatives bucket within the same deadline.
   * A prewarm render (`stored`) is not read back: nobody waits for its bytes.
   */
  private async materialise(result: GeneratorSuccess, deadline: number, stored: boolean): Promise<RenderedImage> {
    const timings: RenderTimings = { queueMs: 0, invokeMs: 0, fetchMs: 0, renderMs: 0 };
    const image = { contentType: result.contentType, width: result.width, height: result.height, timings };
    if (stored) return { ...image, body: Buffer.alloc(0) };
    if (result.body !== undefined) return { ...image, body: Buffer.from(result.body, 'base64') };
    if (!result.s3) throw new MarqueeError('GENERATOR_FAILED', 'The Generator returned neither bytes nor an object.');
    const signal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
    try {
      const out = await this.opts.s3.send(new GetObjectCommand({ Bucket: result.s3.bucket, Key: result.s3.key }), {
        abortSignal: signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of out.Body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_DERIVATIVE_BYTES)
          throw new MarqueeError('OUTPUT_TOO_LARGE', 'The rendered image is too large to serve.');
        chunks.push(chunk);
      }
      return { ...image, body: Buffer.concat(chunks) };
    } catch (err) {
      if (err instanceof MarqueeError) throw err;
      if (signal.aborted) throw new MarqueeError('TIMEOUT', 'The image was not ready in time.', { cause: err });
      throw new MarqueeError('GENERATOR_FAILED', 'The rendered image could not be read back.', { cause: err });
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
