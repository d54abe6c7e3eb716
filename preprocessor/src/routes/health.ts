import type { FastifyPluginAsync } from 'fastify';

/** A reachability answer is reused this long: /readyz is polled by load balancers every few seconds. */
const READY_CACHE_MS = 5000;

export const healthRoutes: FastifyPluginAsync = async (app) => {
  let lastPing = { at: 0, ok: false };

  app.get('/healthz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const rules = app.rulesStore.status();
    if (Date.now() - lastPing.at > READY_CACHE_MS) {
      lastPing = { at: Date.now(), ok: await app.generator.ping() };
    }
    const ready = rules.loaded && lastPing.ok;
    reply.code(ready ? 200 : 503);
    // Versions and health only: locations and error texts stay in the logs, not on a public probe.
    return {
      status: ready ? 'ready' : 'not ready',
      rules: {
        loaded: rules.loaded,
        current: rules.ok,
        loadedAt: rules.loadedAt.toISOString(),
        rulesEtag: rules.rules.etag,
        catalogEtag: rules.catalog.etag,
      },
      generator: lastPing.ok ? 'reachable' : 'unreachable',
    };
  });
};
