import { LRUCache } from 'lru-cache';

interface Entry {
  etag: string;
  body: Buffer;
  /** The catalog version the bytes were last fetched or validated for, when the caller named one. */
  version: string | undefined;
  /** When S3 last confirmed the bytes (a 200 or a 304). */
  checkedAt: number;
}

/**
 * How long badge bytes S3 confirmed are used without asking again. Badges are unversioned objects
 * (`badges/…`) and the spec key does not cover their bytes: an output rendered with a badge is
 * already kept (output cache, CDN, derivatives bucket) after the badge changes, so this window
 * adds at most its own length to that staleness. Masters get no window: they are reused for the
 * catalog version asked for, and a version bump with the master overwritten in place must render
 * the new bytes at once.
 */
export const BADGE_FRESH_MS = 30_000;

/** When held bytes may be used without asking S3 again. */
export interface Reuse {
  /** The catalog version the caller wants: bytes held for that version are used as they are. */
  version?: string;
  /** Bytes S3 confirmed less than this long ago are used as they are (badges: unversioned). */
  freshMs?: number;
}

/**
 * Source bytes kept by a warm environment, bounded in bytes. A popular master is rendered in
 * many sizes and formats. A render that names the catalog version it wants (or an S3 versionId)
 * reuses the bytes held for that version without asking S3: a changed master is a new catalog
 * version (the spec key, the ETag and every cached derivative change with it), and an S3 object
 * version never changes. Badges are reused for a short freshness window. Anything else asks S3
 * each time (a conditional GET on the ETag), so an unchanged source comes back as a 304 instead
 * of megabytes. Bodies are shared: nothing downstream may write into them (sharp only reads).
 */
export class SourceCache {
  private readonly lru: LRUCache<string, Entry>;

  constructor(
    maxBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      // One master may take at most a quarter: a huge one must not flush all the others.
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 4)),
      sizeCalculation: (entry) => entry.body.length + entry.etag.length + 64,
    });
  }

  get(key: string): Entry | undefined {
    return this.lru.get(key);
  }

  /** The held bytes, when `reuse` (or an S3 object version, `pinned`) lets them be used without asking S3. */
  reusable(key: string, pinned: boolean, reuse: Reuse): Buffer | undefined {
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    if (pinned || (reuse.version !== undefined && entry.version === reuse.version)) return entry.body;
    if (reuse.freshMs !== undefined && this.now() - entry.checkedAt < reuse.freshMs) return entry.body;
    return undefined;
  }

  /** Records bytes S3 just sent or confirmed (a 304), for `version` when the caller named one. */
  set(key: string, etag: string, body: Buffer, version?: string): void {
    this.lru.set(key, { etag, body, version, checkedAt: this.now() });
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
