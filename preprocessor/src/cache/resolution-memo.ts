import { LRUCache } from 'lru-cache';

/** Distinct artwork URLs remembered; each entry is a few hundred bytes. */
const MAX_ENTRIES = 20_000;
/** Longer keys (a 10 KB Accept header) are resolved every time rather than remembered. */
const MAX_KEY_LENGTH = 512;

/**
 * Resolutions by request (with what the route derives from them once: headers, the canonical
 * spelling), for the rules and catalog in force: a cache hit then costs a map lookup instead of
 * locale chains, Accept parsing and a SHA-256 of the spec. Any new rules or catalog (a different
 * state object) empties it.
 */
export class ResolutionMemo<T extends object> {
  private readonly lru = new LRUCache<string, T>({ max: MAX_ENTRIES });
  private state: object | undefined;

  get(state: object, key: string): T | undefined {
    if (state !== this.state) {
      this.lru.clear();
      this.state = state;
      return undefined;
    }
    return key.length > MAX_KEY_LENGTH ? undefined : this.lru.get(key);
  }

  set(state: object, key: string, resolution: T): void {
    if (state === this.state && key.length <= MAX_KEY_LENGTH) this.lru.set(key, resolution);
  }
}
