import type { Fit, Focal, ImageSpec } from '@marquee/shared';
import type { Region, ResizeOptions } from 'sharp';
import { sharp } from './sharp.js';

/**
 * The pixel extent of an image this step handles: the oriented source, a window of it, the
 * output. (The Preprocessor's rules have their own `Size`, a logical size before DPR.)
 */
export interface PixelSize {
  width: number;
  height: number;
}

/**
 * How the oriented source becomes the output frame: an optional cut before the
 * resize (`pre`), one resize, an optional cut after it (`post`). The work a
 * plan implies follows the output, never a size the source's aspect implies:
 * a crop that enlarges cuts its window from the source first and scales only
 * that (a 20000x10 strip cropped to 300x300 scales a 10x10 window, not a
 * 600000x300 strip); a crop that shrinks scales the whole source first, which
 * stays within the source's pixels, keeps libvips' shrink-on-load (a pre-resize
 * extract turns it off) and decodes the source once.
 */
export interface Geometry {
  /**
   * The part of the oriented source the output shows, in source pixels (for a
   * shrinking attention crop, which sharp places during the resize, the centred
   * estimate: only its size is certain).
   */
  window: Region;
  pre: Region | undefined;
  resize: ResizeOptions & PixelSize;
  /** What the resize produces before its own crop (`cover` crops inside sharp's resize). */
  scaled: PixelSize;
  post: Region | undefined;
  /** Final output size, known before rendering (overlays are sized from it). */
  width: number;
  height: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
const area = (s: PixelSize) => s.width * s.height;
const CENTRE: Focal = { x: 0.5, y: 0.5 };

/**
 * How much the fit would scale the source up (> 1) or down: the larger axis
 * scale for `cover` and `fill` (no axis may be enlarged), the smaller for
 * `contain`. `inside` never enlarges.
 */
export function enlargement(src: PixelSize, fit: Fit, out: PixelSize): number {
  const sx = out.width / src.width;
  const sy = out.height / src.height;
  switch (fit) {
    case 'cover':
    case 'fill':
      return Math.max(sx, sy);
    case 'contain':
      return Math.min(sx, sy);
    case 'inside':
      return Math.min(1, sx, sy);
  }
}

/**
 * The box the fit works in, honouring `enlarge: false`: a fit that would scale
 * the source up renders the same picture at the source's resolution instead,
 * every requested dimension divided by the enlargement (rounded, at least 1).
 * It is the output size for every fit but `inside`, which fits within it.
 */
export function targetBox(src: PixelSize, spec: Pick<ImageSpec, 'width' | 'height' | 'fit' | 'enlarge'>): PixelSize {
  const out = { width: spec.width, height: spec.height };
  const factor = enlargement(src, spec.fit, out);
  if (spec.enlarge !== false || factor <= 1) return out;
  return { width: Math.max(1, Math.round(out.width / factor)), height: Math.max(1, Math.round(out.height / factor)) };
}

/**
 * The largest region of the output's aspect inside the source, centred on the
 * focal point and clamped inside: what `cover` shows, in source pixels. For an
 * extreme aspect it can be tiny (10x10 of a 20000x10 strip).
 */
export function coverWindow(src: PixelSize, out: PixelSize, focal: Focal): Region {
  const scale = Math.max(out.width / src.width, out.height / src.height);
  const width = clamp(Math.round(out.width / scale), 1, src.width);
  const height = clamp(Math.round(out.height / scale), 1, src.height);
  return {
    left: clamp(Math.round(focal.x * src.width - width / 2), 0, src.width - width),
    top: clamp(Math.round(focal.y * src.height - height / 2), 0, src.height - height),
    width,
    height,
  };
}

const isWhole = (src: PixelSize, r: Region) => r.width === src.width && r.height === src.height;

/**
 * `cover`. Enlarging: cut the window from the source, then scale it to the
 * output. Shrinking: scale the whole source so it covers the output, then cut
 * (sharp's own attention crop when there is no focal point), as the source was
 * going to be decoded whole anyway.
 */
function cover(src: PixelSize, out: PixelSize, focal: Focal | undefined): Geometry {
  const window = coverWindow(src, out, focal ?? CENTRE);
  const fill = { ...out, fit: 'fill' as const };
  if (isWhole(src, window)) return { window, pre: undefined, resize: fill, scaled: out, post: undefined, ...out };
  const scale = Math.max(out.width / src.width, out.height / src.height);
  if (scale > 1) return { window, pre: window, resize: fill, scaled: out, post: undefined, ...out };
  const scaled = {
    width: Math.max(out.width, Math.round(src.width * scale)),
    height: Math.max(out.height, Math.round(src.height * scale)),
  };
  if (focal === undefined) {
    const resize = { ...out, fit: 'cover' as const, position: sharp.strategy.attention };
    return { window, pre: undefined, resize, scaled, post: undefined, ...out };
  }
  const post = {
    left: clamp(Math.round(window.left * scale), 0, scaled.width - out.width),
    top: clamp(Math.round(window.top * scale), 0, scaled.height - out.height),
    ...out,
  };
  return { window, pre: undefined, resize: { ...scaled, fit: 'fill' }, scaled, post, ...out };
}

/**
 * The resize plan for a spec, from the source size after orientation. A
 * shrinking `cover` without a focal point leaves the crop to sharp's attention
 * strategy; an enlarging one is centred until `attention` (found by the
 * renderer on a small view, see `needsAttention`) says where to look.
 */
export function plan(
  src: PixelSize,
  spec: ImageSpec,
  background: ResizeOptions['background'],
  attention?: Focal,
): Geometry {
  const out = targetBox(src, spec);
  const whole = { left: 0, top: 0, width: src.width, height: src.height };
  switch (spec.fit) {
    case 'cover':
      return cover(src, out, spec.focal ?? attention);
    case 'contain':
      // The scaled source fits inside the frame: the work is the frame's.
      return {
        window: whole,
        pre: undefined,
        resize: { ...out, fit: 'contain', background },
        scaled: out,
        post: undefined,
        ...out,
      };
    case 'fill':
      return { window: whole, pre: undefined, resize: { ...out, fit: 'fill' }, scaled: out, post: undefined, ...out };
    case 'inside': {
      // Never enlarged; the size is computed here so overlays know it before rendering.
      const scale = Math.min(1, out.width / src.width, out.height / src.height);
      const size = {
        width: Math.max(1, Math.round(src.width * scale)),
        height: Math.max(1, Math.round(src.height * scale)),
      };
      return {
        window: whole,
        pre: undefined,
        resize: { ...size, fit: 'fill' },
        scaled: size,
        post: undefined,
        ...size,
      };
    }
  }
}

/**
 * The most pixels any image between the decoded source and the output holds
 * under this plan (the decoded source itself is capped by `maxInputPixels`).
 */
export function intermediatePixels(g: Geometry): number {
  return Math.max(g.pre === undefined ? 0 : area(g.pre), area(g.scaled), area(g.resize), area(g));
}

/**
 * What a plan may hold at most: the source plus the requested output, never a
 * product of the two. Taken from the request, not the plan, so a wrong plan
 * cannot raise its own bound.
 */
export function pixelBound(src: PixelSize, requested: PixelSize): number {
  return area(src) + area(requested);
}

/**
 * Pixels the attention strategy looks at. libvips reduces its saliency map
 * to 32x32 whatever it is given, so a quarter-megapixel view of the source
 * places the crop as well as the full image would, at a bounded cost.
 */
export const ATTENTION_PIXELS = 512 * 512;

/**
 * Where attention runs: `view` is the source scaled down to at most
 * ATTENTION_PIXELS (never up), `box` the plan's window scaled the same way, so
 * a `cover` of the view onto the box is a pure crop whose offset maps back.
 */
export function attentionView(src: PixelSize, g: Geometry): { view: PixelSize; box: PixelSize } {
  const k = Math.min(1, Math.sqrt(ATTENTION_PIXELS / area(src)));
  // Rounded down, so the view never passes the cap (a side below one pixel stays one).
  const view = { width: Math.max(1, Math.floor(src.width * k)), height: Math.max(1, Math.floor(src.height * k)) };
  const box = coverWindow(view, g.window, CENTRE);
  return { view, box: { width: box.width, height: box.height } };
}

/** The centre of the crop attention chose in the view, as a focal point for `plan`. */
export function attentionFocal(v: { view: PixelSize; box: PixelSize }, cropLeft: number, cropTop: number): Focal {
  return {
    x: clamp((cropLeft + v.box.width / 2) / v.view.width, 0, 1),
    y: clamp((cropTop + v.box.height / 2) / v.view.height, 0, 1),
  };
}

/**
 * Whether the renderer must find attention before cutting: a focal-less
 * enlarging `cover`, whose window is cut before any resize. (Running the
 * strategy in the resize, as a shrinking `cover` does, would enlarge the whole
 * source first: a 20000x10 strip to 600000x300 for a 300x300 output.)
 */
export function needsAttention(spec: ImageSpec, g: Geometry): boolean {
  return spec.fit === 'cover' && spec.focal === undefined && g.pre !== undefined;
}
