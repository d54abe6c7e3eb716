import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { PreprocessorConfig } from '../config.js';
import { OutputCache } from '../cache/output-cache.js';
import { SingleFlight } from '../cache/single-flight.js';
import { GeneratorClient } from '../generator/client.js';
import { ImageService, type Generation, type ImageStore } from '../images.js';
import { Prewarmer } from '../prewarm/engine.js';
import { prewarmOnReload } from '../prewarm/on-reload.js';
import { RulesPoller } from '../rules/poller.js';
import { StorePolicy } from '../store/policy.js';
import { DerivativeStore } from '../store/reader.js';
import { StoreWriter } from '../store/writer.js';

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
    /** Hands renders back to the Generator to store; undefined without a derivatives bucket or with writes off. */
    storeWriter: StoreWriter | undefined;
    images: ImageService;
    /**
     * Renders warm sets into the derivative store within the prewarm share of the Generator
     * slots; undefined without a derivatives bucket or with `MARQUEE_PREWARM_SHARE=0`. A rules
     * publish calls `run` with the warm set of what it changed.
     */
    prewarm: Prewarmer | undefined;
  }
}

/** Longest drain of queued store writes on close. */
const STORE_DRAIN_MS = 2000;
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
      s3: app.s3,
      metrics: app.metrics,
      ...(opts.lambda ? { lambda: opts.lambda } : {}),
    });
    app.decorate('generator', generator);
    const writer = storeWriterFor(
      app.config,
      app.metrics,
      app.log,
      opts.lambda,
      () => generator.pending + generator.waiting,
    );
    app.decorate('storeWriter', writer?.writer);
    app.addHook('onClose', async () => {
      if (writer) {
        await writer.writer.close(STORE_DRAIN_MS);
        writer.destroy();
      }
      generator.destroy();
    });
  },
  { fastify: '5.x', name: 'marquee-generator', dependencies: ['marquee-s3', 'marquee-metrics'] },
);

/**
 * The store writer, with a Lambda client of its own for its `Event` invocations (or the one passed
 * in: tests pass a double, which the Generator client destroys).
 */
function storeWriterFor(
  config: PreprocessorConfig,
  metrics: FastifyInstance['metrics'],
  logger: FastifyInstance['log'],
  lambda: LambdaClient | undefined,
  rendering: () => number,
): { writer: StoreWriter; destroy: () => void } | undefined {
  if (config.derivativesBucket === undefined || !config.store.enabled || config.store.queueBytes === 0)
    return undefined;
  const client =
    lambda ??
    new LambdaClient({
      region: config.region,
      ...(config.generator.endpoint ? { endpoint: config.generator.endpoint } : {}),
    });
  const writer = new StoreWriter({
    lambda: client,
    functionName: config.generator.functionName,
    qualifier: config.generator.qualifier,
    maxQueueBytes: config.store.queueBytes,
    // Store requests use Lambda capacity too: they go out only while live renders (in flight or
    // waiting) hold at most half the slots, so a spike's renders never share the Generator with them;
    // the bounded queue holds them until it passes. With store writes taking any free slot, a 20x
    // spike through the CDN shed more than with no store writes at all (the README's spike run).
    freeSlots: () => Math.max(1, Math.floor(config.generator.maxInFlight / 2)) - rendering(),
    metrics,
    logger,
  });
  return { writer, destroy: () => (lambda ? undefined : client.destroy()) };
}

/**
 * Output cache, coalescing, the derivative store and the Generator behind one `images.get`, and
 * the prewarm of what a catalog reload brings. Nothing of the images to close: the cache is
 * memory, flights end with their invocations (the Generator client closes those), and held store
 * writes go with the writer.
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
            writer: app.storeWriter,
            policy: new StorePolicy(() => app.rulesPoller.current(), config.sourcesBucket),
          };
    const images = new ImageService({
      cache: new OutputCache(config.cache.maxBytes, config.cache.maxEntryBytes),
      flights: new SingleFlight<Generation>(),
      generator: app.generator,
      metrics: app.metrics,
      derivativesBucket: bucket,
      store,
    });
    app.decorate('images', images);
    // A render's store write waits for its reply to be sent (cache hits skip this hook altogether).
    if (store?.writer !== undefined) {
      app.addHook('onResponse', (request, _reply, done) => {
        images.replied(request.id);
        done();
      });
    }

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
