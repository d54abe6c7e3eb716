/**
 * Targeted CDN invalidation: one interface, one backend per CDN (CloudFront on AWS, Varnish on one
 * machine). Paths are CDN path patterns as the rules diff gives them: an exact path
 * (`/v1/artwork/boxshot/80000001/342x513.jpg`) or a prefix ending in `/*` (`/v1/artwork/boxshot/*`).
 * Tags are the cache tags every artwork reply carries (`shared/src/cache-tags.ts`), without any
 * CDN's prefix: a backend that supports them purges every object stored with the tag, whatever its
 * URL, query or Accept variant.
 */

/** What one invalidation did: how many paths and tags, in how many requests to the CDN, and their ids. */
export interface InvalidationResult {
  backend: string;
  paths: number;
  /** Tags invalidated; absent (none) from a path-only call. */
  tags?: number;
  requests: number;
  ids: string[];
  /** Objects the CDN says the tags purged, where it says (Varnish's xkey does; CloudFront does not). */
  purged?: number;
}

/** Tags and the exact paths no tag names: one invalidation. */
export interface TaggedInvalidation {
  tags: readonly string[];
  paths: readonly string[];
}

export interface Invalidator {
  readonly name: string;
  /** True when the CDN stores the replies' cache tags and `invalidateTagged` purges by them. */
  readonly supportsTags?: boolean;
  invalidate(paths: readonly string[], reason: string): Promise<InvalidationResult>;
  /** Tags, then paths; present when `supportsTags`. */
  invalidateTagged?(plan: TaggedInvalidation, reason: string): Promise<InvalidationResult>;
}

/** An invalidator that purges by tag. */
export type TagInvalidator = Invalidator & {
  readonly supportsTags: true;
  invalidateTagged(plan: TaggedInvalidation, reason: string): Promise<InvalidationResult>;
};

export function supportsTags(invalidator: Invalidator): invalidator is TagInvalidator {
  return invalidator.supportsTags === true && typeof invalidator.invalidateTagged === 'function';
}
