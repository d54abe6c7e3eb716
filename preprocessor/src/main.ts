#!/usr/bin/env node
import { buildApp } from './app.js';
import { loadConfig } from './config.js';

/** Starts the Preprocessor from the environment and drains it on SIGINT/SIGTERM. */
const config = loadConfig();
const app = await buildApp(config);
// A generated token is printed so that it can be used; a configured one never is.
if (config.generated.studioToken) {
  app.log.warn({ studioToken: config.studioToken }, 'MARQUEE_STUDIO_TOKEN not set: generated for this process only');
}
if (config.generated.signingKey) {
  app.log.warn('MARQUEE_SIGNING_KEY not set: generated for this process only (signed URLs die with it)');
}
let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'draining');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'close failed');
        process.exit(1);
      },
    );
  });
}
await app.listen({ host: config.host, port: config.port });
