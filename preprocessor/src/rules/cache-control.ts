import type { CachePolicy } from './schema.js';

/**
 * The Cache-Control of a rendered artwork. Long-lived and `immutable` only
 * when the request names the artwork's current version: a stale `v` gets the
 * ordinary policy, so no CDN pins today's image under yesterday's URL.
 */
export function cacheControl(policy: CachePolicy, requestedVersion: string | undefined, version: string): string {
  if (requestedVersion !== undefined && requestedVersion === version) {
    return `public, max-age=${policy.immutableMaxAge}, immutable`;
  }
  const parts = ['public', `max-age=${policy.maxAge}`];
  if (policy.sMaxAge !== undefined) parts.push(`s-maxage=${policy.sMaxAge}`);
  if (policy.staleWhileRevalidate !== undefined) parts.push(`stale-while-revalidate=${policy.staleWhileRevalidate}`);
  return parts.join(', ');
}
