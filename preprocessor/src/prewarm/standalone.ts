import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { PreprocessorConfig } from '../config.js';
import { GeneratorClient } from '../lambda/generator-client.js';
import { createMetrics } from '../plugins/metrics.js';
import type { WarnLogger } from '@marquee/shared';
import { DerivativeStore } from '../store/reader.js';
import { Prewarmer } from './engine.js';

export interface StandaloneOptions {
  s3: S3Client;
  /** The Invoke API client (its endpoint and credentials); destroyed by `close`. */
  lambda: LambdaClient;
  /** Renders at once; default: the prewarm share of `MARQUEE_MAX_INFLIGHT` (at least one). */
  concurrency?: number | undefined;
  logger: WarnLogger;
}

/** The renders a prewarm outside the Preprocessor runs at once by default: the share of the Preprocessor's slots. */
export function defaultConcurrency(config: PreprocessorConfig): number {
  return Math.max(1, Math.floor(config.generator.maxInFlight * config.prewarm.share));
}

/**
 * A prewarmer outside the Preprocessor (`npm run prewarm`, a rules publish): the same engine on
 * a Generator client of its own, whose renders are all prewarm renders, so the concurrency is
 * its limit outright. Same configuration as the Preprocessor (function, qualifier, deadline,
 * derivatives bucket). Throws when no derivatives bucket is configured.
 */
export function standalonePrewarmer(
  config: PreprocessorConfig,
  opts: StandaloneOptions,
): { prewarmer: Prewarmer; close: () => void } {
  const bucket = config.derivativesBucket;
  if (bucket === undefined) throw new Error('the derivative store needs MARQUEE_DERIVATIVES_BUCKET');
  const concurrency = opts.concurrency ?? defaultConcurrency(config);
  const metrics = createMetrics();
  const generator = new GeneratorClient({
    ...config.generator,
    maxInFlight: concurrency,
    region: config.region,
    // Every render of this client is a prewarm render: all its slots are theirs.
    prewarmShare: 1,
    metrics,
    lambda: opts.lambda,
  });
  const quiet = { info: () => {}, warn: () => {} };
  const prewarmer = new Prewarmer({
    generator,
    store: new DerivativeStore({
      s3: opts.s3,
      bucket,
      readTimeoutMs: config.store.readTimeoutMs,
      maxBytes: 0,
      metrics,
      logger: quiet,
    }),
    maxInFlight: concurrency,
    share: 1,
    metrics,
    logger: opts.logger,
  });
  return {
    prewarmer,
    close: () => {
      prewarmer.close();
      generator.destroy();
    },
  };
}
