import type { Metadata } from 'sharp';
import { MarqueeError, sniffImageFormat } from '@marquee/shared';
import { MAX_UPLOAD_PIXELS, type UPLOAD_FORMATS } from './limits.js';

export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

export interface CheckedImage {
  format: UploadFormat;
  /** Size after EXIF orientation, as the Generator renders it. */
  width: number;
  height: number;
}

/** The format the bytes' magic number names: never the file name or the part's Content-Type. */
export function sniffUpload(buf: Buffer): UploadFormat | undefined {
  const format = sniffImageFormat(buf);
  // GIF is readable but not a master format: animated, palette-limited.
  return format === 'gif' ? undefined : format;
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
