import { LRUCache } from 'lru-cache';

interface Entry {
  etag: string;
  body: Buffer;
}

/**
 * Source bytes kept by a warm environment, bounded in bytes. A popular master is rendered in
 * many sizes and formats; each render still asks S3 (a conditional GET on the ETag), so the
 * bytes are never stale, but an unchanged source comes back as a 304 instead of megabytes.
 * Bodies are shared: nothing downstream may write into them (sharp only reads its input).
 */
export class SourceCache {
  private readonly lru: LRUCache<string, Entry>;

  constructor(maxBytes: number) {
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

  set(key: string, etag: string, body: Buffer): void {
    this.lru.set(key, { etag, body });
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
