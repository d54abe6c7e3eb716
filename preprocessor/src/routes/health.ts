import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { DocumentStatus } from '../rules/poller.js';

/** A reachability answer is reused this long: /readyz is polled by load balancers every few seconds. */
const READY_CACHE_MS = 5000;

/**
 * Why a document's latest version is not in force, fit for a public probe: the poller's message
 * without the document's location (a file path or `s3://bucket/key` stays in the logs), and since
 * when. Undefined while the version in force is the latest.
 */
export function publicReason(doc: DocumentStatus): { reason: string; since: string } | undefined {
  if (doc.error === undefined) return undefined;
  // The poller's messages start with the location (`<location>: <detail>`); it may recur inside.
  let reason = doc.error.startsWith(`${doc.location}: `) ? doc.error.slice(doc.location.length + 2) : doc.error;
  reason = reason.replaceAll(doc.location, 'the document');
  return { reason, since: (doc.errorAt ?? new Date()).toISOString() };
}

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
    const rules = app.rulesPoller.status();
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
    // Versions, health and why a newer rules or catalog version is not in force (the last good one
    // still serves, so this alone is not "not ready"). Locations stay in the logs: a probe is public.
    const rulesReason = publicReason(rules.rules);
    const catalogReason = publicReason(rules.catalog);
    return {
      status: ready ? 'ready' : 'not ready',
      rules: {
        loaded: rules.loaded,
        current: rules.ok,
        loadedAt: rules.loadedAt.toISOString(),
        rulesEtag: rules.rules.etag,
        catalogEtag: rules.catalog.etag,
        ...(rulesReason || catalogReason
          ? {
              notCurrent: {
                ...(rulesReason ? { rules: rulesReason } : {}),
                ...(catalogReason ? { catalog: catalogReason } : {}),
              },
            }
          : {}),
      },
      generator: lastPing.ok ? 'reachable' : 'unreachable',
    };
  });
};
