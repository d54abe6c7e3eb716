import type { Source } from '@marquee/shared';
import { LRUCache } from 'lru-cache';

/** Prepared badge pixels and badge bytes a warm environment keeps: a few badges in a few sizes. */
export const OVERLAY_CACHE_BYTES = 4 * 1024 * 1024;
/**
 * How long badge bytes, once fetched and probed, are used without asking S3 again. Badges are
 * unversioned objects (`badges/…`) and the spec key does not cover their bytes: an output rendered
 * with a badge is already kept (output cache, CDN, derivatives bucket) after the badge changes,
 * so this window adds at most its own length to that staleness. It is not applied to masters:
 * a catalog version bump with the master overwritten in place must render the new bytes at once,
 * and only the conditional GET on every use guarantees that.
 */
export const OVERLAY_FRESH_MS = 30_000;

/** Raw RGBA pixels of a badge resized for one target box. */
export interface OverlayPixels {
  input: Buffer;
  raw: { width: number; height: number; channels: 4 };
}

interface Held {
  bytes: Buffer;
  checkedAt: number;
}

interface Prepared {
  /** The badge bytes the pixels were made from: a hit must be from the same bytes. */
  bytes: Buffer;
  pixels: OverlayPixels;
}

/** Where a source comes from: the same object (and version) or URL, not yet the same bytes. */
export function sourceIdentity(source: Source): string {
  return 's3' in source
    ? `s3\u0000${source.s3.bucket}\u0000${source.s3.key}\u0000${source.s3.versionId ?? ''}`
    : `url\u0000${source.url}`;
}

/**
 * Badges of a warm environment, decoded and resized once per (badge bytes, target box) instead
 * of on every render, and their bytes held for `freshMs` so a render within the window neither
 * fetches nor probes them again. Prepared pixels are keyed by the badge's identity and box and
 * checked against the bytes they came from, so a badge that changed is prepared afresh.
 * Bounded in bytes; buffers are shared and nothing writes into them (sharp only reads input).
 */
export class OverlayCache {
  private readonly held: LRUCache<string, Held>;
  private readonly prepared: LRUCache<string, Prepared>;

  constructor(
    maxBytes = OVERLAY_CACHE_BYTES,
    private readonly freshMs = OVERLAY_FRESH_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    const half = Math.max(1, Math.floor(maxBytes / 2));
    const entry = Math.max(1, Math.floor(half / 4));
    this.held = new LRUCache<string, Held>({
      maxSize: half,
      maxEntrySize: entry,
      sizeCalculation: (h) => h.bytes.length + 64,
    });
    this.prepared = new LRUCache<string, Prepared>({
      maxSize: half,
      maxEntrySize: entry,
      // The bytes are counted again: they may outlive their `held` entry.
      sizeCalculation: (p) => p.pixels.input.length + p.bytes.length + 64,
    });
  }

  /** The badge bytes, if fetched and probed within the freshness window. */
  fresh(identity: string): Buffer | undefined {
    const h = this.held.get(identity);
    if (h === undefined || this.now() - h.checkedAt >= this.freshMs) return undefined;
    return h.bytes;
  }

  /** Records bytes just fetched and probed; the window starts now. */
  hold(identity: string, bytes: Buffer): void {
    if (this.freshMs > 0) this.held.set(identity, { bytes, checkedAt: this.now() });
  }

  /** Pixels prepared from exactly these bytes for this box. */
  pixels(identity: string, bytes: Buffer, box: string): OverlayPixels | undefined {
    const p = this.prepared.get(`${identity}\u0000${box}`);
    if (p === undefined) return undefined;
    return p.bytes === bytes || p.bytes.equals(bytes) ? p.pixels : undefined;
  }

  keep(identity: string, bytes: Buffer, box: string, pixels: OverlayPixels): void {
    this.prepared.set(`${identity}\u0000${box}`, { bytes, pixels });
  }

  get bytes(): number {
    return this.held.calculatedSize + this.prepared.calculatedSize;
  }
}
