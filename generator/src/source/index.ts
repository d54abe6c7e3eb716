import { MarqueeError, type Source } from '@marquee/shared';
import type { Deps } from '../deps.js';
import { fetchHttp } from './http.js';
import type { Reuse } from './cache.js';
import { fetchS3 } from './s3.js';

function where(source: Source): string {
  return 's3' in source ? `s3://${source.s3.bucket}/${source.s3.key}` : new URL(source.url).host;
}

/**
 * Fetches one source (S3 or HTTP) with the configured byte cap and time-out.
 * `parent` aborts it from outside (a sibling fetch failed); the time-out is its own.
 */
export async function fetchSource(source: Source, deps: Deps, parent: AbortSignal, reuse: Reuse = {}): Promise<Buffer> {
  const { config } = deps;
  const timeout = AbortSignal.timeout(config.fetchTimeoutMs);
  const signal = AbortSignal.any([parent, timeout]);
  try {
    if ('s3' in source) {
      const ref = source.s3;
      if (config.sourceBuckets !== undefined && !config.sourceBuckets.has(ref.bucket)) {
        throw new MarqueeError('SOURCE_NOT_ALLOWED', `source bucket not allowed: ${ref.bucket}`);
      }
      const getObject = await deps.s3GetObject();
      return await fetchS3(ref, getObject, config.maxSourceBytes, signal, deps.sourceCache, reuse);
    }
    if (config.httpAllowedHosts.size === 0) {
      throw new MarqueeError('SOURCE_NOT_ALLOWED', 'HTTP sources are not enabled');
    }
    const agent = await deps.httpAgent();
    return await fetchHttp(
      source.url,
      agent,
      {
        allowedHosts: config.httpAllowedHosts,
        policy: deps.addressPolicy,
        maxBytes: config.maxSourceBytes,
        timeoutMs: config.fetchTimeoutMs,
      },
      signal,
    );
  } catch (err) {
    if (timeout.aborted && !(err instanceof MarqueeError)) {
      throw new MarqueeError('TIMEOUT', `source fetch timed out after ${config.fetchTimeoutMs} ms: ${where(source)}`, {
        cause: err,
      });
    }
    throw err;
  }
}
