// What keeping a render costs the Generator: each kept render's `generated` log line gives the ms
// to the end of its reply stream (`ms`) and the ms of the PUT that follows it in the same
// invocation (`putMs`). The PUT is billed; the reply, which the CDN waits for, is over before it.
import { percentileOf } from './stats.js';

export interface PutTimings {
  /** Kept renders seen in the Generator's log lines. */
  kept: number;
  /** Of those, PUTs that failed (`stored: false`): served all the same. */
  failed: number;
  /** The PUT after the reply: the billed duration keeping adds (median and p95, ms). */
  putMs: { p50: number; p95: number } | undefined;
  /** The same renders' reply, to the end of its stream (ms): the latency the PUT stays out of. */
  replyMs: { p50: number; p95: number } | undefined;
}

/** One Generator `generated` log line, as the bench's stage table and this collector read it. */
export interface GeneratedLine {
  ms: number;
  putMs?: number;
  stored?: boolean;
  timings?: { fetchMs?: number; renderMs?: number };
}

/** The line, when it is a Generator's `generated` line with its `ms`; else undefined (someone else's). */
export function parseGeneratedLine(line: string): GeneratedLine | undefined {
  if (!line.includes('"generated"')) return undefined;
  try {
    const j = JSON.parse(line) as { msg?: unknown; ms?: unknown } & Omit<GeneratedLine, 'ms'>;
    return j.msg === 'generated' && typeof j.ms === 'number' ? (j as GeneratedLine) : undefined;
  } catch {
    return undefined;
  }
}

/** Collects PUT timings from the stack's stdout lines (the Generator environments' logs). */
export class PutTimingCollector {
  readonly #put: number[] = [];
  readonly #reply: number[] = [];
  #failed = 0;

  readonly line = (line: string): void => {
    const j = parseGeneratedLine(line);
    if (typeof j?.putMs !== 'number') return;
    this.#put.push(j.putMs);
    this.#reply.push(j.ms);
    if (j.stored === false) this.#failed++;
  };

  summary(): PutTimings {
    const spread = (values: number[]) => {
      if (values.length === 0) return undefined;
      const sorted = [...values].sort((a, b) => a - b);
      return { p50: percentileOf(sorted, 50) ?? 0, p95: percentileOf(sorted, 95) ?? 0 };
    };
    return { kept: this.#put.length, failed: this.#failed, putMs: spread(this.#put), replyMs: spread(this.#reply) };
  }
}
