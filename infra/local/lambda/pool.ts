import type { Logger } from 'pino';
import { Environment, type ChunkSink, type EnvironmentConfig, type Outcome } from './environment.js';
import { MAX_QUEUED_EVENTS, MAX_SYNC_RESPONSE_BYTES } from './limits.js';

/** Counters of one function (or, summed, of the endpoint). */
/** The counters a pool keeps, all at zero. */
export function zeroCounts(): Omit<LambdaCounters, 'environments' | 'busy'> {
  return { invocations: 0, coldStarts: 0, throttles: 0, timeouts: 0, crashes: 0, outOfMemory: 0, errors: 0 };
}

export interface LambdaCounters {
  invocations: number;
  coldStarts: number;
  throttles: number;
  timeouts: number;
  /** Environments lost mid-invocation: the runtime exited, or was killed for its memory. */
  crashes: number;
  /** Of the crashes, those killed for passing the function's configured memory. */
  outOfMemory: number;
  /** Invocations that ended in a function error of any kind (handler error, timeout, crash, out of memory, init). */
  errors: number;
  /** Environments alive now (busy or warm). */
  environments: number;
  /** Environments running an invocation now. */
  busy: number;
}

export interface PoolConfig extends EnvironmentConfig {
  concurrency: number;
  idleMs: number;
  logger: Logger;
  /**
   * The function's concurrency, shared by the pools of its versions: Lambda's limit is per
   * function (every version and alias counts against it), not per version.
   */
  shared?: SharedConcurrency;
}

/**
 * The pools of one function's versions and the concurrency they share: Lambda counts
 * concurrent executions per function, over every version and alias. Idle environments do not
 * count (each version keeps its own warm ones, as Lambda does).
 */
export class SharedConcurrency {
  readonly pools = new Set<FunctionPool>();
  constructor(readonly limit: number) {}

  busy(): number {
    let busy = 0;
    for (const pool of this.pools) busy += pool.busyCount();
    return busy;
  }
}

export interface Invocation {
  requestId: string;
  payload: string;
  invokedFunctionArn: string;
  /** A response-streaming invocation: the handler's chunks, as they come (else they are collected). */
  onChunk?: ChunkSink;
}

/**
 * The execution environments of one function: warm ones are reused, new ones
 * are cold starts, at most `concurrency` exist, and an idle one is reaped.
 * Synchronous invocations beyond the limit are refused (Lambda does not queue
 * them); Event invocations wait in a bounded queue.
 */
export class FunctionPool {
  private readonly environments = new Set<Environment>();
  private readonly queue: Invocation[] = [];
  private readonly counts = zeroCounts();
  private closed = false;

  constructor(private readonly config: PoolConfig) {
    config.shared?.pools.add(this);
  }

  /** Environments running an invocation now. */
  busyCount(): number {
    let busy = 0;
    for (const env of this.environments) if (env.busy) busy++;
    return busy;
  }

  /** Runs an invocation now, or answers `undefined` when every environment is busy (a throttle). */
  tryInvoke(invocation: Invocation): Promise<Outcome> | undefined {
    const env = this.acquire();
    if (env === undefined) {
      this.counts.throttles++;
      return undefined;
    }
    return this.run(env, invocation);
  }

  /** Queues an Event invocation; `false` when the queue is full. */
  enqueue(invocation: Invocation): boolean {
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      this.counts.throttles++;
      return false;
    }
    this.queue.push(invocation);
    this.drainQueue();
    return true;
  }

  stats(): LambdaCounters {
    this.prune();
    let busy = 0;
    for (const env of this.environments) if (env.busy) busy++;
    return { ...this.counts, environments: this.environments.size, busy };
  }

  /** Waits up to `graceMs` for running invocations, then kills every environment. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0)
      this.config.logger.warn({ fn: this.config.functionName, dropped: this.queue.length }, 'dropping queued events');
    this.queue.length = 0;
    const deadline = Date.now() + graceMs;
    while (this.stats().busy > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all([...this.environments].map((env) => env.kill()));
    this.environments.clear();
    this.config.shared?.pools.delete(this);
  }

  /** Forgets environments that died while warm (a stray timer crashed them): they are not capacity. */
  private prune(): void {
    for (const env of this.environments) if (env.dead && !env.busy) this.environments.delete(env);
  }

  private acquire(): Environment | undefined {
    if (this.closed) return undefined;
    this.prune();
    // The function's limit counts executions over all its versions, warm environments or not.
    const shared = this.config.shared;
    if (shared !== undefined && shared.busy() >= shared.limit) return undefined;
    for (const env of this.environments) {
      if (!env.busy && !env.dead) {
        if (env.idleTimer) clearTimeout(env.idleTimer);
        env.busy = true;
        return env;
      }
    }
    if (this.environments.size >= this.config.concurrency) return undefined;
    const env = new Environment(this.config);
    env.busy = true;
    this.environments.add(env);
    this.counts.coldStarts++;
    this.config.logger.debug({ fn: this.config.functionName, env: env.id }, 'cold start');
    return env;
  }

  private async run(env: Environment, invocation: Invocation): Promise<Outcome> {
    this.counts.invocations++;
    const raw = await env.invoke(
      invocation.requestId,
      invocation.payload,
      invocation.invokedFunctionArn,
      invocation.onChunk,
    );
    // A streamed response has the streaming limit (checked by the endpoint as bytes pass); a buffered one, 6 MB.
    const outcome = invocation.onChunk ? raw : limitResponse(raw);
    this.record(env, invocation, outcome);
    this.release(env);
    return outcome;
  }

  private record(env: Environment, invocation: Invocation, outcome: Outcome): void {
    if (outcome.kind === 'ok') return;
    this.counts.errors++;
    const fields = {
      fn: this.config.functionName,
      env: env.id,
      requestId: invocation.requestId,
      errorType: outcome.error.errorType,
    };
    if (outcome.kind === 'timeout') {
      this.counts.timeouts++;
      this.config.logger.warn(fields, 'invocation timed out: environment killed');
    } else if (outcome.kind === 'crash') {
      this.counts.crashes++;
      this.config.logger.warn({ ...fields, reason: outcome.error.errorMessage }, 'environment crashed');
    } else if (outcome.kind === 'oom') {
      this.counts.crashes++;
      this.counts.outOfMemory++;
      this.config.logger.warn(
        { ...fields, rssMb: outcome.rssMb, limitMb: outcome.limitMb },
        'environment over its memory: killed',
      );
    } else if (outcome.kind === 'init') {
      this.config.logger.warn({ ...fields, reason: outcome.error.errorMessage }, 'environment failed to initialise');
    }
  }

  private release(env: Environment): void {
    env.busy = false;
    if (env.dead || this.closed) {
      this.environments.delete(env);
      void env.kill();
    } else {
      env.idleTimer = setTimeout(() => this.reap(env), this.config.idleMs).unref();
    }
    this.drainQueue();
  }

  private reap(env: Environment): void {
    if (env.busy) return;
    this.environments.delete(env);
    this.config.logger.debug({ fn: this.config.functionName, env: env.id }, 'idle environment reaped');
    void env.kill();
  }

  private drainQueue(): void {
    while (this.queue.length > 0) {
      const env = this.acquire();
      if (env === undefined) return;
      const invocation = this.queue.shift() as Invocation;
      void this.run(env, invocation);
    }
  }
}

/** Lambda refuses to return an oversized payload as a function error; the environment stays warm. */
function limitResponse(outcome: Outcome): Outcome {
  if (outcome.kind !== 'ok' || Buffer.byteLength(outcome.payload) <= MAX_SYNC_RESPONSE_BYTES) return outcome;
  const errorMessage = `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`;
  const error = { errorType: 'Function.ResponseSizeTooLarge', errorMessage };
  return { kind: 'error', error, logTail: outcome.logTail, maxMemoryMb: outcome.maxMemoryMb };
}
