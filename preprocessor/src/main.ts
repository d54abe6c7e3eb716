#!/usr/bin/env node
import closeWithGrace from 'close-with-grace';
import { configOrExit } from '@marquee/shared';
import { buildApp } from './app.js';
import { loadConfig, unknownEnv } from './config.js';

/**
 * Starts the Preprocessor from the environment and drains it on SIGINT/SIGTERM.
 * A bad variable prints one line per problem and exits 1, before anything listens.
 */
/** Longest drain before the process exits anyway: in-flight renders are bounded by their deadline. */
const DRAIN_MS = 30_000;

const config = configOrExit(() => loadConfig());
const app = await buildApp(config);
// A typo (`MARQUEE_MAX_INFLIGT`) would otherwise leave a default in force without a word.
const unknown = unknownEnv();
if (unknown.length > 0)
  app.log.warn({ variables: unknown }, 'MARQUEE_* variables the Preprocessor does not read (typos?)');
// A generated token is printed so that it can be used; a configured one never is.
if (config.generated.studioToken) {
  app.log.warn({ studioToken: config.studioToken }, 'MARQUEE_STUDIO_TOKEN not set: generated for this process only');
}
if (config.generated.signingKey) {
  app.log.warn('MARQUEE_SIGNING_KEY not set: generated for this process only (signed URLs die with it)');
}
// One drain for every way out: SIGINT/SIGTERM, and an uncaught error (logged, then drained).
closeWithGrace({ delay: DRAIN_MS, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'uncaught error: draining');
  else app.log.info({ signal }, 'draining');
  await app.close();
});
await app.listen({ host: config.host, port: config.port });
