import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/** A reachability answer is reused this long: /readyz is polled by load balancers every few seconds. */
const READY_CACHE_MS = 5000;

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  let lastPing = { at: 0, ok: false };
  let pinging: Promise<void> | undefined;

  // Liveness is never shed: an orchestrator must not kill a busy instance for being busy.
  app.get('/healthz', { logLevel: 'warn', config: { pressureHandler: () => undefined } }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    const rules = app.rulesStore.status();
    if (Date.now() - lastPing.at > READY_CACHE_MS) {
      // Probes arriving while a ping is out share it: one DryRun at a time, however many probes.
      pinging ??= app.generator
        .ping()
        .then((ok) => {
          lastPing = { at: Date.now(), ok };
        })
        .finally(() => {
          pinging = undefined;
        });
      await pinging;
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
