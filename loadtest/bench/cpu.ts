// CPU time of a contender: a process and all its descendants, from /proc/<pid>/stat, read before
// and after the measured window. Linux only; elsewhere the figures are absent, not guessed.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime/stime (`getconf CLK_TCK`, 100 on Linux). */
export const CLK_TCK: number = (() => {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime of the process (all its threads, live and exited). */
  selfTicks: number;
  /** cutime + cstime: children that exited and were waited for by this process. */
  reapedChildTicks: number;
}

/** Parses one /proc/<pid>/stat line (the command may hold spaces and parentheses). */
export function parseStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // After ") ": field 3 (state) is index 0, so field n is index n - 3.
  const f = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const n = (field: number) => Number(f[field - 3]);
  const [ppid, utime, stime, cutime, cstime] = [n(4), n(14), n(15), n(16), n(17)];
  if (![pid, ppid, utime, stime, cutime, cstime].every(Number.isFinite)) return undefined;
  return {
    pid,
    ppid,
    comm: line.slice(open + 1, close),
    selfTicks: utime + stime,
    reapedChildTicks: cutime + cstime,
  };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone between the listing and the read
  }
}

/** Every process in /proc (one read each). */
function allStats(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** The root and its descendants among `stats`. */
export function descendants(stats: readonly ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return [];
  const out: ProcStat[] = [rootStat];
  for (let i = 0; i < out.length; i++) out.push(...(children.get((out[i] as ProcStat).pid) ?? []));
  return out;
}

export interface TreeSample {
  /** Σ utime + stime + cutime + cstime over the live tree, in ticks. */
  ticks: number;
  pids: number[];
}

/**
 * CPU ticks of a process tree. A child that exits and is reaped by a member of the tree moves
 * its whole CPU time into that member's cutime/cstime, so the sum stays continuous across the
 * exit: `after - before` counts processes that exited during the window, and those born and
 * gone within it, as long as a tree member waited for them (Node does, for every child).
 */
export function sampleTree(root: number, stats: readonly ProcStat[] = allStats()): TreeSample {
  const tree = descendants(stats, root);
  return { ticks: tree.reduce((a, s) => a + s.selfTicks + s.reapedChildTicks, 0), pids: tree.map((s) => s.pid) };
}

/**
 * Waits until a process tree is idle: two 100 ms samples in a row with at most 2 ticks each
 * (≤ 0.2 core), or `timeoutMs`. Used before a window (work the warm-up left in flight must not
 * land in it) and after it (requests in flight when wrk stopped are finished, and counted).
 */
export async function settleTree(root: number, timeoutMs = 5000): Promise<void> {
  if (process.platform !== 'linux') return;
  const deadline = Date.now() + timeoutMs;
  let last = sampleTree(root).ticks;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = sampleTree(root).ticks;
    quiet = now - last <= 2 ? quiet + 1 : 0;
    last = now;
  }
}

export interface CpuWindow {
  /** CPU milliseconds spent by the contender during the window. */
  cpuMs: number;
  /** How it was measured, for the report. */
  source: string;
  /** Processes seen in the tree (before ∪ after). */
  processes: number;
}

export interface CpuMeter {
  stop(): CpuWindow;
}

/** Starts measuring a process tree rooted at `pid` (the stack child, the ipx child). */
export function treeMeter(pid: number, what: string): CpuMeter {
  const before = sampleTree(pid);
  return {
    stop() {
      const after = sampleTree(pid);
      const pids = new Set([...before.pids, ...after.pids]);
      return {
        cpuMs: (Math.max(0, after.ticks - before.ticks) * 1000) / CLK_TCK,
        source: `${what}: /proc stat utime+stime+cutime+cstime over pid ${pid} and descendants (${pids.size} processes), ${1000 / CLK_TCK} ms ticks`,
        processes: pids.size,
      };
    },
  };
}

/** This process (raw sharp works in the bench's own process): getrusage, all threads, children excluded. */
export function selfMeter(): CpuMeter {
  const before = process.cpuUsage();
  return {
    stop() {
      const d = process.cpuUsage(before);
      return {
        cpuMs: (d.user + d.system) / 1000,
        source: `bench process ${process.pid}: process.cpuUsage() (getrusage RUSAGE_SELF, all threads, µs)`,
        processes: 1,
      };
    },
  };
}
