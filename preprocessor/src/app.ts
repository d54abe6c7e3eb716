import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import underPressure from '@fastify/under-pressure';
import { stdTimeFunctions } from 'pino';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { PreprocessorConfig } from './config.js';
import { problemPlugin, sendProblem } from './plugins/problem.js';
import { routeEveryMethod } from './plugins/methods.js';
import { clientErrorHandler } from './plugins/client-error.js';
import { lazyChildLoggerFactory } from './plugins/lazy-logger.js';
import { createMetrics, metricsPlugin, type Metrics } from './plugins/metrics.js';
import { generatorPlugin, imagesPlugin, rulesPlugin, s3Plugin } from './plugins/services.js';
import { artworkRoutes } from './routes/artwork.js';
import { HotPath } from './routes/artwork-hot.js';
import { requestId } from './request-id.js';
import { healthRoutes } from './routes/health.js';
import { renderRoutes } from './routes/render.js';
import { studioPlugin } from './studio/index.js';

export { s3ClientFor } from './plugins/services.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: PreprocessorConfig;
    /** Cache hits answered ahead of the router (its `served` count tells tests which path answered). */
    hotPath: HotPath;
  }
}

export interface AppDeps {
  /** Defaults to a client for the configured region and endpoint. */
  s3?: S3Client;
  /** Defaults to a Lambda client for the configured endpoint; tests pass a double. */
  lambda?: LambdaClient;
  /** Pino options or an instance; tests pass `false` or a level. */
  logger?: FastifyServerOptions['logger'];
}

/** The URL as logged: bounded, and without signatures (a logged `sig` is a usable URL). */
function logUrl(url: string): string {
  const redacted = url.replace(/([?&]sig=)[^&]*/g, '$1…');
  return redacted.length > 300 ? `${redacted.slice(0, 300)}…` : redacted;
}

/** Builds the Preprocessor without listening: main.ts listens, tests inject or listen on port 0. */
export async function buildApp(config: PreprocessorConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const metrics: Metrics = createMetrics();
  // Made once the services it reads exist; the server exists before them.
  const hotPath: { current?: HotPath } = {};
  const app = Fastify({
    // ISO times, as every other process of the service logs them.
    logger: deps.logger ?? { level: config.logLevel, timestamp: stdTimeFunctions.isoTime },
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers['x-request-id']),
    // Cache hits the artwork route has served before are answered ahead of the router (see
    // HotPath); every other request goes to Fastify. The server is made as Fastify makes it.
    serverFactory: (handler, options) => {
      // Fastify's validated options (its defaults filled in); typed loosely by Fastify.
      const opts = options as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number };
      const server = createServer((req, res) => {
        if (hotPath.current?.serve(req, res) !== true) handler(req, res);
      });
      server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
      server.requestTimeout = opts.requestTimeout ?? 0;
      server.setTimeout(opts.connectionTimeout ?? 0);
      return server;
    },
    // Longer path parameters than this are not artwork requests: 414.
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler,
    // Errors the router raises before any route runs (a bad URL encoding, an overlong parameter).
    frameworkErrors: (err, request, reply) => {
      const status =
        typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 400;
      // No route ran, so no onResponse hook will: count and log it here.
      metrics.requests.inc({ route: 'unmatched', status: String(status) });
      request.log.info(
        { method: request.method, url: logUrl(request.url), status, code: err.code },
        'refused by the router',
      );
      sendProblem(
        request,
        reply,
        'INVALID_PARAMETER',
        status === 414 ? 'A path parameter is too long.' : 'The URL is malformed.',
        {
          status,
        },
      );
    },
    // One log line per request (below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // The rules plugin loads its documents (maybe from S3) at start. No plugin timeout cuts that
    // short (avvio's default is 10 s), as none did when the load ran outside any plugin.
    pluginTimeout: 0,
  });

  routeEveryMethod(app);
  app.decorate('config', config);
  // Callback-style hooks: they run on every request, cache hits included, and skip a promise each.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    // Cache hits are the bulk and the least interesting: counted in /metrics, logged at debug.
    const cache = reply.getHeader('x-cache');
    const level = cache === 'hit' ? 'debug' : 'info';
    if (request.log.level === 'debug' || request.log.level === 'trace' || level === 'info') {
      request.log[level](
        {
          method: request.method,
          url: logUrl(request.url),
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 10) / 10,
          cache,
        },
        'request',
      );
    }
    done();
  });

  await app.register(problemPlugin);
  await app.register(metricsPlugin, { metrics, port: config.metricsPort, host: config.host });
  await app.register(s3Plugin, { client: deps.s3 });
  await app.register(rulesPlugin);
  await app.register(generatorPlugin, { lambda: deps.lambda });
  await app.register(imagesPlugin);
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    retryAfter: 1,
    exposeStatusRoute: false,
    pressureHandler: (request, reply, type) => {
      metrics.shed.inc({ reason: type === 'eventLoopDelay' ? 'event_loop' : String(type) });
      sendProblem(request, reply, 'OVERLOADED', 'The server is overloaded; retry shortly.', { retryAfter: 1 });
    },
  });
  await app.register(healthRoutes);
  let closing = false;
  // From the start of a shutdown, Fastify answers 503 (return503OnClosing): hits included.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const hot = new HotPath({
    images: app.images,
    metrics,
    state: () => app.rulesPoller.current(),
    // Hits are logged at debug: with debug on, they go the way that logs them.
    bypass: () => closing || app.isUnderPressure() || app.log.level === 'debug' || app.log.level === 'trace',
  });
  hotPath.current = hot;
  app.decorate('hotPath', hot);
  await app.register(artworkRoutes, { hot });
  await app.register(renderRoutes);
  await app.register(studioPlugin);
  return app;
}
