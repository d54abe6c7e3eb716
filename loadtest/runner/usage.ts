// CPU during a run, once a second, so a reader can tell a saturated machine from a slow service:
// the stack's process tree (from /proc, as the bench measures it), this load generator, and the
// whole machine (other work on a shared host shows here). Linux only; elsewhere the figures are
// absent, not guessed.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { CLK_TCK, descendants, parseStat, type ProcStat } from '../bench/cpu.js';

export interface UsagePoint {
  /** Seconds on the load's clock. */
  t: number;
  /** CPU ticks of the stack's root process itself (Preprocessor, s3rver, local Lambda endpoint in one process). */
  stackMainTicks?: number;
  /** CPU ticks of the whole stack tree: the root and its descendants (the Generator environments), reaped ones included. */
  stackTreeTicks?: number;
  /** This process (the load generator): user + system µs. */
  loadGenUs: number;
  /** /proc/stat's first line: busy and total ticks of the machine. */
  machineBusyTicks?: number;
  machineTotalTicks?: number;
}

/** Cores busy over a span, from two samples. */
export interface CoresBusy {
  stackMain?: number;
  stackTree?: number;
  loadGen: number;
  /** Machine busy share × cores: everything, other tenants included. */
  machine?: number;
  /** CPU ms of the stack tree and of the stack's root over the span (for per-request figures). */
  stackTreeMs?: number;
  stackMainMs?: number;
}

export const MACHINE_CORES = cpus().length;

/** `cpu  user nice system idle iowait irq softirq steal …` → busy and total ticks. */
export function parseProcStat(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((v) => !Number.isFinite(v))) return undefined;
  // guest and guest_nice (fields 9, 10) are already inside user and nice.
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function readProcStats(): ProcStat[] {
  const out: ProcStat[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      const s = parseStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (s) out.push(s);
    } catch {
      // gone between the listing and the read
    }
  }
  return out;
}

/** One sample now. `stackPid`: the root of the stack's process tree, when the runner started it. */
export function sampleUsage(t: number, stackPid: number | undefined): UsagePoint {
  const cpu = process.cpuUsage();
  const point: UsagePoint = { t, loadGenUs: cpu.user + cpu.system };
  if (process.platform !== 'linux') return point;
  try {
    const m = parseProcStat(readFileSync('/proc/stat', 'utf8'));
    if (m) {
      point.machineBusyTicks = m.busy;
      point.machineTotalTicks = m.total;
    }
  } catch {
    // no /proc/stat: no machine figure
  }
  if (stackPid !== undefined) {
    const tree = descendants(readProcStats(), stackPid);
    const root = tree[0];
    if (root) {
      point.stackMainTicks = root.selfTicks;
      point.stackTreeTicks = tree.reduce((a, s) => a + s.selfTicks + s.reapedChildTicks, 0);
    }
  }
  return point;
}

/** Cores busy between two samples. */
export function coresBetween(a: UsagePoint, b: UsagePoint): CoresBusy | undefined {
  const dt = b.t - a.t;
  if (!(dt > 0)) return undefined;
  const ticks = (x: number | undefined, y: number | undefined) =>
    x !== undefined && y !== undefined ? Math.max(0, y - x) : undefined;
  const tree = ticks(a.stackTreeTicks, b.stackTreeTicks);
  const main = ticks(a.stackMainTicks, b.stackMainTicks);
  const busy = ticks(a.machineBusyTicks, b.machineBusyTicks);
  const total = ticks(a.machineTotalTicks, b.machineTotalTicks);
  const r = (v: number) => Math.round(v * 100) / 100;
  return {
    loadGen: r((b.loadGenUs - a.loadGenUs) / 1e6 / dt),
    ...(tree !== undefined ? { stackTree: r(tree / CLK_TCK / dt), stackTreeMs: (tree * 1000) / CLK_TCK } : {}),
    ...(main !== undefined ? { stackMain: r(main / CLK_TCK / dt), stackMainMs: (main * 1000) / CLK_TCK } : {}),
    ...(busy !== undefined && total ? { machine: r((busy / total) * MACHINE_CORES) } : {}),
  };
}

/** Samples usage every `intervalMs` until stopped. */
export class UsageSampler {
  readonly points: UsagePoint[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly clock: () => number,
    private readonly stackPid: number | undefined,
    private readonly intervalMs = 1000,
  ) {}

  sampleOnce(): void {
    this.points.push(sampleUsage(Math.round(this.clock() * 100) / 100, this.stackPid));
  }

  start(): void {
    this.timer = setInterval(() => this.sampleOnce(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sampleOnce();
  }
}

/** The description printed beside the figures. */
export function usageSource(stackPid: number | undefined): string {
  const stack =
    stackPid !== undefined
      ? `stack: /proc/<pid>/stat utime+stime(+cutime+cstime for the tree) of pid ${stackPid} ("main": that process alone — Preprocessor, s3rver, local Lambda endpoint; "tree": with the Generator environments)`
      : 'stack: not measured (the runner did not start it)';
  return `${stack}; load generator: process.cpuUsage() of the runner; machine: /proc/stat busy share × ${MACHINE_CORES} cores (everything on the host); ${1000 / CLK_TCK} ms ticks, sampled once a second`;
}
