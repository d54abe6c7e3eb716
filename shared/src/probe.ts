import { MarqueeError } from './errors.js';
import { sniffImageFormat, type InputFormat } from './sniff.js';

/**
 * The fields of sharp's `Metadata` the header check reads. `@marquee/shared` does not depend on
 * sharp (the Preprocessor loads it lazily, the Generator brings its own with most loaders
 * blocked), so each side hands in its own sharp and this module only reads what it returns.
 */
export interface HeaderMetadata {
  format?: string | undefined;
  compression?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** The size after EXIF orientation (sharp ≥ 0.34). */
  autoOrient?: { width: number; height: number } | undefined;
  hasAlpha?: boolean | undefined;
}

/**
 * Header reads only: the first frame, and no pixel limit, so a pixel bomb is measured rather
 * than refused by libvips with an error that does not say it is one.
 */
export const HEADER_OPTIONS = { pages: 1, limitInputPixels: false } as const;

/** sharp's own call shape: `sharp(buf, HEADER_OPTIONS).metadata()`. Pass sharp itself. */
export type HeaderReader = (input: Buffer, options: typeof HEADER_OPTIONS) => { metadata(): Promise<HeaderMetadata> };

/** What the header says about an image both sides accept. */
export interface ImageHeader<F extends InputFormat = InputFormat> {
  format: F;
  /** Size after EXIF orientation is applied: what a render starts from. */
  width: number;
  height: number;
  hasAlpha: boolean;
}

export interface ProbeOptions<F extends InputFormat> {
  /** The formats accepted here; the magic number says which one the bytes are. */
  formats: readonly F[];
  /** Most decoded pixels: a larger header is refused before anything is decoded. */
  maxPixels: number;
  /** What the bytes are, as the messages name it: `source`, `overlay`, `The file`. */
  what: string;
}

const FORMAT_NAMES: Record<InputFormat, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', gif: 'GIF' };

/** `JPEG, PNG, WebP or AVIF`. */
function formatList(formats: readonly InputFormat[]): string {
  const names = formats.map((f) => FORMAT_NAMES[f]);
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** Whether the decoder sharp chose agrees with the magic number (AVIF is HEIF with AV1 inside). */
export function metadataMatches(format: InputFormat, meta: Pick<HeaderMetadata, 'format' | 'compression'>): boolean {
  if (format === 'avif') return meta.format === 'heif' && meta.compression === 'av1';
  return meta.format === format;
}

/**
 * Checks a header already read against the sniffed format: the decoder agrees, there is a
 * size, and the oriented size is within `maxPixels`.
 */
export function checkHeader<F extends InputFormat>(
  format: F,
  meta: HeaderMetadata,
  maxPixels: number,
  what: string,
): ImageHeader<F> {
  if (!metadataMatches(format, meta))
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a valid ${format} image`);
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} has no dimensions`);
  if (width * height > maxPixels) {
    throw new MarqueeError('SOURCE_TOO_LARGE', `${what} is ${width}x${height}, more than ${maxPixels} pixels`);
  }
  return { format, width, height, hasAlpha: meta.hasAlpha === true };
}

/**
 * Proves bytes are an image of an accepted format from the header alone: the magic number
 * (never a file name or a Content-Type), then the header sharp reads, refusing a pixel bomb
 * before any decode, so a 50000x50000 image costs microseconds, not gigabytes. `loadSharp`
 * is called only once the magic number passed, so a side that loads sharp lazily loads it
 * only for bytes that may be an image.
 */
export async function probeImage<F extends InputFormat>(
  buf: Buffer,
  loadSharp: () => HeaderReader | Promise<HeaderReader>,
  options: ProbeOptions<F>,
): Promise<ImageHeader<F>> {
  const { formats, maxPixels, what } = options;
  const sniffed = sniffImageFormat(buf);
  const format = formats.find((f) => f === sniffed);
  if (format === undefined)
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a ${formatList(formats)} image`);
  const sharp = await loadSharp();
  let meta: HeaderMetadata;
  try {
    meta = await sharp(buf, HEADER_OPTIONS).metadata();
  } catch (err) {
    throw new MarqueeError('UNSUPPORTED_IMAGE', `${what} is not a valid ${format} image`, { cause: err });
  }
  return checkHeader(format, meta, maxPixels, what);
}
