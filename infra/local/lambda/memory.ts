import { existsSync, readFileSync } from 'node:fs';

/**
 * How often a busy environment's resident set is sampled. Lambda's limit is a
 * hard cgroup cap; sampling can only approximate it, so this bounds how far an
 * environment can overshoot (what it allocates in one interval) against what
 * the watching costs: one read of procfs (15–50 µs) per tick, only while an
 * invocation runs, so an idle endpoint does no work at all.
 */
export const MEMORY_SAMPLE_MS = 50;

const VM_RSS = /^VmRSS:\s+(\d+) kB$/m;

/**
 * Whether this platform exposes other processes' resident sets (Linux procfs).
 * Elsewhere only the V8 heap cap (`--max-old-space-size`) limits a function.
 */
export function canWatchMemory(): boolean {
  return existsSync(`/proc/${process.pid}/status`);
}

/**
 * A process's whole resident set in KiB – V8 heap, Buffers, and native memory
 * such as libvips' pixel caches alike – or `undefined` once it is gone.
 * `VmRSS` is in kB whatever the page size, unlike `statm`. A synchronous read
 * on purpose: procfs never blocks on a disk, and the thread-pool round trip of
 * an asynchronous read costs more than the read itself.
 */
export function residentKb(pid: number): number | undefined {
  try {
    const match = VM_RSS.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** KiB to the whole MB Lambda reports (`Max Memory Used: 129 MB`). */
export function toMb(kb: number): number {
  return Math.ceil(kb / 1024);
}
