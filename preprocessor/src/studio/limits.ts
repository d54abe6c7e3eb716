/**
 * The studio's bounds, in one place. Each is a guard against a mistake or an abuse, not a
 * product rule: raise one only with a reason.
 */

/** A working session: long enough for an afternoon of crops, short enough that a lost cookie dies. */
export const SESSION_TTL_SECONDS = 8 * 3600;

/** Preview URLs outlive one page of tiles; the page re-signs when they are redrawn. */
export const PREVIEW_TTL_SECONDS = 15 * 60;

/** Renders per sign request: two rows of sizes × formats; more is a script, not a person. */
export const MAX_SIGN_BATCH = 96;

/** An upload is one master image: print-size masters fit; a 20 MiB PNG is already 5000 px square. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** Decoded pixels of an upload: the Generator's default input cap, so whatever is staged can render. */
export const MAX_UPLOAD_PIXELS = 40_000_000;

/** Formats a master may arrive in: what the Generator reads and browsers preview (the upload reply's `format`). */
export { UPLOAD_FORMATS } from '@marquee/shared';

/** Names people give files: letters, digits, space, dot, dash, underscore, brackets. No paths. */
export const UPLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,127}$/;

/** Where uploads land in the sources bucket, apart from every published source. */
export { STAGING_PREFIX } from '@marquee/shared';

/** Login form bodies: a token and nothing else. */
export const MAX_FORM_BYTES = 4096;
