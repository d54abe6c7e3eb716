import type { Focal, ImageSpec } from '@marquee/shared';
import type { Region, ResizeOptions } from 'sharp';
import { sharp } from './sharp.js';

/** How the oriented source becomes the output frame: one resize, then an optional extract. */
export interface Geometry {
  resize: ResizeOptions & { width: number; height: number };
  extract: Region | undefined;
  /** Final output size, known before rendering (overlays are sized from it). */
  width: number;
  height: number;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/**
 * `cover` around a focal point: scale so the frame is covered, then place the
 * frame's centre on the focal point, clamped so the window stays inside.
 */
export function focalWindow(src: { width: number; height: number }, width: number, height: number, focal: Focal): Geometry {
  const scale = Math.max(width / src.width, height / src.height);
  const rw = Math.max(width, Math.round(src.width * scale));
  const rh = Math.max(height, Math.round(src.height * scale));
  const left = clamp(Math.round(focal.x * rw - width / 2), 0, rw - width);
  const top = clamp(Math.round(focal.y * rh - height / 2), 0, rh - height);
  return {
    resize: { width: rw, height: rh, fit: 'fill' },
    extract: { left, top, width, height },
    width,
    height,
  };
}

/** The resize plan for a spec, from the source size after orientation. */
export function plan(src: { width: number; height: number }, spec: ImageSpec, background: ResizeOptions['background']): Geometry {
  const { width, height } = spec;
  switch (spec.fit) {
    case 'cover':
      if (spec.focal !== undefined) return focalWindow(src, width, height, spec.focal);
      return { resize: { width, height, fit: 'cover', position: sharp.strategy.attention }, extract: undefined, width, height };
    case 'contain':
      return { resize: { width, height, fit: 'contain', background }, extract: undefined, width, height };
    case 'fill':
      return { resize: { width, height, fit: 'fill' }, extract: undefined, width, height };
    case 'inside': {
      // Never enlarged; the size is computed here so overlays know it before rendering.
      const scale = Math.min(1, width / src.width, height / src.height);
      const w = Math.max(1, Math.round(src.width * scale));
      const h = Math.max(1, Math.round(src.height * scale));
      return { resize: { width: w, height: h, fit: 'fill' }, extract: undefined, width: w, height: h };
    }
  }
}
