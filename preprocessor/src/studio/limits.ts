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

/** Drafts the studio lists: the recent ones people are working on, not an archive. */
export const DRAFTS_LISTED = 50;

/** Parsed drafts kept per process, by revision: a few people's drafts open at once. */
export const DRAFTS_PARSED = 32;

/** Pages of a draft listing read at most (1000 keys each): past that the bucket needs a clean-up, not a longer wait. */
export const DRAFT_LIST_PAGES = 5;

/** Per-channel difference (0..255) below which two pixels count as the same: encoder noise, not a change. */
export const HEATMAP_THRESHOLD = 6;

/** Longest side of a heat map sent to the page: a tile is shown smaller than that. */
export const HEATMAP_MAX_SIDE = 800;

/** Impact reports kept per process, by draft revision and the documents in force. */
export const IMPACTS_KEPT = 16;

/** Longest an impact report may run (the whole catalog, in a worker) before it is stopped with a 504. */
export const IMPACT_TIMEOUT_MS = 120_000;
