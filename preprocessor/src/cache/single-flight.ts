/**
 * One piece of work per key in flight: concurrent callers with the same key share its promise.
 * The entry is removed when the work settles, success or failure, so a failure is never cached.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  /** Runs `work` unless the key is already in flight; `shared` tells the caller which happened. */
  run(key: string, work: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const existing = this.flights.get(key);
    if (existing) return { promise: existing, shared: true };
    const promise = work().finally(() => this.flights.delete(key));
    this.flights.set(key, promise);
    return { promise, shared: false };
  }

  get size(): number {
    return this.flights.size;
  }
}
