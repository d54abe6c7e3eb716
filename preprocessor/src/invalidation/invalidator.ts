/**
 * Targeted CDN invalidation: one interface, one backend per CDN (CloudFront on AWS, Varnish on one
 * machine). Paths are CDN path patterns as the rules diff gives them: an exact path
 * (`/v1/artwork/boxshot/80000001/342x513.jpg`) or a prefix ending in `/*` (`/v1/artwork/boxshot/*`).
 */

/** What one `invalidate` call did: how many paths, in how many requests to the CDN, and their ids. */
export interface InvalidationResult {
  backend: string;
  paths: number;
  requests: number;
  ids: string[];
}

export interface Invalidator {
  readonly name: string;
  invalidate(paths: readonly string[], reason: string): Promise<InvalidationResult>;
}
