import { fork } from 'node:child_process';
import { childEnv, siblingScript } from '@marquee/shared';
import { SDK_NODE_WARNING_OFF } from './env.js';

/** What the seed process is told (its one argument, as JSON). */
export interface SeedChildSettings {
  /** The local S3's endpoint. */
  endpoint: string;
  sourcesBucket: string;
  background: boolean;
  titles?: number;
}

export type SeedChildMessage =
  | { type: 'progress'; line: string }
  /** `seedSamples` returned: the titles the stack shows are in the bucket. */
  | { type: 'seeded'; titles: number; ready: number; seeded: boolean }
  | { type: 'complete' }
  | { type: 'failed'; name: string; message: string; stack?: string };

export type SeedParentMessage = { type: 'stop' };

export interface ChildSeed {
  /** Titles in the sample catalog. */
  titles: number;
  /** Titles whose artwork is in the bucket now. */
  ready: number;
  /** false: the bucket already held a complete catalog. */
  seeded: boolean;
  /** Settles when every title's artwork is in the bucket and the seed process has exited. */
  complete: Promise<void>;
  /** Stops the seed between images and waits for its process to exit. */
  stop(): Promise<void>;
}

const CHILD = siblingScript(import.meta.url, 'seed-child');
/** A stop waits for the image being rendered; past this the process is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** The seed's error, as it was thrown in its process. */
function rebuilt(m: Extract<SeedChildMessage, { type: 'failed' }>): Error {
  const err = new Error(m.message);
  err.name = m.name;
  if (m.stack) err.stack = m.stack;
  return err;
}

/**
 * `seedSamples` (`../seed/index.ts`) in a forked process (`seed-child.ts`), so that what rendering
 * costs in native memory leaves with it instead of staying resident in the stack's process.
 * Resolves as `seedSamples` does: when the titles shown first are in (all of them unless
 * `background`); `complete` when the rest are.
 */
export function seedInChild(settings: SeedChildSettings, progress?: (line: string) => void): Promise<ChildSeed> {
  const child = fork(CHILD.file, [JSON.stringify(settings)], {
    execArgv: CHILD.execArgv,
    env: childEnv(SDK_NODE_WARNING_OFF),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code ?? 'unknown'}`)),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ type: 'stop' } satisfies SeedParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
  };

  return new Promise<ChildSeed>((resolveStart, rejectStart) => {
    let failure: Error | undefined;
    let completed = false;
    child.on('error', (err) => (failure ??= err));
    const complete = new Promise<void>((resolve, reject) => {
      child.on('message', (m: SeedChildMessage) => {
        if (m.type === 'progress') progress?.(m.line);
        else if (m.type === 'seeded')
          resolveStart({ titles: m.titles, ready: m.ready, seeded: m.seeded, complete, stop });
        else if (m.type === 'complete') completed = true;
        else if (m.type === 'failed') failure = rebuilt(m);
      });
      void exited.then((how) => {
        if (completed) return resolve();
        const err = failure ?? new Error(`the sample seed's process ended (${how}) before the seed was complete`);
        // Before `seeded`, the start fails; after it, `complete` rejects (a stop's AbortError included).
        rejectStart(err);
        reject(err);
      });
    });
    // Handled here too: a caller that never waits on `complete` (a stop, a failed start) must not crash the stack.
    complete.catch(() => undefined);
  });
}
