import { watch, type FSWatcher } from 'node:fs';

export interface FolderWatch {
  close(): void;
}

/** Quiet time after the last change before `onChange` runs: an editor's save or a copy of many files is one change. */
export const DEFAULT_DEBOUNCE_MS = 300;

/**
 * Calls `onChange` when anything under `dir` changes, once the changes have paused for
 * `debounceMs`; never two at once (a change during a run makes one more run after it).
 * Errors of `onChange` and of the watcher go to `onError`; the watch goes on.
 */
export function watchFolder(
  dir: string,
  onChange: () => Promise<void>,
  options: { debounceMs?: number; onError: (err: unknown) => void },
): FolderWatch {
  const debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const run = (): void => {
    timer = undefined;
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = onChange()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          run();
        }
      });
  };
  // Recursive: Linux (Node 20+), macOS and Windows watch the title folders too.
  const watcher: FSWatcher = watch(dir, { recursive: true, persistent: false }, () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  });
  watcher.on('error', options.onError);
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      watcher.close();
    },
  };
}
