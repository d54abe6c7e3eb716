/**
 * Preloaded into the stack's process by `npm run rss` (`node --import`): answers its parent's
 * `{ type: 'memory' }` over the IPC channel with the process's own figures. Inert without a channel.
 */
import { readFileSync } from 'node:fs';

export interface MemoryReading {
  type: 'memory';
  /** Resident set now and its peak, from /proc/self/status (kB). */
  rssKb: number;
  hwmKb: number;
  /** Anonymous (heap-like) and file-backed (code, shared libraries) parts of the resident set (kB). */
  anonKb: number;
  fileKb: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Whether libvips (sharp) is mapped into the process. */
  libvips: boolean;
}

function status(field: string, text: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

export function reading(): MemoryReading {
  const text = readFileSync('/proc/self/status', 'utf8');
  const memory = process.memoryUsage();
  return {
    type: 'memory',
    rssKb: status('VmRSS', text),
    hwmKb: status('VmHWM', text),
    anonKb: status('RssAnon', text),
    fileKb: status('RssFile', text),
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    libvips: /libvips/.test(readFileSync('/proc/self/maps', 'utf8')),
  };
}

if (process.send) {
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'memory') process.send?.(reading());
  });
  // After the listener (which refs it): the channel must not keep the stack alive once it has closed.
  process.channel?.unref();
}
