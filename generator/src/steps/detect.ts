import { MarqueeError } from '@marquee/shared';
import { sharp } from './sharp.js';

/** Input formats the service renders; anything else (SVG, TIFF, HEIC, PDF, …) is refused. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

function ascii(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

/** ISO-BMFF `ftyp` whose major or a compatible brand is AVIF. */
function isAvif(buf: Buffer): boolean {
  if (buf.length < 16 || ascii(buf, 4, 8) !== 'ftyp') return false;
  const size = Math.min(buf.readUInt32BE(0), buf.length);
  for (let at = 8; at + 4 <= size; at += 4) {
    if (at === 12) continue; // minor version, not a brand
    const brand = ascii(buf, at, at + 4);
    if (brand === 'avif' || brand === 'avis') return true;
  }
  return false;
}

/** The format named by the bytes' magic number, never by a file name or Content-Type. */
export function sniffFormat(buf: Buffer): InputFormat | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (buf.length >= 12 && ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (buf.length >= 6 && (ascii(buf, 0, 6) === 'GIF87a' || ascii(buf, 0, 6) === 'GIF89a')) return 'gif';
  if (isAvif(buf)) return 'avif';
  return undefined;
}

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
