/**
 * `Accept` negotiation is implemented twice, by necessity: at the origin
 * (`preprocessor/src/rules/accept.ts`) and in the CloudFront function that collapses the
 * header into the cache key (`infra/aws/lib/edge-functions.ts`, which cannot import). Both
 * follow these rules, and both are tested against one table (`shared/test/fixtures/accept-cases.ts`):
 *
 * - only the first MAX_ACCEPT_LENGTH characters are read;
 * - ranges and parameter names are case-insensitive, whitespace around them is ignored;
 * - a `q` whose trimmed value is not a finite number as `Number()` reads it (`q=abc`, `q=`, a
 *   bare `q`, `q=0.5x`) counts as absent, that is 1; a number is clamped into 0..1 (`q=1.5` is
 *   1, `q=-1` is 0); the last well-formed `q` of a range counts;
 * - AVIF and WebP are accepted only when named exactly with q > 0 by at least one entry.
 */

/** Longest `Accept` header read; browsers send about 100 characters. */
export const MAX_ACCEPT_LENGTH = 4096;
