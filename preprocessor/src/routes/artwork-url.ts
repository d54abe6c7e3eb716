import {
  MAX_OUTPUT_DIMENSION,
  MarqueeError,
  REQUEST_EXTENSIONS,
  requestExtensionOf,
  type RequestExtension,
} from '@marquee/shared';

/** The artwork route's pattern: its metrics label, shared with the hot path. */
export const ARTWORK_ROUTE = '/v1/artwork/:type/:titleId/:file';

export interface ArtworkFile {
  width: number;
  height: number | undefined;
  dpr: number;
  ext: RequestExtension;
}

/** Digits per dimension: 5 is already past any allowed size; longer is noise, not a request. */
const MAX_DIMENSION_DIGITS = 5;
/** The extension in any case (`.JPG` from a camera or a CMS): the route 308s it to the lower-case spelling. */
const FILE_PATTERN = /^(\d{1,5})(?:x(\d{1,5}))?(?:@(\d)x)?\.([A-Za-z0-9]{1,5})$/;

function invalid(message: string): MarqueeError {
  return new MarqueeError('INVALID_PARAMETER', message);
}

/**
 * Parses `{W}x{H}[@{n}x].{ext}` or `{W}[@{n}x].{ext}`. Says what was expected and what came;
 * whether the size is allowed is the rules' business, not the parser's.
 */
export function parseArtworkFile(file: string): ArtworkFile {
  // Only error messages quote the file name: a valid request does not pay for it.
  const shown = () => JSON.stringify(file.slice(0, 40));
  const m = FILE_PATTERN.exec(file);
  if (!m) {
    throw invalid(
      `size: expected {width}x{height}[@2x].{ext} or {width}[@2x].{ext} with up to ${MAX_DIMENSION_DIGITS} digits, got ${shown()}`,
    );
  }
  const [, w, h, dpr, ext] = m;
  const width = Number(w);
  const height = h === undefined ? undefined : Number(h);
  const inRange = (n: number | undefined) => n === undefined || (n >= 1 && n <= MAX_OUTPUT_DIMENSION);
  if (!inRange(width) || !inRange(height)) {
    throw invalid(`size: width and height must be 1..${MAX_OUTPUT_DIMENSION}, got ${shown()}`);
  }
  const dprValue = dpr === undefined ? 1 : Number(dpr);
  if (dprValue < 1) throw invalid(`size: pixel ratio must be @1x..@3x, got ${shown()}`);
  const normalised = requestExtensionOf((ext ?? '').toLowerCase());
  if (!normalised) {
    throw invalid(`format: expected one of ${REQUEST_EXTENSIONS.join(', ')}, got ${JSON.stringify(ext)}`);
  }
  return { width, height, dpr: dprValue, ext: normalised };
}

/** The canonical file name of a size, as snap redirects spell it. */
export function formatArtworkFile(width: number, height: number, dpr: number, ext: string): string {
  return `${width}x${height}${dpr > 1 ? `@${dpr}x` : ''}.${ext}`;
}

/**
 * A locale tag in BCP 47's conventional case (RFC 5646 2.1.1): language lower-case, script
 * title-case, region upper-case, the rest lower-case (`pt-br` → `pt-BR`, `ZH-HANT-tw` →
 * `zh-Hant-TW`). Matching is case-insensitive anyway; one spelling gives one image one cache key.
 * Only the case changes: no alias is replaced (`iw` stays `iw`), so the catalog's tags still match.
 */
export function canonicalLocale(tag: string): string {
  const subtags = tag.split('-');
  let extension = false;
  return subtags
    .map((subtag, i) => {
      const lower = subtag.toLowerCase();
      // Past a singleton (`-u-`, `-x-`) everything is an extension or private use: lower-case.
      if (i === 0 || extension) return lower;
      if (subtag.length === 1) {
        extension = true;
        return lower;
      }
      if (subtag.length === 4 && /^[A-Za-z]+$/.test(subtag)) return lower[0]!.toUpperCase() + lower.slice(1);
      if (subtag.length === 2 && /^[A-Za-z]+$/.test(subtag)) return subtag.toUpperCase();
      return lower;
    })
    .join('-');
}
