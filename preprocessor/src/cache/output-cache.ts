import { LRUCache } from 'lru-cache';

export interface CachedImage {
  body: Buffer;
  contentType: string;
  width: number;
  height: number;
  etag: string;
  /** `body.length` as the header value, made once per entry rather than once per hit. */
  contentLength: string;
}

/** Fixed overhead counted per entry (headers, key, object): keeps many tiny images honest too. */
const ENTRY_OVERHEAD_BYTES = 512;

/** Rendered images by canonical spec key, bounded in bytes (not entries). */
export class OutputCache {
  private readonly lru: LRUCache<string, CachedImage> | undefined;

  constructor(maxBytes: number, maxEntryBytes: number) {
    this.lru =
      maxBytes > 0
        ? new LRUCache<string, CachedImage>({
            maxSize: maxBytes,
            maxEntrySize: Math.min(maxEntryBytes, maxBytes),
            sizeCalculation: (value) => value.body.length + ENTRY_OVERHEAD_BYTES,
          })
        : undefined;
  }

  get(key: string): CachedImage | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: CachedImage): void {
    this.lru?.set(key, value);
  }

  /** Drops one output; true when it was cached. */
  delete(key: string): boolean {
    return this.lru?.delete(key) ?? false;
  }

  clear(): void {
    this.lru?.clear();
  }

  get bytes(): number {
    return this.lru?.calculatedSize ?? 0;
  }

  get entries(): number {
    return this.lru?.size ?? 0;
  }
}
