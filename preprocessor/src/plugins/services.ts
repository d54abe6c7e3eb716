import fp from 'fastify-plugin';
import { S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { PreprocessorConfig } from '../config.js';
import { OutputCache } from '../cache/output-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import { GeneratorClient } from '../generator/client.js';
import { ImageService, type Generation } from '../images.js';
import { RulesStore } from '../rules/store.js';

/**
 * The Preprocessor's services, one plugin each: every plugin makes its service, decorates the
 * root instance with it (fastify-plugin: routes in any context see it) and closes it on
 * `onClose`. Each names what it needs, so a wrong registration order fails at start.
 */

declare module 'fastify' {
  interface FastifyInstance {
    /** Uploads write staged masters with it; the rules and the Generator client read with it. */
    s3: S3Client;
    rulesStore: RulesStore;
    /** The readiness probe pings it; the embedded stack's tests watch its `pending`. */
    generator: GeneratorClient;
    images: ImageService;
  }
}

export function s3ClientFor(config: PreprocessorConfig): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
  });
}

/** A client passed in (tests, the embedded stack) stays its owner's to destroy; one made here is closed here. */
export const s3Plugin = fp<{ client?: S3Client | undefined }>(
  async (app, opts) => {
    const client = opts.client ?? s3ClientFor(app.config);
    app.decorate('s3', client);
    if (!opts.client) app.addHook('onClose', async () => client.destroy());
  },
  { fastify: '5.x', name: 'marquee-s3', decorators: { fastify: ['config'] } },
);

/** Loads the rules and catalog before the first request (a broken document fails the start) and stops polling on close. */
export const rulesPlugin = fp(
  async (app) => {
    const store = await RulesStore.create({
      rules: app.config.rules,
      catalog: app.config.catalog,
      s3Client: app.s3,
      pollMs: app.config.reloadMs,
      logger: app.log,
    });
    app.decorate('rulesStore', store);
    app.addHook('onClose', async () => store.close());
  },
  { fastify: '5.x', name: 'marquee-rules', dependencies: ['marquee-s3'] },
);

/** The Generator client; `lambda` replaces the Invoke API client (tests pass a double, and it is still destroyed on close). */
export const generatorPlugin = fp<{ lambda?: LambdaClient | undefined }>(
  async (app, opts) => {
    const { config } = app;
    const generator = new GeneratorClient({
      ...config.generator,
      region: config.region,
      s3: app.s3,
      metrics: app.metrics,
      ...(opts.lambda ? { lambda: opts.lambda } : {}),
    });
    app.decorate('generator', generator);
    app.addHook('onClose', async () => generator.destroy());
  },
  { fastify: '5.x', name: 'marquee-generator', dependencies: ['marquee-s3', 'marquee-metrics'] },
);

/**
 * Output cache, coalescing and the Generator behind one `images.get`. Nothing to close: the
 * cache is memory, and flights end with their invocations (the Generator client closes those).
 */
export const imagesPlugin = fp(
  async (app) => {
    const { config } = app;
    const images = new ImageService({
      cache: new OutputCache(config.cache.maxBytes, config.cache.maxEntryBytes),
      flights: new SingleFlight<Generation>(),
      generator: app.generator,
      metrics: app.metrics,
      derivativesBucket: config.derivativesBucket,
    });
    app.decorate('images', images);
  },
  { fastify: '5.x', name: 'marquee-images', dependencies: ['marquee-generator', 'marquee-metrics'] },
);
