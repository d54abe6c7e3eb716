import { setImmediate as yieldTurn } from 'node:timers/promises';
import { loadSharp } from './sharp.js';
import { HEATMAP_MAX_SIDE, HEATMAP_THRESHOLD } from './limits.js';

export interface HeatMap {
  /** A PNG: the current image dimmed to grey, each differing pixel red (slight) to yellow (strong). */
  png: Buffer;
  /** Fraction of pixels whose difference passes the threshold, 0..1. */
  changed: number;
  /** The largest per-channel difference, 0..255. */
  maxDelta: number;
  /** Whether the draft's image had another pixel size and was scaled to the current one to compare. */
  resized: boolean;
}

/**
 * Pixels compared between two turns of the event loop. A 4K billboard's map (8 M pixels) in one
 * go holds the loop far longer than an artwork request should wait; in slices the longest hold
 * is a fraction of that (an interval timer's lateness shows it), so artwork requests are not
 * held up for long.
 */
const SLICE_PIXELS = 512 * 1024;

/**
 * Where two renders of one artwork URL differ, computed on their decoded pixels (RGBA, so a
 * change of transparency counts): per pixel the largest channel difference. Work is bounded by
 * the outputs themselves, which the rules bound; the map is scaled down to `HEATMAP_MAX_SIDE`.
 */
export async function heatMap(current: Buffer, draft: Buffer): Promise<HeatMap> {
  const sharp = await loadSharp();
  const a = await sharp(current).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = a.info;
  const meta = await sharp(draft).metadata();
  const resized = meta.width !== width || meta.height !== height;
  const b = await sharp(draft)
    .resize(resized ? { width, height, fit: 'fill' } : undefined)
    .ensureAlpha()
    .raw()
    .toBuffer();

  const pixels = width * height;
  const out = Buffer.alloc(pixels * 3);
  let changed = 0;
  let maxDelta = 0;
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += 4, o += 3) {
    if (p % SLICE_PIXELS === 0 && p > 0) await yieldTurn();
    const delta = Math.max(
      Math.abs(a.data[i]! - b[i]!),
      Math.abs(a.data[i + 1]! - b[i + 1]!),
      Math.abs(a.data[i + 2]! - b[i + 2]!),
      Math.abs(a.data[i + 3]! - b[i + 3]!),
    );
    if (delta > maxDelta) maxDelta = delta;
    if (delta > HEATMAP_THRESHOLD) {
      changed++;
      // Red for a slight difference, to yellow for a full-scale one.
      out[o] = 255;
      out[o + 1] = Math.min(255, Math.round((delta / 128) * 255));
      out[o + 2] = 0;
    } else {
      // The current picture as a dim grey backdrop, so the differences read in place.
      const alpha = a.data[i + 3]! / 255;
      const grey = Math.round((0.3 * a.data[i]! + 0.59 * a.data[i + 1]! + 0.11 * a.data[i + 2]!) * 0.35 * alpha);
      out[o] = grey;
      out[o + 1] = grey;
      out[o + 2] = grey;
    }
  }
  const scale = Math.min(1, HEATMAP_MAX_SIDE / Math.max(width, height));
  const png = await sharp(out, { raw: { width, height, channels: 3 } })
    .resize(
      scale < 1
        ? { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) }
        : undefined,
    )
    .png({ compressionLevel: 6 })
    .toBuffer();
  return { png, changed: pixels === 0 ? 0 : changed / pixels, maxDelta, resized };
}
