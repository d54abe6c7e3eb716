import { LRUCache } from 'lru-cache';

interface Entry {
  etag: string;
  body: Buffer;
  /** The catalog version the bytes were fetched for, when the caller named one. */
  version: string | undefined;
}

/**
 * Source bytes kept by a warm environment, bounded in bytes. A popular master is rendered in
 * many sizes and formats. A render that names the catalog version it wants (or an S3 versionId)
 * reuses the bytes held for that version without asking S3: a changed master is a new catalog
 * version (the spec key, the ETag and every cached derivative change with it), and an S3 object
 * version never changes. Anything else asks S3 each time (a conditional GET on the ETag), so an
 * unchanged source comes back as a 304 instead of megabytes.
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

  set(key: string, etag: string, body: Buffer, version?: string): void {
    this.lru.set(key, { etag, body, version });
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
