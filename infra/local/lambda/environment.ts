import { fork, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { INIT_TIMEOUT_MS, LOG_TAIL_BYTES } from './limits.js';
import { MEMORY_SAMPLE_MS, residentKb, toMb } from './memory.js';
import { LOG_END_MARK, isChildMessage, type ChildMessage, type FunctionErrorBody } from './protocol.js';
import { siblingScript } from '@marquee/shared';

/** Longest wait for an invocation's log to end on stdout once its outcome is in (a handler may close stdout). */
const LOG_END_WAIT_MS = 200;

/** What an environment needs to start: resolved by the pool from the function's options. */
export interface EnvironmentConfig {
  functionName: string;
  handler: string;
  exportName: string;
  memoryMb: number;
  timeoutMs: number;
  env: Record<string, string>;
  stdout: Writable;
  stderr: Writable;
}

/**
 * How one invocation ended. `kind` says which counter it moves and whether the environment survives.
 * `maxMemoryMb` is the largest resident set sampled during it (Lambda's `Max Memory Used`), where
 * the platform lets the endpoint see it.
 */
export type Outcome =
  /** A streaming handler's payload is the bytes it wrote (when nobody took them as they came). */
  (
    | { kind: 'ok'; payload: string | Buffer }
    | { kind: 'error'; error: FunctionErrorBody }
    | { kind: 'timeout' | 'crash' | 'init'; error: FunctionErrorBody }
    /** Killed for passing its memory: `rssMb` is the resident set that was seen, `limitMb` the configured memory. */
    | { kind: 'oom'; error: FunctionErrorBody; rssMb: number; limitMb: number }
  ) & { logTail: string; maxMemoryMb?: number };

/** The runtime bootstrap beside this module, with the loader it needs (tsx under tests). */
const RUNTIME = siblingScript(import.meta.url, 'runtime');

function execArgvFor(memoryMb: number): string[] {
  return [`--max-old-space-size=${memoryMb}`, '--enable-source-maps', ...RUNTIME.execArgv];
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) {
    const names: Partial<Record<NodeJS.Signals, string>> = {
      SIGKILL: 'killed',
      SIGABRT: 'aborted',
      SIGSEGV: 'segmentation fault',
    };
    return `Runtime exited with error: signal: ${names[signal] ?? signal}`;
  }
  if (code === 0) return 'Runtime exited without providing a reason';
  return `Runtime exited with error: exit status ${code ?? 'unknown'}`;
}

/** Takes a streaming handler's chunks as the environment receives them. */
export type ChunkSink = (data: Uint8Array, contentType: string | undefined) => void;

let nextId = 1;

/**
 * One execution environment: a forked `runtime` process that runs one
 * invocation at a time. Its stdout/stderr pass through line by line (so JSON
 * log lines from concurrent environments never interleave mid-line).
 */
export class Environment {
  readonly id = nextId++;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private ready: Promise<FunctionErrorBody | undefined>;
  private current: ((outcome: Outcome) => void) | undefined;
  private currentRequestId = '';
  /** Where a streaming handler's chunks go as they come; without one they are collected. */
  private onChunk: ChunkSink | undefined;
  private collected: Buffer[] = [];
  /** The last request whose end mark came through stdout; an outcome that arrived first waits for it. */
  private loggedRequestId = '';
  private waitingOutcome: { outcome: Outcome; timer: NodeJS.Timeout } | undefined;
  private tail = '';
  private memoryWatch: NodeJS.Timeout | undefined;
  private peakKb = 0;
  /** The resident set that got this environment killed; set once, as it dies. */
  private overLimitKb: number | undefined;
  dead = false;
  busy = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly config: EnvironmentConfig) {
    this.child = fork(RUNTIME.file, [config.handler, config.exportName], {
      execArgv: execArgvFor(config.memoryMb),
      env: config.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.passThrough(this.child.stdout, config.stdout);
    this.passThrough(this.child.stderr, config.stderr);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve) => {
      const onMessage = (message: unknown): void => {
        if (!isChildMessage(message)) return;
        if (message.type === 'ready') resolve(undefined);
        if (message.type === 'init-error') resolve(message.error);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', (code, signal) =>
        resolve({ errorType: 'Runtime.ExitError', errorMessage: exitReason(code, signal) }),
      );
    });
    this.child.on('message', (message: unknown) => {
      if (isChildMessage(message)) this.onMessage(message);
    });
    this.child.once('exit', (code, signal) => this.onExit(code, signal));
    // A failed fork (EAGAIN, ENOMEM) surfaces as 'error' then 'exit'; the exit path answers it.
    this.child.on('error', () => undefined);
  }

  /**
   * Runs one invocation; never rejects. Its memory is watched throughout, a
   * cold start's init included, since Lambda's limit covers both; an
   * environment over the limit is killed and the invocation answered as
   * Lambda answers it, whatever else it came to meanwhile.
   */
  async invoke(requestId: string, payload: string, invokedFunctionArn: string, onChunk?: ChunkSink): Promise<Outcome> {
    this.tail = '';
    this.currentRequestId = requestId;
    this.onChunk = onChunk;
    this.collected = [];
    this.startMemoryWatch();
    let outcome: Outcome;
    try {
      outcome = await this.run(requestId, payload, invokedFunctionArn);
    } finally {
      this.stopMemoryWatch();
      this.onChunk = undefined;
    }
    if (this.overLimitKb !== undefined) return this.outOfMemory(requestId, this.overLimitKb);
    return this.peakKb > 0 ? { ...outcome, maxMemoryMb: toMb(this.peakKb) } : outcome;
  }

  private async run(requestId: string, payload: string, invokedFunctionArn: string): Promise<Outcome> {
    const initError = await this.withTimer(this.ready, INIT_TIMEOUT_MS);
    if (initError === 'timeout') return this.timedOut(requestId, INIT_TIMEOUT_MS);
    if (initError !== undefined) {
      void this.kill();
      return { kind: 'init', error: initError, logTail: this.tail };
    }
    if (this.dead)
      return {
        kind: 'crash',
        error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' },
        logTail: this.tail,
      };

    const { timeoutMs } = this.config;
    const outcome = new Promise<Outcome>((resolve) => (this.current = resolve));
    this.child.send(
      { type: 'invoke', requestId, payload, deadline: Date.now() + timeoutMs, invokedFunctionArn },
      (err) => {
        // The channel closed under us (the process is exiting): answer now rather than at the timeout.
        if (err && this.current) {
          this.current({
            kind: 'crash',
            error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited` },
            logTail: this.tail,
          });
        }
      },
    );
    const settled = await this.withTimer(outcome, timeoutMs);
    this.current = undefined;
    return settled === 'timeout' ? this.timedOut(requestId, timeoutMs) : settled;
  }

  /** SIGKILL, as Lambda does to an environment it gives up on; resolves once the process is gone. */
  kill(): Promise<void> {
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * Samples the resident set on an unref'd interval, so an idle endpoint
   * pays nothing and a pending sample never holds the process open.
   */
  private startMemoryWatch(): void {
    this.peakKb = 0;
    this.sampleMemory();
    this.memoryWatch = setInterval(() => this.sampleMemory(), MEMORY_SAMPLE_MS).unref();
  }

  /** One last sample: it gives a short invocation its `Max Memory Used`, and catches memory it kept past the limit. */
  private stopMemoryWatch(): void {
    clearInterval(this.memoryWatch);
    this.memoryWatch = undefined;
    this.sampleMemory();
  }

  /**
   * Lambda's memory is a hard limit on everything the environment holds, not
   * just the V8 heap that `--max-old-space-size` bounds: native memory (sharp's
   * libvips) counts too, and passing it gets the runtime SIGKILLed.
   */
  private sampleMemory(): void {
    const pid = this.child.pid;
    if (pid === undefined || this.dead) return;
    const kb = residentKb(pid);
    if (kb === undefined) return;
    this.peakKb = Math.max(this.peakKb, kb);
    if (kb > this.config.memoryMb * 1024) {
      this.overLimitKb = kb;
      void this.kill();
    }
  }

  /**
   * Lambda's answer to a runtime killed for memory, as a Node.js 22 function
   * gets it (adobe/helix-html2md-service#1001, nodejs22.x):
   * `{"errorType":"Runtime.OutOfMemory","errorMessage":"RequestId: <id> Error: Runtime exited with error: signal: killed"}`.
   * Older reports show `Runtime.ExitError` with the same message; the payload type is what callers branch on.
   */
  private outOfMemory(requestId: string, rssKb: number): Outcome {
    const errorMessage = `RequestId: ${requestId} Error: ${exitReason(null, 'SIGKILL')}`;
    return {
      kind: 'oom',
      error: { errorType: 'Runtime.OutOfMemory', errorMessage },
      logTail: this.tail,
      rssMb: toMb(rssKb),
      limitMb: this.config.memoryMb,
      maxMemoryMb: toMb(this.peakKb),
    };
  }

  private timedOut(requestId: string, ms: number): Outcome {
    void this.kill();
    const seconds = (ms / 1000).toFixed(2);
    const errorMessage = `${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`;
    return { kind: 'timeout', error: { errorType: 'Sandbox.Timedout', errorMessage }, logTail: this.tail };
  }

  private async withTimer<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onMessage(message: ChildMessage): void {
    if (message.type === 'chunk') {
      if (message.requestId !== this.currentRequestId || this.current === undefined) return;
      if (this.onChunk) this.onChunk(message.data, message.contentType);
      else this.collected.push(Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength));
      return;
    }
    if (message.type !== 'result' && message.type !== 'error') return;
    if (message.requestId !== this.currentRequestId || this.current === undefined) return;
    const streamed = this.collected.length > 0 ? Buffer.concat(this.collected) : undefined;
    this.collected = [];
    const outcome: Outcome =
      message.type === 'result'
        ? { kind: 'ok', payload: streamed ?? message.payload, logTail: this.tail }
        : { kind: 'error', error: message.error, logTail: this.tail };
    if (this.loggedRequestId === message.requestId) return this.current(outcome);
    // The log's end has not come through stdout yet: wait for it (briefly: a handler may have closed stdout).
    const timer = setTimeout(() => this.deliverWaiting(), LOG_END_WAIT_MS);
    this.waitingOutcome = { outcome, timer };
  }

  private deliverWaiting(): void {
    const waiting = this.waitingOutcome;
    if (waiting === undefined) return;
    this.waitingOutcome = undefined;
    clearTimeout(waiting.timer);
    this.current?.({ ...waiting.outcome, logTail: this.tail });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true;
    if (this.waitingOutcome !== undefined) this.deliverWaiting();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    // A timed-out invocation has already been answered; anything still waiting here lost its process.
    if (this.current === undefined) return;
    const errorMessage = `RequestId: ${this.currentRequestId} Error: ${exitReason(code, signal)}`;
    this.current({ kind: 'crash', error: { errorType: 'Runtime.ExitError', errorMessage }, logTail: this.tail });
  }

  private passThrough(from: NodeJS.ReadableStream | null, to: Writable): void {
    if (from === null) return;
    let pending = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const text = pending + chunk;
      const end = text.lastIndexOf('\n') + 1;
      pending = text.slice(end);
      if (end === 0) return;
      let lines = text.slice(0, end);
      const mark = lines.lastIndexOf(LOG_END_MARK);
      if (mark >= 0) {
        const markEnd = lines.indexOf('\n', mark) + 1;
        this.loggedRequestId = lines.slice(mark + LOG_END_MARK.length, markEnd - 1);
        lines = lines.slice(0, mark) + lines.slice(markEnd);
      }
      this.tail = (this.tail + lines).slice(-LOG_TAIL_BYTES);
      if (lines.length > 0) to.write(lines);
      if (mark >= 0 && this.waitingOutcome !== undefined && this.loggedRequestId === this.currentRequestId)
        this.deliverWaiting();
    });
    from.on('end', () => {
      if (pending.length > 0) to.write(`${pending}\n`);
    });
  }
}
