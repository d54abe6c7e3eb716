import { MarqueeError } from '@marquee/shared';

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

function overloaded(): MarqueeError {
  return new MarqueeError('OVERLOADED', 'Too many images in progress; retry shortly.', { retryAfter: 1 });
}

/**
 * A counting semaphore with a bounded, time-limited wait: at most `max` holders, at most
 * `maxWaiting` callers queued, each for at most the wait it asks for. Past either bound the
 * caller is refused at once (503 + Retry-After): load is shed early, never queued without bound.
 */
export class Slots {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async acquire(waitMs: number): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return;
    }
    if (this.waiting.length >= this.maxWaiting || waitMs <= 0) throw overloaded();
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(overloaded());
        }, waitMs),
      };
      this.waiting.push(waiter);
    });
  }

  /** Hands the slot to the longest waiter, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
    } else {
      this.active--;
    }
  }
}
