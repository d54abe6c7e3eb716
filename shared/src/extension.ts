import type { Format } from './schema.js';

/**
 * File extensions and the formats they name: the one place `jpg` meets `jpeg`. Artwork URLs,
 * derivative objects, staged uploads and seeded sources spell JPEG `jpg`; the spec, sharp and
 * MIME say `jpeg`. Every other format is spelled the same both ways.
 */
export const FORMAT_EXTENSIONS = {
  jpeg: 'jpg',
  png: 'png',
  webp: 'webp',
  avif: 'avif',
} as const satisfies Record<Format, string>;

/** The extension a format is served and stored under. */
export type FormatExtension = (typeof FORMAT_EXTENSIONS)[Format];

/** What an artwork URL may end in: a format's extension, or `auto` (negotiated from Accept). */
export type RequestExtension = FormatExtension | 'auto';

/** Every request extension, in the formats' order, `auto` last: the list error messages quote. */
export const REQUEST_EXTENSIONS: readonly RequestExtension[] = [
  ...(Object.values(FORMAT_EXTENSIONS) as FormatExtension[]),
  'auto',
];

const FORMAT_OF_EXTENSION = new Map<string, Format>(
  (Object.entries(FORMAT_EXTENSIONS) as Array<[Format, FormatExtension]>).map(([format, ext]) => [ext, format]),
);

/** The extension a format is served under (`jpg` for JPEG, as the URL API spells it). */
export function extensionOf(format: Format): FormatExtension {
  return FORMAT_EXTENSIONS[format];
}

/** The format an extension names (`jpg` → `jpeg`); undefined for `auto` and for anything else. */
export function formatOfExtension(ext: FormatExtension): Format;
export function formatOfExtension(ext: string): Format | undefined;
export function formatOfExtension(ext: string): Format | undefined {
  return FORMAT_OF_EXTENSION.get(ext);
}

/**
 * The request extension a lower-case spelling stands for: an extension itself, or a format's
 * own name (`jpeg` → `jpg`, which the artwork route then redirects to). Undefined otherwise.
 */
export function requestExtensionOf(spelling: string): RequestExtension | undefined {
  if (spelling === 'auto') return 'auto';
  if (FORMAT_OF_EXTENSION.has(spelling)) return spelling as FormatExtension;
  return Object.hasOwn(FORMAT_EXTENSIONS, spelling) ? extensionOf(spelling as Format) : undefined;
}
