import { fork } from 'node:child_process';
import { siblingScript } from '@marquee/shared';

export interface ChildServer {
  /** What clients use: the server, or the cache in front of it (`ipx-cdn`). */
  url: string;
  /** The server itself, behind any cache. */
  origin: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts a peer server (`ipx`, `ipx-cdn` or `bare`) in a child process; resolves with its URLs. */
export async function startChildServer(args: string[]): Promise<ChildServer> {
  const { file, execArgv } = siblingScript(import.meta.url, 'servers-child');
  const child = fork(file, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url, origin } = await new Promise<{ url: string; origin: string }>((resolve, reject) => {
    child.once('message', (m: { type: string; url?: string; origin?: string; message?: string }) =>
      m.type === 'ready' && m.url
        ? resolve({ url: m.url, origin: m.origin ?? m.url })
        : reject(new Error(`${args[0]} server failed: ${m.message ?? 'unknown'}`)),
    );
    child.once('exit', (code) => reject(new Error(`${args[0]} server exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    origin,
    pid: child.pid ?? -1,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
