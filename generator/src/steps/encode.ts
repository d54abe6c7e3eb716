import type { ImageSpec } from '@marquee/shared';
import type { Sharp } from './sharp.js';

/** Spec effort 0..9 onto an encoder's own integer range. */
export function scaleEffort(effort: number, min: number, max: number): number {
  return Math.round(min + (effort / 9) * (max - min));
}

/** Below this effort JPEG skips mozjpeg's trellis/scan optimisation: faster, a little larger. */
const JPEG_MOZJPEG_MIN_EFFORT = 3;

/** Sets the output encoder; metadata is not kept (sharp's default) and ICC is not embedded. */
export function encode(image: Sharp, spec: ImageSpec): Sharp {
  const { quality, effort } = spec;
  switch (spec.format) {
    case 'jpeg':
      return image.jpeg({ quality, mozjpeg: effort === undefined || effort >= JPEG_MOZJPEG_MIN_EFFORT });
    case 'png':
      // Lossless: quality does not apply; effort is zlib's level (1..9).
      return image.png({ compressionLevel: effort === undefined ? 6 : scaleEffort(effort, 1, 9) });
    case 'webp':
      return image.webp({ quality, ...(effort === undefined ? {} : { effort: scaleEffort(effort, 0, 6) }) });
    case 'avif':
      return image.avif({ quality, ...(effort === undefined ? {} : { effort: scaleEffort(effort, 0, 9) }) });
  }
}
