import type { Source } from '@marquee/shared';
import { LRUCache } from 'lru-cache';

/** Prepared badge pixels a warm environment keeps: a few badges in a few sizes. */
export const OVERLAY_CACHE_BYTES = 4 * 1024 * 1024;
/** Raw RGBA pixels of a badge resized for one target box. */
export interface OverlayPixels {
  input: Buffer;
  raw: { width: number; height: number; channels: 4 };
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
 * of on every render. Keyed by the badge's identity and box and checked against the bytes they
 * came from, so a badge that changed is prepared afresh. (The bytes themselves are the source
 * cache's, reused for BADGE_FRESH_MS.) Bounded in bytes; buffers are shared and nothing writes
 * into them (sharp only reads input).
 */
export class OverlayCache {
  private readonly prepared: LRUCache<string, Prepared>;

  constructor(maxBytes = OVERLAY_CACHE_BYTES) {
    this.prepared = new LRUCache<string, Prepared>({
      maxSize: maxBytes,
      maxEntrySize: Math.max(1, Math.floor(maxBytes / 4)),
      // The bytes are counted too: they may outlive the source cache's entry.
      sizeCalculation: (p) => p.pixels.input.length + p.bytes.length + 64,
    });
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
    return this.prepared.calculatedSize;
  }
}
