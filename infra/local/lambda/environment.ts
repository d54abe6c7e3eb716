import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { INIT_TIMEOUT_MS, LOG_TAIL_BYTES } from './limits.js';
import { isChildMessage, type ChildMessage, type FunctionErrorBody } from './protocol.js';

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

/** How one invocation ended. `kind` says which counter it moves and whether the environment survives. */
export type Outcome =
  | { kind: 'ok'; payload: string; logTail: string }
  | { kind: 'error'; error: FunctionErrorBody; logTail: string }
  | { kind: 'timeout' | 'crash' | 'init'; error: FunctionErrorBody; logTail: string };

/**
 * Under tsx (tests, `node --import tsx`) this module is TypeScript and so is
 * the bootstrap; compiled, both are JavaScript. The child gets exactly the
 * loader it needs and nothing inherited from the parent's `execArgv`.
 */
const RUNTIME_IS_TS = import.meta.url.endsWith('.ts');
const RUNTIME_PATH = fileURLToPath(new URL(RUNTIME_IS_TS ? './runtime.ts' : './runtime.js', import.meta.url));

function execArgvFor(memoryMb: number): string[] {
  const argv = [`--max-old-space-size=${memoryMb}`, '--enable-source-maps'];
  if (RUNTIME_IS_TS) argv.push(`--import=${import.meta.resolve('tsx')}`);
  return argv;
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) {
    const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGABRT: 'aborted', SIGSEGV: 'segmentation fault' };
    return `Runtime exited with error: signal: ${names[signal] ?? signal}`;
  }
  if (code === 0) return 'Runtime exited without providing a reason';
  return `Runtime exited with error: exit status ${code ?? 'unknown'}`;
}

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
  private tail = '';
  dead = false;
  busy = false;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly config: EnvironmentConfig) {
    this.child = fork(RUNTIME_PATH, [config.handler, config.exportName], {
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
      this.child.once('exit', (code, signal) => resolve({ errorType: 'Runtime.ExitError', errorMessage: exitReason(code, signal) }));
    });
    this.child.on('message', (message: unknown) => {
      if (isChildMessage(message)) this.onMessage(message);
    });
    this.child.once('exit', (code, signal) => this.onExit(code, signal));
    // A failed fork (EAGAIN, ENOMEM) surfaces as 'error' then 'exit'; the exit path answers it.
    this.child.on('error', () => undefined);
  }

  /** Runs one invocation; never rejects. */
  async invoke(requestId: string, payload: string, invokedFunctionArn: string): Promise<Outcome> {
    this.tail = '';
    this.currentRequestId = requestId;
    const initError = await this.withTimer(this.ready, INIT_TIMEOUT_MS);
    if (initError === 'timeout') return this.timedOut(requestId, INIT_TIMEOUT_MS);
    if (initError !== undefined) {
      this.kill();
      return { kind: 'init', error: initError, logTail: this.tail };
    }
    if (this.dead) return { kind: 'crash', error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' }, logTail: this.tail };

    const { timeoutMs } = this.config;
    const outcome = new Promise<Outcome>((resolve) => (this.current = resolve));
    this.child.send({ type: 'invoke', requestId, payload, deadline: Date.now() + timeoutMs, invokedFunctionArn }, (err) => {
      // The channel closed under us (the process is exiting): answer now rather than at the timeout.
      if (err && this.current) {
        this.current({ kind: 'crash', error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: Runtime exited` }, logTail: this.tail });
      }
    });
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

  private timedOut(requestId: string, ms: number): Outcome {
    this.kill();
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
    if (message.type !== 'result' && message.type !== 'error') return;
    if (message.requestId !== this.currentRequestId || this.current === undefined) return;
    const outcome: Outcome =
      message.type === 'result'
        ? { kind: 'ok', payload: message.payload, logTail: this.tail }
        : { kind: 'error', error: message.error, logTail: this.tail };
    this.current(outcome);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.dead = true;
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
      this.tail = (this.tail + chunk).slice(-LOG_TAIL_BYTES);
      const text = pending + chunk;
      const end = text.lastIndexOf('\n') + 1;
      pending = text.slice(end);
      if (end > 0) to.write(text.slice(0, end));
    });
    from.on('end', () => {
      if (pending.length > 0) to.write(`${pending}\n`);
    });
  }
}
