import { MarqueeError, type Focal, type ImageSpec, type Overlay } from '@marquee/shared';
import type { OverlayOptions } from 'sharp';
import { backgroundFor, flattenColour, type Rgba } from './colour.js';
import type { Probe } from './detect.js';
import { encode } from './encode.js';
import {
  attentionFocal,
  attentionView,
  intermediatePixels,
  needsAttention,
  pixelBound,
  plan,
  type Geometry,
  type PixelSize,
} from './geometry.js';
import { sourceIdentity, type OverlayCache } from './overlay-cache.js';
import { sharp, type Sharp, type OutputInfo } from './sharp.js';

export interface RenderLimits {
  maxInputPixels: number;
  renderTimeoutMs: number;
}

/** A badge decoded and sized for one output: raw RGBA pixels and where they go. */
export interface PreparedOverlay {
  input: Buffer;
  raw: { width: number; height: number; channels: 4 };
  gravity: Overlay['gravity'];
}

/** libvips counts its time-out in whole seconds: a budget in ms, rounded up, at least one. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Decoding options for untrusted input: the pixel cap again (belt and braces
 * after `probe`), fail on truncated or corrupt data instead of rendering grey,
 * EXIF auto-orientation, and the first frame only of an animation.
 */
function open(buf: Buffer, limits: RenderLimits): Sharp {
  return sharp(buf, { failOn: 'error', limitInputPixels: limits.maxInputPixels, autoOrient: true, pages: 1 }).timeout({
    seconds: seconds(limits.renderTimeoutMs),
  });
}

/** libvips reports its time-out as an ordinary error; the clock tells the two apart. */
async function run<T>(what: string, limits: RenderLimits, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } catch (err) {
    if (err instanceof MarqueeError) throw err;
    const elapsed = performance.now() - started;
    if (elapsed >= seconds(limits.renderTimeoutMs) * 1000 - 50) {
      throw new MarqueeError('TIMEOUT', `${what} render timed out after ${Math.round(elapsed)} ms`, { cause: err });
    }
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} could not be decoded`, { cause: err });
  }
}

/** Resizes a badge to `scale` × the output width (never taller than the output). */
export async function prepareOverlay(
  buf: Buffer,
  overlay: Overlay,
  frame: { width: number; height: number },
  limits: RenderLimits,
  cache?: OverlayCache,
): Promise<PreparedOverlay> {
  const width = Math.min(Math.max(1, Math.round(overlay.scale * frame.width)), frame.width);
  const box = `${width}x${frame.height}`;
  const identity = cache === undefined ? '' : sourceIdentity(overlay.source);
  let pixels = cache?.pixels(identity, buf, box);
  if (pixels === undefined) {
    pixels = await run('overlay', limits, async () => {
      const { data, info } = await open(buf, limits)
        .resize({ width, height: frame.height, fit: 'inside' })
        .toColourspace('srgb')
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return { input: data, raw: { width: info.width, height: info.height, channels: 4 as const } };
    });
    cache?.keep(identity, buf, box, pixels);
  }
  return { input: pixels.input, raw: pixels.raw, gravity: overlay.gravity };
}

/**
 * One render's plan, made once per image: its geometry gives the output size before any
 * pixel is decoded (overlays are prepared against it), and `render` follows it.
 */
export interface RenderPlan {
  /** The letterbox fill, also what alpha is flattened onto for JPEG. */
  background: Rgba;
  geometry: Geometry;
}

export function planRender(source: Probe, spec: ImageSpec): RenderPlan {
  const background = backgroundFor(spec);
  return { background, geometry: plan(source, spec, background) };
}

/** Whether the rendered frame can hold transparency: from the source or a see-through letterbox. */
function hasAlpha(source: Probe, spec: ImageSpec, bg: Rgba): boolean {
  if (spec.format === 'jpeg') return false;
  return source.hasAlpha || (spec.fit === 'contain' && bg.alpha < 1);
}

/**
 * Defence in depth: refuses a plan whose intermediate image would exceed the
 * source plus the output. `plan` never makes one; if it ever did, the render
 * would cost what the input implies rather than what the output needs.
 */
export function checkPlan(source: PixelSize, spec: PixelSize, geometry: Geometry): void {
  const pixels = intermediatePixels(geometry);
  const bound = pixelBound(source, spec);
  if (pixels > bound) {
    throw new MarqueeError(
      'INTERNAL',
      `render plan for a ${source.width}x${source.height} source holds ${pixels} pixels, more than ${bound}`,
    );
  }
}

/**
 * Runs libvips' attention strategy on a small view of the source (at most
 * ATTENTION_PIXELS) rather than on the source enlarged to cover the output,
 * which for an extreme aspect is hundreds of megapixels. The view is made first
 * so the attention crop is a pure crop of it and its offset maps back exactly.
 */
async function findAttention(buf: Buffer, source: PixelSize, geometry: Geometry, limits: RenderLimits): Promise<Focal> {
  const v = attentionView(source, geometry);
  const view = await open(buf, limits)
    .resize({ ...v.view, fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { info } = await sharp(view.data, {
    raw: { width: view.info.width, height: view.info.height, channels: view.info.channels },
  })
    .timeout({ seconds: seconds(limits.renderTimeoutMs) })
    .resize({ ...v.box, fit: 'cover', position: sharp.strategy.attention })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // libvips reports the crop as the shift of the image's origin: the crop's left/top, negated.
  return attentionFocal(v, Math.abs(info.cropOffsetLeft ?? 0), Math.abs(info.cropOffsetTop ?? 0));
}

/**
 * Orient, crop/resize, flatten, composite overlays, convert to sRGB, encode, following the
 * plan. Only a focal-less enlarging `cover` is planned again, once attention has said where to
 * cut: the window moves, the output size (which the overlays were sized from) does not.
 */
export function render(
  buf: Buffer,
  source: Probe,
  spec: ImageSpec,
  renderPlan: RenderPlan,
  overlays: readonly PreparedOverlay[],
  limits: RenderLimits,
): Promise<{ data: Buffer; info: OutputInfo }> {
  return run('source', limits, async () => {
    const bg = renderPlan.background;
    let { geometry } = renderPlan;
    if (needsAttention(spec, geometry))
      geometry = plan(source, spec, bg, await findAttention(buf, source, geometry, limits));
    checkPlan(source, spec, geometry);
    let image = open(buf, limits);
    // `extract` before `resize` is sharp's pre-resize extract (after EXIF orientation), after it the post-resize one.
    if (geometry.pre !== undefined) image = image.extract(geometry.pre);
    image = image.resize(geometry.resize);
    if (geometry.post !== undefined) image = image.extract(geometry.post);
    if (spec.format === 'jpeg') image = image.flatten({ background: flattenColour(bg) });
    if (overlays.length > 0) {
      // The frame is made first, as raw sRGB pixels, and the badges composited onto those: in
      // the decoding pipeline libvips' composite costs a second pass over decode and resize,
      // where compositing onto the finished frame touches only the output's pixels.
      const started = performance.now();
      const frame = await image.toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const { width, height } = frame.info;
      const channels = frame.info.channels as 3 | 4;
      const layers: OverlayOptions[] = overlays.map((o) => ({ input: o.input, raw: o.raw, gravity: o.gravity }));
      // The second pipeline gets what is left of the budget.
      const left = limits.renderTimeoutMs - (performance.now() - started);
      image = sharp(frame.data, { raw: { width, height, channels } })
        .timeout({ seconds: seconds(left) })
        .composite(layers);
      // Compositing adds an alpha band; drop it again when the frame was opaque.
      if (!hasAlpha(source, spec, bg)) image = image.removeAlpha();
    }
    image = encode(image.toColourspace('srgb'), spec);
    return image.toBuffer({ resolveWithObject: true });
  });
}
