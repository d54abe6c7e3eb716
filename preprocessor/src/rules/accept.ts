import { MAX_ACCEPT_LENGTH, contentTypeOf, type Format } from '@marquee/shared';

/** One media range of an `Accept` header. */
export interface AcceptEntry {
  /** Lower-cased `type/subtype`, possibly with wildcards (`image/*`, `*\/*`). */
  range: string;
  /** 0..1; 0 means "not acceptable". */
  q: number;
}

const MEDIA_RANGE = /^[a-z0-9!#$&^_.+*-]+\/[a-z0-9!#$&^_.+*-]+$/;

/**
 * The media ranges of an `Accept` header with their q-values (RFC 9110
 * §12.5.1), in header order. Malformed ranges are skipped; a malformed `q`
 * counts as 1, as most servers read it. The CloudFront function that collapses
 * `Accept` for the cache key reads it by the same rules (`@marquee/shared`'s
 * accept module), and both are tested against one table of headers.
 */
export function parseAccept(header: string | undefined): AcceptEntry[] {
  if (!header) return [];
  const entries: AcceptEntry[] = [];
  for (const part of header.slice(0, MAX_ACCEPT_LENGTH).split(',')) {
    const [rangeText, ...params] = part.split(';');
    const range = (rangeText ?? '').trim().toLowerCase();
    if (!MEDIA_RANGE.test(range)) continue;
    let q = 1;
    for (const param of params) {
      const [name, value] = param.split('=').map((s) => s.trim());
      if (name?.toLowerCase() !== 'q' || value === undefined) continue;
      const parsed = Number(value);
      if (value !== '' && Number.isFinite(parsed)) q = Math.min(1, Math.max(0, parsed));
    }
    entries.push({ range, q });
  }
  return entries;
}

/**
 * Whether a client accepts `format`. JPEG and PNG are always accepted: every
 * client decodes them, and they are the fallback. AVIF and WebP need the exact
 * media type with q > 0: a wildcard (`*\/*`, `image/*`) is sent by clients
 * that cannot decode them (older Safari, curl), so it proves nothing.
 */
export function acceptsFormat(entries: readonly AcceptEntry[], format: Format): boolean {
  if (format === 'jpeg' || format === 'png') return true;
  const mime = contentTypeOf(format);
  let q: number | undefined;
  for (const e of entries) if (e.range === mime) q = Math.max(q ?? 0, e.q);
  return q !== undefined && q > 0;
}

/**
 * The first of `formats` (best first) the client accepts; when it accepts
 * none of them, the last (the least demanding the rules allow).
 */
export function negotiateFormat(formats: readonly Format[], accept: string | undefined): Format {
  const entries = parseAccept(accept);
  const chosen = formats.find((f) => acceptsFormat(entries, f)) ?? formats.at(-1);
  if (chosen === undefined) throw new TypeError('negotiateFormat: no formats');
  return chosen;
}
