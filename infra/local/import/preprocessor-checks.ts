/**
 * What the importer must decide exactly as the Preprocessor does: whether a file is an image the
 * studio would accept as a master (the upload check: magic number, decoder agreement, pixel cap,
 * a full decode), and how the artwork route spells a locale tag.
 */
export { checkUpload, MAX_UPLOAD_BYTES, canonicalLocale, type CheckedImage } from '@marquee/preprocessor';
