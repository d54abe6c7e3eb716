import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudFrontInvalidator } from './cloudfront.js';
import { supportsTags, type InvalidationResult, type Invalidator } from './invalidator.js';
import type { InvalidationTarget } from './target.js';
import { VarnishInvalidator } from './varnish.js';

export interface InvalidatorDeps {
  /** The region the CloudFront client signs for (CloudFront is global; us-east-1 works everywhere). */
  region: string;
  /** Progress of CloudFront batches (a pino logger fits). */
  logger?: { info(obj: object, msg: string): void };
}

/**
 * One invalidator for every target (all of them invalidated for each publish), or none. Several
 * targets purge by tag only when every one of them can: the tag plan and the path plan name the
 * same objects differently, and one publish sends one of them.
 */
export function invalidatorFor(targets: readonly InvalidationTarget[], deps: InvalidatorDeps): Invalidator | undefined {
  const backends = targets.map((target): Invalidator => {
    if (target.backend === 'varnish') return new VarnishInvalidator({ url: target.url });
    return new CloudFrontInvalidator({
      client: new CloudFrontClient({ region: deps.region }),
      distributionId: target.distributionId,
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  });
  if (backends.length <= 1) return backends[0];
  const combine = (results: InvalidationResult[]): InvalidationResult => {
    const purged = results.filter((r) => r.purged !== undefined);
    return {
      backend: results.map((r) => r.backend).join('+'),
      paths: Math.max(...results.map((r) => r.paths)),
      ...(results.some((r) => r.tags !== undefined) ? { tags: Math.max(...results.map((r) => r.tags ?? 0)) } : {}),
      requests: results.reduce((n, r) => n + r.requests, 0),
      ids: results.flatMap((r) => r.ids),
      ...(purged.length > 0 ? { purged: purged.reduce((n, r) => n + (r.purged ?? 0), 0) } : {}),
    };
  };
  const tagged = backends.filter(supportsTags);
  const combined: Invalidator = {
    name: backends.map((b) => b.name).join('+'),
    async invalidate(paths, reason) {
      return combine(await Promise.all(backends.map((b) => b.invalidate(paths, reason))));
    },
  };
  if (tagged.length < backends.length) return combined;
  return {
    ...combined,
    supportsTags: true,
    async invalidateTagged(plan, reason) {
      return combine(await Promise.all(tagged.map((b) => b.invalidateTagged(plan, reason))));
    },
  };
}
