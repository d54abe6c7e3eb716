#!/usr/bin/env node
import { configOrExit } from '@marquee/shared';
import { buildApp } from './app.js';
import { loadConfig, unknownEnv } from './config.js';

/**
 * Starts the Preprocessor from the environment and drains it on SIGINT/SIGTERM.
 * A bad variable prints one line per problem and exits 1, before anything listens.
 */
const config = configOrExit(() => loadConfig());
const app = await buildApp(config);
// A typo (`MARQUEE_MAX_INFLIGT`) would otherwise leave a default in force without a word.
const unknown = unknownEnv();
if (unknown.length > 0) app.log.warn({ variables: unknown }, 'MARQUEE_* variables the Preprocessor does not read (typos?)');
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
