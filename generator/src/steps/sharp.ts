import sharp from 'sharp';

/**
 * The loaders the service needs: JPEG, PNG, WebP, AVIF (HEIF container) and
 * GIF, from buffers only. Every other libvips loader (SVG, PDF, TIFF, JPEG XL,
 * RAW, FITS, OpenSlide, Matlab, files, …) is blocked for the whole process: a
 * source that slipped past the magic-number check still cannot reach them.
 */
export const ALLOWED_LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadHeifBuffer',
  'VipsForeignLoadNsgifBuffer',
] as const;

sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: [...ALLOWED_LOADERS] });

export { sharp };
export type { Sharp, SharpOptions, OutputInfo } from 'sharp';
