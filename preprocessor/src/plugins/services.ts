import fp from 'fastify-plugin';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { PreprocessorConfig } from '../config.js';
import { OutputCache } from '../cache/output-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import { GeneratorClient } from '../lambda/generator-client.js';
import { ImageService, type Generation, type ImageStore } from '../images.js';
import { Prewarmer } from '../prewarm/engine.js';
import { prewarmOnReload } from '../prewarm/on-reload.js';
import { RulesPoller } from '../rules/poller.js';
import { StorePolicy } from '../store/policy.js';
import { DerivativeStore } from '../store/reader.js';

/**
 * The Preprocessor's services, one plugin each: every plugin makes its service, decorates the
 * root instance with it (fastify-plugin: routes in any context see it) and closes it on
 * `onClose`. Each names what it needs, so a wrong registration order fails at start.
 */

declare module 'fastify' {
  interface FastifyInstance {
    /** Uploads write staged masters with it; the rules and the Generator client read with it. */
    s3: S3Client;
    rulesPoller: RulesPoller;
    /** The readiness probe pings it; the embedded stack's tests watch its `pending`. */
    generator: GeneratorClient;
    images: ImageService;
    /**
     * Renders warm sets into the derivative store within the prewarm share of the Generator
     * slots; undefined without a derivatives bucket or with `MARQUEE_PREWARM_SHARE=0`. A rules
     * publish calls `run` with the warm set of what it changed.
     */
    prewarm: Prewarmer | undefined;
  }
}

/** Largest stored object read back: a render this large was never inline either. */
const MAX_STORED_BYTES = 64 * 1024 * 1024;

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
    const poller = await RulesPoller.create({
      rules: app.config.rules,
      catalog: app.config.catalog,
      s3Client: app.s3,
      pollMs: app.config.reloadMs,
      logger: app.log,
    });
    app.decorate('rulesPoller', poller);
    app.addHook('onClose', async () => poller.close());
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
      prewarmShare: config.derivativesBucket === undefined || !config.store.enabled ? 0 : config.prewarm.share,
      metrics: app.metrics,
      ...(opts.lambda ? { lambda: opts.lambda } : {}),
    });
    app.decorate('generator', generator);
    app.addHook('onClose', async () => generator.destroy());
  },
  { fastify: '5.x', name: 'marquee-generator', dependencies: ['marquee-s3', 'marquee-metrics'] },
);

/**
 * Output cache, coalescing, the derivative store and the Generator behind one `images.get`, and
 * the prewarm of what a catalog reload brings. Nothing of the images to close: the cache is
 * memory, and flights end with their invocations (the Generator client closes those).
 */
export const imagesPlugin = fp(
  async (app) => {
    const { config } = app;
    const bucket = config.derivativesBucket;
    const store: ImageStore | undefined =
      bucket === undefined || !config.store.enabled
        ? undefined
        : {
            reader: new DerivativeStore({
              s3: app.s3,
              bucket,
              readTimeoutMs: config.store.readTimeoutMs,
              maxBytes: MAX_STORED_BYTES,
              metrics: app.metrics,
              logger: app.log,
            }),
            writes: config.store.writes,
            policy: new StorePolicy(() => app.rulesPoller.current(), config.sourcesBucket),
          };
    const images = new ImageService({
      cache: new OutputCache(config.cache.maxBytes, config.cache.maxEntryBytes),
      flights: new SingleFlight<Generation>(),
      generator: app.generator,
      metrics: app.metrics,
      store,
    });
    app.decorate('images', images);

    const prewarm =
      store === undefined || config.prewarm.share === 0
        ? undefined
        : new Prewarmer({
            generator: app.generator,
            store: store.reader,
            maxInFlight: config.generator.maxInFlight,
            share: config.prewarm.share,
            metrics: app.metrics,
            logger: app.log,
          });
    app.decorate('prewarm', prewarm);
    if (prewarm !== undefined) {
      const unsubscribe = config.prewarm.onReload
        ? prewarmOnReload(app.rulesPoller, prewarm, config.sourcesBucket, app.log)
        : undefined;
      app.addHook('onClose', async () => {
        unsubscribe?.();
        prewarm.close();
      });
    }
  },
  {
    fastify: '5.x',
    name: 'marquee-images',
    dependencies: ['marquee-s3', 'marquee-rules', 'marquee-generator', 'marquee-metrics'],
  },
);
