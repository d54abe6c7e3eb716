import { INPUT_FORMATS, probeImage, sniffImageFormat, type ImageHeader } from '@marquee/shared';
import { sharp } from './sharp.js';

export { INPUT_FORMATS, type InputFormat } from '@marquee/shared';

/** The format named by the bytes' magic number, never by a file name or Content-Type. */
export const sniffFormat = sniffImageFormat;

/** Format, oriented size and alpha, from the header: what rendering starts from. */
export type Probe = ImageHeader;

/**
 * Reads only the header and refuses a pixel bomb before any decode: `@marquee/shared`'s
 * `probeImage`, the one header check for sources, overlays and studio uploads, read through
 * this process's sharp, whose loaders are restricted.
 */
export function probe(buf: Buffer, maxPixels: number, what = 'source'): Promise<Probe> {
  return probeImage(buf, () => sharp, { formats: INPUT_FORMATS, maxPixels, what });
}
