import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
      help: 'Output cache lookups by result (hit, miss, coalesced)',
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
    shed: new Counter({
      name: 'marquee_shed_total',
      help: 'Requests shed with 503 by reason (in_flight, event_loop, throttled)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** Counts every reply by route pattern (never the raw URL: that would be a cardinality bomb). */
export const metricsPlugin = fp<{ metrics: Metrics }>(
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
    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      reply.header('content-type', opts.metrics.registry.contentType);
      reply.header('cache-control', 'no-store');
      return opts.metrics.registry.metrics();
    });
  },
  { fastify: '5.x', name: 'marquee-metrics' },
);
