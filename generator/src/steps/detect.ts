import { MarqueeError, sniffImageFormat, type InputFormat } from '@marquee/shared';
import { sharp } from './sharp.js';

export { INPUT_FORMATS, type InputFormat } from '@marquee/shared';

/** The format named by the bytes' magic number, never by a file name or Content-Type. */
export const sniffFormat = sniffImageFormat;

export interface Probe {
  format: InputFormat;
  /** Size after EXIF orientation is applied. */
  width: number;
  height: number;
  hasAlpha: boolean;
}

function metadataMatches(format: InputFormat, meta: { format?: string; compression?: string }): boolean {
  if (format === 'avif') return meta.format === 'heif' && meta.compression === 'av1';
  return meta.format === format;
}

/**
 * Reads only the header: format, size and orientation. Refuses a source whose
 * pixel count passes `maxPixels` before any decode, so a 50000x50000
 * decompression bomb costs microseconds, not gigabytes.
 */
export async function probe(buf: Buffer, maxPixels: number, what = 'source'): Promise<Probe> {
  const format = sniffFormat(buf);
  if (format === undefined) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a JPEG, PNG, WebP, AVIF or GIF image`);
  }
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(buf, { pages: 1, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a valid ${format} image`, { cause: err });
  }
  if (!metadataMatches(format, meta)) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a valid ${format} image`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} has no dimensions`);
  if (width * height > maxPixels) {
    throw new MarqueeError('SOURCE_TOO_LARGE', `${what} is ${width}x${height}, more than ${maxPixels} pixels`);
  }
  return { format, width, height, hasAlpha: meta.hasAlpha === true };
}
