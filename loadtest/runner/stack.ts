import { fork, type ChildProcess } from 'node:child_process';
import { ConfigError, DERIVATIVES_PREFIX, childEnv, siblingScript } from '@marquee/shared';
import type { CdnStats, ChildMessage, LambdaStats, ParentMessage, StackChildOptions } from './stack-protocol.js';
import type { StoreTarget } from './store.js';

/** How long the stack may take to start (s3rver, seeding, the Lambda pool, the Preprocessor). */
const START_TIMEOUT_MS = 90_000;

export interface StackHandle {
  /** The Preprocessor. */
  url: string;
  /** The CDN tier in front of it, when started with `cdn: true`. */
  cdnUrl?: string;
  s3Endpoint: string;
  /** Where the Generator writes the renders it keeps: the runner counts the objects there. */
  store: StoreTarget;
  lambdaEndpoint: string;
  pid: number;
  /** Functions, not methods: callers pass them on detached from the handle. */
  lambdaStats: () => Promise<LambdaStats | undefined>;
  /** The CDN tier's hit and miss counters (undefined without one). */
  cdnStats: () => Promise<CdnStats | undefined>;
  /**
   * Subscribes to the stack's stdout, line by line: the Generator environments' JSON log lines
   * (one `generated` line per invocation, with its timings). Returns the unsubscribe function.
   */
  onStdoutLine: (listener: (line: string) => void) => () => void;
  close: () => Promise<void>;
}

/** Starts `@marquee/local`'s embedded stack in a child process and waits until it listens. */
export async function startEmbeddedStack(options: StackChildOptions = {}): Promise<StackHandle> {
  const { file, execArgv } = siblingScript(import.meta.url, 'stack-child');
  const child: ChildProcess = fork(file, [], {
    execArgv,
    env: childEnv({ MARQUEE_STACK_OPTIONS: JSON.stringify(options) }),
    // The Generator environments log every invocation: stdout goes to listeners (the bench reads
    // its timings) and is drained otherwise; of stderr only the tail is kept, for start-up failures.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const lineListeners = new Set<(line: string) => void>();
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (lineListeners.size === 0) {
      partial = '';
      return;
    }
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const l of lineListeners) l(line);
  });
  let stderrTail = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderrTail = (stderrTail + d.toString()).slice(-4000);
  });
  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`embedded stack did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === 'error') {
        clearTimeout(timer);
        // A bad configuration stays a ConfigError, so the CLI prints its lines and exits 1.
        reject(m.problems ? new ConfigError(m.problems) : new Error(`embedded stack failed to start: ${m.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`embedded stack exited with ${code} before it was ready: ${stderrTail}`));
    });
  });

  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stats = () =>
    new Promise<Extract<ChildMessage, { type: 'stats' }> | undefined>((resolve) => {
      if (!child.connected) return resolve(undefined);
      const id = nextId++;
      const timer = setTimeout(() => resolve(undefined), 5000);
      const onMessage = (m: ChildMessage) => {
        if (m.type === 'stats' && m.id === id) {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(m);
        }
      };
      child.on('message', onMessage);
      child.send({ type: 'stats', id } satisfies ParentMessage);
    });
  return {
    url: ready.url,
    ...(ready.cdnUrl !== undefined ? { cdnUrl: ready.cdnUrl } : {}),
    s3Endpoint: ready.s3Endpoint,
    store: { endpoint: ready.s3Endpoint, bucket: ready.derivativesBucket, prefix: DERIVATIVES_PREFIX },
    lambdaEndpoint: ready.lambdaEndpoint,
    pid: child.pid ?? -1,
    onStdoutLine: (listener) => {
      lineListeners.add(listener);
      return () => lineListeners.delete(listener);
    },
    lambdaStats: async () => (await stats())?.lambda,
    cdnStats: async () => (await stats())?.cdn,
    close: async () => {
      if (child.exitCode !== null) return;
      if (child.connected) child.send({ type: 'close' } satisfies ParentMessage);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
