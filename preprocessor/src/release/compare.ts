import sharp from 'sharp';
import type { Render } from './render.js';

/**
 * How one pair of renders (the version live now, the candidate) differs: format, dimensions,
 * bytes, and a perceptual difference, DSSIM = 1/SSIM − 1 (0 for identical pixels; the
 * definition of kornelski/dssim). SSIM here is the mean over 8×8 windows, stepped by 4 pixels,
 * of the SSIM of each RGBA channel (Wang et al. 2004, C1 = (0.01·255)², C2 = (0.03·255)²),
 * on the pixels sharp decodes: small enough to read, no native dependency beyond sharp.
 */

/**
 * The gate's line: a pair whose DSSIM passes it is a change of look. A release must change no
 * look, so the line sits just above encoder noise, not at "visible to most people". Measured by
 * the release tests on the sample catalog (boxshots, JPEG and WebP): the same code rebuilt gives
 * 0 (identical bytes, every pair); WebP quality 80 → 75 gives 4.6e-2 to 9.9e-2 (12 pairs); a crop
 * one pixel off gives 1.1e-1 to 4.9e-1 where the crop has room to move (4 of 24 pairs). 5e-4 is
 * 90 times below the smallest of those, and above 0 so that a rounding difference a libvips
 * patch release may bring does not stop a release by itself (not measured here: no second
 * libvips to compare).
 */
export const DSSIM_THRESHOLD = 5e-4;

const WINDOW = 8;
const STEP = 4;
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
/** Difference image: a channel difference of 1 shows as 16 levels, so a ±1 rounding is visible to a person. */
const DIFF_GAIN = 16;

export interface Decoded {
  data: Buffer;
  width: number;
  height: number;
}

export async function decode(body: Buffer): Promise<Decoded> {
  const { data, info } = await sharp(body).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean SSIM of two RGBA images of the same size. */
export function ssim(a: Decoded, b: Decoded): number {
  const { width, height } = a;
  const w = Math.min(WINDOW, width);
  const h = Math.min(WINDOW, height);
  const n = w * h;
  let total = 0;
  let windows = 0;
  for (let y = 0; y + h <= height; y += STEP) {
    for (let x = 0; x + w <= width; x += STEP) {
      for (let c = 0; c < 4; c++) {
        let sa = 0;
        let sb = 0;
        let saa = 0;
        let sbb = 0;
        let sab = 0;
        for (let dy = 0; dy < h; dy++) {
          let i = ((y + dy) * width + x) * 4 + c;
          for (let dx = 0; dx < w; dx++, i += 4) {
            const va = a.data[i] as number;
            const vb = b.data[i] as number;
            sa += va;
            sb += vb;
            saa += va * va;
            sbb += vb * vb;
            sab += va * vb;
          }
        }
        const ma = sa / n;
        const mb = sb / n;
        const va = saa / n - ma * ma;
        const vb = sbb / n - mb * mb;
        const cov = sab / n - ma * mb;
        total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
        windows++;
      }
    }
  }
  return windows === 0 ? 1 : total / windows;
}

export function dssimOf(similarity: number): number {
  return similarity <= 0 ? Number.POSITIVE_INFINITY : Math.max(0, 1 / similarity - 1);
}

/** A PNG of where two same-size images differ: the largest channel difference, amplified, in red on black. */
export async function differenceImage(a: Decoded, b: Decoded): Promise<Buffer> {
  const out = Buffer.alloc(a.width * a.height * 3);
  for (let p = 0, i = 0; p < out.length; p += 3, i += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs((a.data[i + c] as number) - (b.data[i + c] as number)));
    out[p] = Math.min(255, d * DIFF_GAIN);
    out[p + 1] = Math.min(255, d * (DIFF_GAIN / 4));
  }
  return sharp(out, { raw: { width: a.width, height: a.height, channels: 3 } })
    .png()
    .toBuffer();
}

export interface RenderSummary {
  ok: boolean;
  executed?: string | undefined;
  ms: number;
  contentType?: string;
  width?: number;
  height?: number;
  bytes?: number;
  error?: string;
}

export interface PairComparison {
  identical: boolean;
  dssim: number | undefined;
  /** Why the pair fails the gate; undefined when it passes. */
  failure: string | undefined;
}

export function summary(r: Render): RenderSummary {
  return r.ok
    ? {
        ok: true,
        executed: r.executed,
        ms: r.ms,
        contentType: r.contentType,
        width: r.width,
        height: r.height,
        bytes: r.body.length,
      }
    : { ok: false, executed: r.executed, ms: r.ms, error: r.error };
}

/** Compares a pair; `threshold` is the DSSIM past which it fails. */
export async function comparePair(baseline: Render, candidate: Render, threshold: number): Promise<PairComparison> {
  if (!baseline.ok)
    return { identical: false, dssim: undefined, failure: `the live version failed: ${baseline.error}` };
  if (!candidate.ok) return { identical: false, dssim: undefined, failure: `the candidate failed: ${candidate.error}` };
  if (baseline.contentType !== candidate.contentType)
    return { identical: false, dssim: undefined, failure: `format ${baseline.contentType} → ${candidate.contentType}` };
  if (baseline.width !== candidate.width || baseline.height !== candidate.height)
    return {
      identical: false,
      dssim: undefined,
      failure: `dimensions ${baseline.width}x${baseline.height} → ${candidate.width}x${candidate.height}`,
    };
  if (baseline.body.equals(candidate.body)) return { identical: true, dssim: 0, failure: undefined };
  const [a, b] = await Promise.all([decode(baseline.body), decode(candidate.body)]);
  if (a.width !== b.width || a.height !== b.height)
    return { identical: false, dssim: undefined, failure: 'decoded dimensions differ from the announced ones' };
  const dssim = dssimOf(ssim(a, b));
  return {
    identical: false,
    dssim,
    failure: dssim > threshold ? `DSSIM ${dssim.toExponential(2)} > ${threshold.toExponential(1)}` : undefined,
  };
}
