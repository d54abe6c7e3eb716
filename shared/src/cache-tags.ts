import { createHash } from 'node:crypto';
import { stableStringify } from './key.js';
import type { ImageSpec } from './schema.js';

/**
 * Cache tags on artwork replies: what a CDN stores with each object so that one invalidation names
 * every object of a title, a type, a title's type or a look, whatever its URL.
 *
 * Limits are CloudFront's, the strictest of the CDNs read (Developer Guide, "What you need to know
 * when invalidating tags"): at most 50 tags stored per object (more are dropped silently), a tag
 * at most 256 characters of visible ASCII (33–126) without commas, matched exactly (no `*`) and
 * case-insensitively.
 */
export const CACHE_TAG_LIMITS = { tagsPerObject: 50, tagLength: 256 } as const;

/**
 * The default header: CloudFront reads the one its `CacheTagConfig.HeaderName` names (the CDK app
 * names this one), Cloudflare reads `Cache-Tag` itself, the embedded Varnish copies it into xkey's
 * `xkey`. Fastly reads only `Surrogate-Key`: set `MARQUEE_CACHE_TAG_HEADER=Surrogate-Key`.
 */
export const DEFAULT_CACHE_TAG_HEADER = 'cache-tag';

/** A header name as RFC 9110 spells a token. */
export const CACHE_TAG_HEADER_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$";

/** The tags' prefixes: short, since every reply carries them, and distinct so no two kinds collide. */
const PREFIX = { title: 'title:', type: 'type:', titleType: 'tt:', look: 'look:' } as const;

/** Hex characters of the look hash: 64 bits, ample for the looks one rules document holds. */
const LOOK_HASH_LENGTH = 16;

/** Why `tag` is not a cache tag CloudFront stores, or undefined when it is one. */
export function cacheTagProblem(tag: string): string | undefined {
  if (tag.length === 0) return 'is empty';
  if (tag.length > CACHE_TAG_LIMITS.tagLength) return `is longer than ${CACHE_TAG_LIMITS.tagLength} characters`;
  if (!/^[\x21-\x7e]+$/.test(tag)) return 'has a character outside visible ASCII (33–126)';
  if (tag.includes(',')) return 'has a comma (the header separates tags with commas)';
  if (tag.includes('*')) return 'has a * (tag invalidations match exactly; a * reads as a wildcard)';
  return undefined;
}

/** Throws a RangeError naming the first tag CloudFront would not store, or a list past its count. */
export function checkCacheTags(tags: readonly string[]): void {
  if (tags.length > CACHE_TAG_LIMITS.tagsPerObject)
    throw new RangeError(
      `${tags.length} cache tags: a CDN stores at most ${CACHE_TAG_LIMITS.tagsPerObject} per object`,
    );
  for (const tag of tags) {
    const problem = cacheTagProblem(tag);
    if (problem !== undefined) throw new RangeError(`cache tag ${JSON.stringify(tag.slice(0, 100))} ${problem}`);
  }
}

/**
 * The look of an image: a hash of what decides its bytes besides its size and its title's
 * artwork: the type, and the spec without width, height and focal point (fit, format, quality,
 * background, effort, enlarge, overlays). So the look is per type *and* per format: a WebP
 * quality change gives the WebP URLs of the type a new look and leaves the JPEG ones theirs.
 */
export function lookHash(type: string, spec: ImageSpec): string {
  // Dropped because they vary per URL or title, not per look: width/height (the size), focal (the catalog's).
  const { width: _w, height: _h, focal: _f, ...look } = spec;
  return createHash('sha256').update(stableStringify({ type, look })).digest('hex').slice(0, LOOK_HASH_LENGTH);
}

export const titleTag = (titleId: string): string => `${PREFIX.title}${titleId}`;
export const typeTag = (type: string): string => `${PREFIX.type}${type}`;
export const titleTypeTag = (type: string, titleId: string): string => `${PREFIX.titleType}${type}/${titleId}`;
export const lookTag = (look: string): string => `${PREFIX.look}${look}`;

/** The tags of one artwork reply, broadest first: title, type, title and type, look. */
export function artworkCacheTags(image: { type: string; titleId: string; spec: ImageSpec }): string[] {
  const tags = [
    titleTag(image.titleId),
    typeTag(image.type),
    titleTypeTag(image.type, image.titleId),
    lookTag(lookHash(image.type, image.spec)),
  ];
  checkCacheTags(tags);
  return tags;
}

/**
 * The header's value: tags separated by commas (CloudFront, Cloudflare, xkey), or by spaces for
 * `Surrogate-Key` (Fastly splits on spaces only; xkey reads both).
 */
export function formatCacheTags(header: string, tags: readonly string[]): string {
  return tags.join(header.toLowerCase() === 'surrogate-key' ? ' ' : ',');
}
