import { MarqueeError, probeImage, type StagedUpload } from '@marquee/shared';
import { MAX_UPLOAD_PIXELS, UPLOAD_FORMATS } from './limits.js';
import { loadSharp } from './sharp.js';

/** What the checks learn of an upload: its format and its size after EXIF orientation. */
export type CheckedImage = Pick<StagedUpload, 'format' | 'width' | 'height'>;

/**
 * Proves an upload is an image the Generator will render: the header check the Generator
 * applies to its sources (`probeImage`: magic number, decoder agreement, oriented size, pixel
 * cap before any decode), for the master formats only (GIF is readable but not a master:
 * animated, palette-limited), then a small decode of the whole file, so a truncated or
 * corrupt master is refused now rather than at its first render.
 */
export async function checkUpload(buf: Buffer): Promise<CheckedImage> {
  const { format, width, height } = await probeImage(buf, loadSharp, {
    formats: UPLOAD_FORMATS,
    maxPixels: MAX_UPLOAD_PIXELS,
    what: 'The file',
  });
  const sharp = await loadSharp();
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
