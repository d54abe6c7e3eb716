import { createHmac, timingSafeEqual } from 'node:crypto';
import { MarqueeError } from '@marquee/shared';

/** Longest validity a signer may grant: previews are for a working session, not forever. */
export const MAX_SIGNED_TTL_SECONDS = 24 * 3600;

/** The signed text: the path and every query parameter but `sig`, sorted, form-encoded. */
export function canonicalQuery(path: string, params: URLSearchParams): string {
  const entries: Array<[string, string]> = [...params.entries()]
    .filter(([k]) => k !== 'sig')
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1));
  return `${path}?${new URLSearchParams(entries).toString()}`;
}

function mac(key: string, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

/** Adds `exp` (unix seconds) and `sig` (HMAC-SHA256, base64url) to a path and its parameters. */
export function signUrl(
  path: string,
  params: Record<string, string | number>,
  key: string,
  ttlSeconds: number,
  now = Date.now(),
): string {
  const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), MAX_SIGNED_TTL_SECONDS);
  const search = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
  search.set('exp', String(Math.floor(now / 1000) + ttl));
  search.delete('sig');
  search.set('sig', mac(key, canonicalQuery(path, search)).toString('base64url'));
  return `${path}?${search.toString()}`;
}

/** Throws BAD_SIGNATURE (403) unless `sig` is the HMAC of the canonical query and `exp` is in the future. */
export function verifySignedUrl(path: string, params: URLSearchParams, key: string, now = Date.now()): void {
  const sig = params.get('sig');
  const exp = params.get('exp');
  if (!sig || !exp) throw new MarqueeError('BAD_SIGNATURE', 'This URL must be signed (exp and sig).');
  const expected = mac(key, canonicalQuery(path, params));
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new MarqueeError('BAD_SIGNATURE', 'The signature does not match this URL.');
  }
  if (!/^\d{1,12}$/.test(exp) || Number(exp) * 1000 <= now) {
    throw new MarqueeError('BAD_SIGNATURE', 'This signed URL has expired.');
  }
  // A leaked key must not mint URLs valid for years: no signer grants more than the cap.
  if (Number(exp) * 1000 > now + (MAX_SIGNED_TTL_SECONDS + 60) * 1000) {
    throw new MarqueeError('BAD_SIGNATURE', 'This signed URL lives longer than any signer grants.');
  }
}
