import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ARTWORK_ROUTE } from '../routes/artwork-url.js';

/**
 * Label values known in advance, exported at zero from the start: an alert on `increase(...) > 0`
 * or a `rate()` panel then sees the first error, and a missing series means a missing exporter,
 * not "no errors yet".
 */
const KNOWN_LABELS = {
  shed: ['in_flight', 'event_loop', 'throttled'],
  invocations: ['ok', 'error', 'throttled', 'failed'],
  /** What a Generator result or the Preprocessor's client reports (`generator/src`, `generator/client.ts`). */
  generatorErrors: [
    'INVALID_SPEC',
    'SOURCE_NOT_ALLOWED',
    'SOURCE_NOT_FOUND',
    'SOURCE_TOO_LARGE',
    'UNSUPPORTED_IMAGE',
    'SOURCE_FETCH_FAILED',
    'OUTPUT_TOO_LARGE',
    'GENERATOR_FAILED',
    'GENERATOR_UNAVAILABLE',
    'TIMEOUT',
  ],
  /** The server-side failures the artwork route answers (overload, Generator, deadline). */
  artworkErrors: ['500', '502', '503', '504'],
} as const;

/** Every metric the Preprocessor exports, on a registry of its own (two apps in one process never clash). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'marquee_' });
  const m = {
    registry,
    requests: new Counter({
      name: 'marquee_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'marquee_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    cache: new Counter({
      name: 'marquee_cache_requests_total',
      help: 'Output cache lookups by result (hit, miss, coalesced, store: a miss the derivative store answered)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    cacheBytes: new Gauge({
      name: 'marquee_cache_bytes',
      help: 'Bytes of images in the output cache',
      registers: [registry],
    }),
    cacheEntries: new Gauge({
      name: 'marquee_cache_entries',
      help: 'Images in the output cache',
      registers: [registry],
    }),
    invocations: new Counter({
      name: 'marquee_generator_invocations_total',
      help: 'Generator invocations by outcome (ok, error, throttled, failed)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    generatorErrors: new Counter({
      name: 'marquee_generator_errors_total',
      help: 'Generator failures by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    coldStarts: new Counter({
      name: 'marquee_generator_cold_starts_total',
      help: 'Generator cold starts seen in results',
      registers: [registry],
    }),
    generatorDuration: new Histogram({
      name: 'marquee_generator_duration_seconds',
      help: 'Generator invocation time as seen by the Preprocessor',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    generatorStages: new Histogram({
      name: 'marquee_generator_stage_seconds',
      help: 'Where the time of a render went: queue (waiting for a slot), fetch and render (as the Generator timed them)',
      labelNames: ['stage'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'marquee_generator_in_flight',
      help: 'Generator invocations in flight',
      registers: [registry],
    }),
    queued: new Gauge({
      name: 'marquee_generator_queued',
      help: 'Renders waiting for an in-flight slot',
      registers: [registry],
    }),
    storeReads: new Counter({
      name: 'marquee_store_reads_total',
      help: 'Derivative store reads on output-cache misses by result (hit, miss, error, skipped: not tried during an outage, denied: 403)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    storeWrites: new Counter({
      name: 'marquee_store_writes_total',
      help: 'Renders the Generator was asked to keep (it PUTs them after streaming them back; the objects written are counted in the bucket, and as StoreWriteFailures by the Generator when a PUT fails)',
      registers: [registry],
    }),
    prewarmQueued: new Counter({
      name: 'marquee_prewarm_queued_total',
      help: 'Images queued for prewarming',
      registers: [registry],
    }),
    prewarmRendered: new Counter({
      name: 'marquee_prewarm_rendered_total',
      help: 'Images prewarmed: rendered into the derivative store',
      registers: [registry],
    }),
    prewarmSkipped: new Counter({
      name: 'marquee_prewarm_skipped_total',
      help: 'Images not prewarmed because the derivative store already had them',
      registers: [registry],
    }),
    prewarmFailed: new Counter({
      name: 'marquee_prewarm_failed_total',
      help: 'Images whose prewarm render failed (they render on demand)',
      registers: [registry],
    }),
    prewarmInFlight: new Gauge({
      name: 'marquee_prewarm_in_flight',
      help: 'Prewarm renders in flight (at most the prewarm share of the Generator slots)',
      registers: [registry],
    }),
    shed: new Counter({
      name: 'marquee_shed_total',
      help: 'Requests shed with 503 by reason (in_flight, event_loop, throttled)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
  for (const reason of KNOWN_LABELS.shed) m.shed.inc({ reason }, 0);
  for (const outcome of KNOWN_LABELS.invocations) m.invocations.inc({ outcome }, 0);
  for (const code of KNOWN_LABELS.generatorErrors) m.generatorErrors.inc({ code }, 0);
  for (const status of KNOWN_LABELS.artworkErrors) m.requests.inc({ route: ARTWORK_ROUTE, status }, 0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    /** Where `/metrics` is served when it has a port of its own (`MARQUEE_METRICS_PORT`), once listening. */
    metricsUrl: string | undefined;
  }
}

export interface MetricsPluginOptions {
  metrics: Metrics;
  /**
   * A port of its own for `/metrics` (0: any free one), on `host`: then the public port has no
   * `/metrics`. Opened when the app is ready, closed with it.
   */
  port?: number | undefined;
  host?: string;
}

/** Counts every reply by route pattern (never the raw URL: that would be a cardinality bomb). */
export const metricsPlugin = fp<MetricsPluginOptions>(
  async (app, opts) => {
    app.decorate('metrics', opts.metrics);
    // Label children are looked up once per (route, status), not hashed on every request:
    // this hook runs on every cache hit, the hottest path there is.
    // Keyed by route then status: no string is built per request.
    const counters = new Map<string, Map<number, { inc: () => void }>>();
    const histograms = new Map<string, { observe: (v: number) => void }>();
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.statusCode;
      let byStatus = counters.get(route);
      if (!byStatus) counters.set(route, (byStatus = new Map<number, { inc: () => void }>()));
      let counter = byStatus.get(status);
      if (!counter) byStatus.set(status, (counter = opts.metrics.requests.labels(route, String(status))));
      counter.inc();
      let histogram = histograms.get(route);
      if (!histogram) histograms.set(route, (histogram = opts.metrics.latency.labels(route)));
      histogram.observe(reply.elapsedTime / 1000);
      done();
    });
    app.decorate('metricsUrl', undefined);
    if (opts.port === undefined) {
      app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
        reply.header('content-type', opts.metrics.registry.contentType);
        reply.header('cache-control', 'no-store');
        return opts.metrics.registry.metrics();
      });
      return;
    }
    const server = metricsServer(opts.metrics);
    const { port, host = '127.0.0.1' } = opts;
    app.addHook('onReady', async () => {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      app.metricsUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/metrics`;
    });
    app.addHook('onClose', async () => {
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
  },
  { fastify: '5.x', name: 'marquee-metrics' },
);

/** `/metrics` alone on a port of its own (scrapers only: every other path is a 404, nothing else a GET). */
function metricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
        .end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'cache-control': 'no-store' }).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => res.writeHead(500, { 'cache-control': 'no-store' }).end(),
    );
  });
}
