import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudFrontInvalidator } from './cloudfront.js';
import type { InvalidationResult, Invalidator } from './invalidator.js';
import type { InvalidationTarget } from './target.js';
import { VarnishInvalidator } from './varnish.js';

export interface InvalidatorDeps {
  /** The region the CloudFront client signs for (CloudFront is global; us-east-1 works everywhere). */
  region: string;
  /** Progress of CloudFront batches (a pino logger fits). */
  logger?: { info(obj: object, msg: string): void };
}

/** One invalidator for every target (all of them invalidated for each publish), or none. */
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
  return {
    name: backends.map((b) => b.name).join('+'),
    async invalidate(paths, reason): Promise<InvalidationResult> {
      const results = await Promise.all(backends.map((b) => b.invalidate(paths, reason)));
      return {
        backend: results.map((r) => r.backend).join('+'),
        paths: Math.max(...results.map((r) => r.paths)),
        requests: results.reduce((n, r) => n + r.requests, 0),
        ids: results.flatMap((r) => r.ids),
      };
    },
  };
}
