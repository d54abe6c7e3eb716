import type { Metadata } from 'sharp';
import { MarqueeError } from '@marquee/shared';
import { MAX_UPLOAD_PIXELS, type UPLOAD_FORMATS } from './limits.js';

export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

export interface CheckedImage {
  format: UploadFormat;
  /** Size after EXIF orientation, as the Generator renders it. */
  width: number;
  height: number;
}

function ascii(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

/** ISO-BMFF `ftyp` naming an AVIF brand. */
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

/** The format the bytes' magic number names: never the file name or the part's Content-Type. */
export function sniffUpload(buf: Buffer): UploadFormat | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (buf.length >= 12 && ascii(buf, 0, 4) === 'RIFF' && ascii(buf, 8, 12) === 'WEBP') return 'webp';
  if (isAvif(buf)) return 'avif';
  return undefined;
}

type Sharp = (typeof import('sharp'))['default'];
let loading: Promise<Sharp> | undefined;

/**
 * sharp is loaded on the first upload, not at start: the Preprocessor is otherwise pure
 * JavaScript, and an image without sharp must still serve artwork (uploads then fail with 500).
 */
function loadSharp(): Promise<Sharp> {
  const pending =
    loading ??
    import('sharp').then(
      (m) => m.default,
      (err: unknown) => {
        loading = undefined;
        throw new MarqueeError('INTERNAL', 'Uploads need sharp, which is not installed on this server.', { cause: err });
      },
    );
  loading = pending;
  return pending;
}

function matches(format: UploadFormat, meta: { format?: string; compression?: string }): boolean {
  if (format === 'avif') return meta.format === 'heif' && meta.compression === 'av1';
  return meta.format === format;
}

/**
 * Proves an upload is an image the Generator will render: the magic number, the header
 * (refusing a pixel bomb before any decode), then a small decode of the whole file, so a
 * truncated or corrupt master is refused now rather than at its first render.
 */
export async function checkUpload(buf: Buffer): Promise<CheckedImage> {
  const format = sniffUpload(buf);
  if (!format) throw new MarqueeError('UNSUPPORTED_IMAGE', 'The file is not a JPEG, PNG, WebP or AVIF image.');
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(buf, { pages: 1, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `The file is not a valid ${format} image.`, { cause: err });
  }
  if (!matches(format, meta)) throw new MarqueeError('UNSUPPORTED_IMAGE', `The file is not a valid ${format} image.`);
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new MarqueeError('UNSUPPORTED_IMAGE', 'The image has no dimensions.');
  if (width * height > MAX_UPLOAD_PIXELS) {
    throw new MarqueeError('SOURCE_TOO_LARGE', `The image is ${width}x${height}, more than ${MAX_UPLOAD_PIXELS} pixels.`);
  }
  try {
    await sharp(buf, { pages: 1, failOn: 'error', limitInputPixels: MAX_UPLOAD_PIXELS })
      .resize(64, 64, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `The ${format} image could not be decoded (truncated or corrupt).`, {
      cause: err,
    });
  }
  return { format, width, height };
}
