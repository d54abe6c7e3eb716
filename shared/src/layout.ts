import type { Format } from './schema.js';
import { extensionOf } from './extension.js';

/**
 * Where objects live in the two buckets. The Preprocessor and the Generator name objects
 * with these, and the CDK app scopes IAM statements and lifecycle rules to them, so a
 * prefix changed here moves every writer, reader and permission together.
 */

/** Rendered outputs, in the derivatives bucket: the only place the Generator writes. */
export const DERIVATIVES_PREFIX = 'derivatives/';
/** Studio uploads awaiting review, in the sources bucket, apart from every published source. */
export const STAGING_PREFIX = 'staging/';
/** Overlay images (e.g. "Top 10"), in the sources bucket. */
export const BADGES_PREFIX = 'badges/';
/** Rules drafts the studio saves (`drafts/<id>.yaml`), in the sources bucket, apart from the rules in force. */
export const DRAFTS_PREFIX = 'drafts/';

/**
 * The object a rendered output is stored under: its spec key (`specKey(source, spec, version)`,
 * the artwork version included) and the extension its format is served under. One builder, so
 * the object the Preprocessor asks for is the object the Generator would name itself.
 */
export function derivativeKey(specKey: string, format: Format): string {
  return `${DERIVATIVES_PREFIX}${specKey}.${extensionOf(format)}`;
}
