import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ERRORS,
  MarqueeError,
  PreludeSplitter,
  parseFailureBody,
  renderFacts,
  type ErrorCode,
  type GeneratorRequest,
  type RenderFacts,
} from '@marquee/shared';
import type { Metrics } from '../plugins/metrics.js';
import { Scheduler, type Priority } from './scheduler.js';

export interface RenderedImage {
  body: Buffer;
  contentType: string;
  width: number;
  height: number;
  /** Where the time went, in ms: what a MISS reply's `Server-Timing` header reports. */
  timings: RenderTimings;
}

export interface RenderTimings {
  /** Waiting for a Generator slot. */
  queueMs: number;
  /** The Lambda call as seen here, up to the last byte the prelude announced (throttle retries included). */
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
  /** Live renders waiting for a slot; past it requests are shed at once (studio previews get as many). */
  maxQueue: number;
  /** Longest wait for a slot, within the deadline. */
  queueTimeoutMs: number;
  /** Longest time spent retrying throttles, within the deadline: past it, 503 rather than a late 504. */
  throttleRetryMs: number;
  /** The fraction of the slots prewarm renders may hold at once (at least one when above 0). */
  prewarmShare: number;
  metrics: Metrics;
  /** For tests: a client speaking to something else. */
  lambda?: LambdaClient;
}

/** First retry after ~50 ms, doubling, each with full jitter, while the deadline allows. */
const RETRY_BASE_MS = 50;

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

/** Largest body read from a stream: the Preprocessor serves and caches it, so it stays bounded. */
export const MAX_RENDER_BYTES = 64 * 1024 * 1024;
/** How long the rest of an invocation (the Generator's PUT) may hold its slot after the reply. */
const TAIL_MS = 30_000;

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

/** What one streamed invocation delivered: the render's facts and its bytes. */
interface Streamed {
  facts: RenderFacts;
  body: Buffer;
}

/**
 * Invokes the Generator through Lambda's InvokeWithResponseStream: the reply is its prelude and
 * the image bytes, and the image is handed back as soon as the bytes the prelude announced are
 * in, while the invocation (its PUT of the derivative) runs on and holds its slot until it ends.
 * A deadline per image, jittered retries of throttling inside it, and one scheduler for the
 * slots, by priority, past which callers are shed at once (503 + Retry-After).
 */
export class GeneratorClient {
  private readonly lambda: LambdaClient;
  readonly scheduler: Scheduler;
  /** Stage histograms bound to their label once (a render observes three). */
  private readonly stages: Record<'queue' | 'fetch' | 'render', { observe: (v: number) => void }>;

  constructor(private readonly opts: GeneratorClientOptions) {
    const prewarmSlots = opts.prewarmShare > 0 ? Math.max(1, Math.floor(opts.prewarmShare * opts.maxInFlight)) : 0;
    this.scheduler = new Scheduler({
      slots: opts.maxInFlight,
      // Prewarm callers wait as long as it takes: the prewarmer bounds how many there are.
      maxQueue: { live: opts.maxQueue, studio: opts.maxQueue, prewarm: Number.MAX_SAFE_INTEGER },
      prewarmSlots,
    });
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

  /** Invocations in flight (their tails included). */
  get pending(): number {
    return this.scheduler.inUse;
  }

  /** Renders waiting for a slot. */
  get waiting(): number {
    return this.scheduler.queued;
  }

  /**
   * Renders `request` for `priority`. A prewarm render (`store: true`) resolves once the Generator
   * has stored it, with an empty body. `signal` gives up the wait for a slot (not a running invocation).
   */
  async render(request: GeneratorRequest, priority: Priority = 'live', signal?: AbortSignal): Promise<RenderedImage> {
    const deadline = Date.now() + this.opts.timeoutMs;
    const queued = performance.now();
    const { metrics } = this.opts;
    const wait =
      priority === 'prewarm' ? Number.POSITIVE_INFINITY : Math.min(this.opts.queueTimeoutMs, this.opts.timeoutMs);
    const acquiring = this.scheduler.acquire(priority, wait, signal);
    metrics.queued.set(this.scheduler.queued);
    let release: () => void;
    try {
      release = await acquiring;
    } catch (err) {
      metrics.shed.inc({ reason: 'in_flight' });
      throw err;
    } finally {
      metrics.queued.set(this.scheduler.queued);
    }
    metrics.inFlight.set(this.scheduler.inUse);
    const started = performance.now();
    const done = (): void => {
      release();
      metrics.inFlight.set(this.scheduler.inUse);
      metrics.generatorDuration.observe((performance.now() - started) / 1000);
    };
    let streamed: Streamed;
    try {
      streamed = await this.invokeWithRetries(request, deadline, done);
    } catch (err) {
      done();
      throw err;
    }
    metrics.invocations.inc({ outcome: 'ok' });
    const { facts, body } = streamed;
    if (facts.coldStart) metrics.coldStarts.inc();
    const timings: RenderTimings = {
      queueMs: started - queued,
      invokeMs: performance.now() - started,
      fetchMs: facts.fetchMs,
      renderMs: facts.renderMs,
    };
    this.stages.queue.observe(timings.queueMs / 1000);
    this.stages.fetch.observe(timings.fetchMs / 1000);
    this.stages.render.observe(timings.renderMs / 1000);
    return { body, contentType: facts.contentType, width: facts.width, height: facts.height, timings };
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

  /** `ended` is called once when the invocation is over (its stream read to the end, or given up). */
  private async invokeWithRetries(request: GeneratorRequest, deadline: number, ended: () => void): Promise<Streamed> {
    const throttleDeadline = Math.min(deadline, Date.now() + this.opts.throttleRetryMs);
    const payload = Buffer.from(JSON.stringify(request));
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new MarqueeError('TIMEOUT', 'The image was not ready in time.');
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), remaining);
      try {
        return await this.invokeOnce(payload, abort, timer, ended);
      } catch (err) {
        clearTimeout(timer);
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
        throw this.translate(err, abort.signal);
      }
    }
  }

  /**
   * One streamed invocation. Resolves with the image once the announced bytes are in, and reads
   * the rest of the stream (the `InvokeComplete` that follows the Generator's PUT) in the
   * background before calling `ended`. Anything short of the announced bytes is a 502: a
   * Generator cut off mid-stream never yields a partial image to cache or serve.
   */
  private async invokeOnce(
    payload: Uint8Array,
    abort: AbortController,
    timer: NodeJS.Timeout,
    ended: () => void,
  ): Promise<Streamed> {
    const out = await this.lambda.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: this.opts.functionName,
        Qualifier: this.opts.qualifier,
        Payload: payload,
      }),
      { abortSignal: abort.signal },
    );
    if (out.EventStream === undefined) throw new MarqueeError('GENERATOR_FAILED', 'The Generator streamed nothing.');
    const events = out.EventStream[Symbol.asyncIterator]();
    const split = new PreludeSplitter();
    let facts: RenderFacts | undefined;
    for (;;) {
      const next = await events.next();
      if (next.done) throw this.cutOff('the stream ended early');
      const event = next.value;
      if (event.PayloadChunk?.Payload !== undefined) {
        split.push(event.PayloadChunk.Payload);
        if (split.bodyBytes > MAX_RENDER_BYTES)
          throw new MarqueeError('OUTPUT_TOO_LARGE', 'The rendered image is too large to serve.');
      } else if (event.InvokeComplete !== undefined) {
        const { ErrorCode: code, ErrorDetails: details } = event.InvokeComplete;
        if (code) throw this.functionError(code, details);
        // Complete with the announced bytes in (a failure reply, or a body that ended the stream).
        if (split.prelude === undefined) throw this.cutOff('no prelude');
        if (split.prelude.statusCode !== 200) throw this.refused(split.bodyBuffer());
        facts ??= renderFacts(split.prelude);
        if (split.bodyBytes !== facts.bytes) throw this.cutOff(`${split.bodyBytes} of ${facts.bytes} bytes`);
        clearTimeout(timer);
        ended();
        return { facts, body: split.bodyBuffer() };
      }
      if (split.prelude === undefined || split.prelude.statusCode !== 200) continue;
      facts ??= renderFacts(split.prelude);
      if (split.bodyBytes > facts.bytes)
        throw this.cutOff(`${split.bodyBytes} bytes past the ${facts.bytes} announced`);
      if (split.bodyBytes === facts.bytes) {
        const result = { facts, body: split.bodyBuffer() };
        // The reply goes now; the invocation's tail (its PUT) holds the slot until it completes.
        clearTimeout(timer);
        void this.drain(events, abort, ended);
        return result;
      }
    }
  }

  /** Reads the stream to its end within TAIL_MS, then frees the slot; a failed tail is only logged as a metric. */
  private async drain(
    events: AsyncIterator<{ InvokeComplete?: { ErrorCode?: string } }>,
    abort: AbortController,
    ended: () => void,
  ): Promise<void> {
    const timer = setTimeout(() => abort.abort(), TAIL_MS);
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) break;
        const code = next.value.InvokeComplete?.ErrorCode;
        if (code) this.opts.metrics.generatorErrors.inc({ code: 'GENERATOR_FAILED' });
      }
    } catch {
      // The connection went away after the reply: nothing waits on it.
    } finally {
      clearTimeout(timer);
      ended();
    }
  }

  private cutOff(detail: string): MarqueeError {
    this.opts.metrics.invocations.inc({ outcome: 'failed' });
    this.opts.metrics.generatorErrors.inc({ code: 'GENERATOR_FAILED' });
    return new MarqueeError('GENERATOR_FAILED', 'The Generator stopped before the image was complete.', {
      cause: new Error(detail),
    });
  }

  /** A function error (the handler crashed, timed out or ran out of memory): 502, or 504 for a timeout. */
  private functionError(code: string, details: string | undefined): MarqueeError {
    this.opts.metrics.invocations.inc({ outcome: 'failed' });
    const timedOut = /timed ?out/i.test(`${code} ${details ?? ''}`);
    this.opts.metrics.generatorErrors.inc({ code: timedOut ? 'TIMEOUT' : 'GENERATOR_FAILED' });
    return new MarqueeError(
      timedOut ? 'TIMEOUT' : 'GENERATOR_FAILED',
      timedOut ? 'The Generator timed out.' : `The Generator failed (${code}).`,
      { cause: new Error(details ?? code) },
    );
  }

  /** The Generator's coded refusal, as the client is told it. */
  private refused(body: Buffer): MarqueeError {
    const failure = parseFailureBody(body);
    this.opts.metrics.invocations.inc({ outcome: 'error' });
    if (failure === undefined) {
      this.opts.metrics.generatorErrors.inc({ code: 'GENERATOR_FAILED' });
      return new MarqueeError('GENERATOR_FAILED', 'The Generator replied with an unreadable failure.');
    }
    const { code, message } = failure;
    this.opts.metrics.generatorErrors.inc({ code });
    // The Preprocessor built the spec and chose the source: the Generator refusing either is a
    // fault on this side of the API (502), not the client's request (400/403).
    const served: ErrorCode = code === 'INVALID_SPEC' || code === 'SOURCE_NOT_ALLOWED' ? 'GENERATOR_FAILED' : code;
    // The Generator's message names buckets and keys: it goes to the log, the client gets the public one.
    return new MarqueeError(served, PUBLIC_DETAIL[code] ?? `${ERRORS[served].title}.`, {
      cause: new Error(`${code}: ${message}`),
    });
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
}
