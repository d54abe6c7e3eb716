import { MarqueeError } from '@marquee/shared';

/**
 * Who a Generator invocation is for, most urgent first: a client waiting on a CDN miss, a studio
 * partner previewing, a prewarm nobody waits for.
 */
export const PRIORITIES = ['live', 'studio', 'prewarm'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface SchedulerOptions {
  /** Generator invocations in flight at once (`MARQUEE_MAX_INFLIGHT`). */
  slots: number;
  /** Callers of each priority that may wait for a slot; past it they are shed at once. */
  maxQueue: Record<Priority, number>;
  /** Slots prewarm may hold at once: the rest are kept for live and studio work. */
  prewarmSlots: number;
}

interface Waiter {
  priority: Priority;
  grant: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** What `acquire` gives: call it once, when the invocation is over. */
export type Release = () => void;

function overloaded(): MarqueeError {
  return new MarqueeError('OVERLOADED', 'Too many images in progress; retry shortly.', { retryAfter: 1 });
}

/**
 * The one mechanism that decides who gets a Generator slot. A free slot goes at once to a caller
 * when nobody of its priority or higher is waiting; a released slot goes to the longest waiter of
 * the highest priority waiting (live, then studio, then prewarm), and never to prewarm past its
 * share. Each priority's queue is bounded, each wait timed: past either the caller is refused at
 * once (503 + Retry-After), so load is shed early and never queued without bound. Nothing polls.
 * Written here rather than taken from p-queue: p-queue orders by priority but has neither a
 * per-priority cap on holders (the prewarm share) nor a timed, bounded wait per caller.
 */
export class Scheduler {
  private active = 0;
  private readonly holding: Record<Priority, number> = { live: 0, studio: 0, prewarm: 0 };
  private readonly queues: Record<Priority, Waiter[]> = { live: [], studio: [], prewarm: [] };

  constructor(private readonly opts: SchedulerOptions) {}

  /** Slots held now. */
  get inUse(): number {
    return this.active;
  }

  /** Callers waiting now, of every priority. */
  get queued(): number {
    return this.queues.live.length + this.queues.studio.length + this.queues.prewarm.length;
  }

  /** Slots held now by one priority. */
  held(priority: Priority): number {
    return this.holding[priority];
  }

  /** Slots nobody holds now. */
  get free(): number {
    return this.opts.slots - this.active;
  }

  /**
   * A slot for `priority`, waiting at most `waitMs` (Infinity: as long as it takes, for a caller
   * whose own queue is bounded elsewhere) or until `signal` aborts. Refused at once when its
   * queue is full.
   */
  async acquire(priority: Priority, waitMs: number, signal?: AbortSignal): Promise<Release> {
    if (this.mayTake(priority) && !this.anyWaiting(priority)) return this.take(priority);
    const queue = this.queues[priority];
    if (queue.length >= this.opts.maxQueue[priority] || waitMs <= 0 || signal?.aborted === true) throw overloaded();
    await new Promise<void>((grant, reject) => {
      const leave = (): void => {
        const at = queue.indexOf(waiter);
        if (at === -1) return;
        queue.splice(at, 1);
        clearTimeout(waiter.timer);
        reject(overloaded());
      };
      const waiter: Waiter = {
        priority,
        grant: () => {
          signal?.removeEventListener('abort', leave);
          grant();
        },
        reject,
        timer: Number.isFinite(waitMs) ? setTimeout(leave, waitMs) : undefined,
      };
      signal?.addEventListener('abort', leave, { once: true });
      queue.push(waiter);
    });
    return this.releaser(priority);
  }

  private mayTake(priority: Priority): boolean {
    if (this.active >= this.opts.slots) return false;
    return priority !== 'prewarm' || this.holding.prewarm < this.opts.prewarmSlots;
  }

  /** Whether anyone of this priority or a higher one is waiting (they go first). */
  private anyWaiting(priority: Priority): boolean {
    for (const p of PRIORITIES) {
      if (this.queues[p].length > 0) return true;
      if (p === priority) return false;
    }
    return false;
  }

  private take(priority: Priority): Release {
    this.active++;
    this.holding[priority]++;
    return this.releaser(priority);
  }

  private releaser(priority: Priority): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.holding[priority]--;
      this.dispatch();
    };
  }

  /** Hands free slots to waiters, highest priority first, prewarm within its share. */
  private dispatch(): void {
    for (const p of PRIORITIES) {
      const queue = this.queues[p];
      while (queue.length > 0 && this.mayTake(p)) {
        const waiter = queue.shift() as Waiter;
        clearTimeout(waiter.timer);
        this.active++;
        this.holding[p]++;
        waiter.grant();
      }
      if (this.active >= this.opts.slots) return;
    }
  }
}
