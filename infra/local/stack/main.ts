#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import closeWithGrace from 'close-with-grace';
import { ConfigError, configOrExit, exitOnConfigError } from '@marquee/shared';
import { DEFAULT_CDN_PORT } from '../cdn/varnish.js';
import { localStackSettings } from './env.js';
import { startStack } from './stack.js';

/** Longest drain before the process exits anyway: in-flight renders are bounded by their deadline. */
const DRAIN_MS = 30_000;

/** `npm start`: the embedded stack on 127.0.0.1, configured from the environment (see README). */
const env = configOrExit(() => localStackSettings());
const flags = configOrExit(() => {
  try {
    // --cdn: Varnish in front, as CloudFront is on AWS.
    return parseArgs({ options: { cdn: { type: 'boolean', default: false } }, strict: true }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\nusage: npm start -- [--cdn]`);
  }
});
const log = pino({ level: env.LOG_LEVEL });

const stack = await startStack({
  host: env.HOST,
  port: env.PORT,
  s3Port: env.MARQUEE_LOCAL_S3_PORT,
  lambdaPort: env.MARQUEE_LOCAL_LAMBDA_PORT,
  dataDir: path.resolve(env.MARQUEE_DATA_DIR),
  lambdaConcurrency: env.MARQUEE_LOCAL_LAMBDA_CONCURRENCY,
  lambdaTimeoutMs: env.MARQUEE_LOCAL_LAMBDA_TIMEOUT_S * 1000,
  lambdaMemoryMb: env.MARQUEE_LOCAL_LAMBDA_MEMORY_MB,
  cdn: flags.cdn && { port: DEFAULT_CDN_PORT },
}).catch((err: unknown) => {
  exitOnConfigError(err); // e.g. --cdn without Varnish installed
  throw err;
});

// With the CDN, the URLs to try go through it; /metrics is not routed there (as on CloudFront).
const u = stack.cdnUrl ?? stack.url;
log.info(
  {
    preprocessor: stack.url,
    ...(stack.cdnUrl ? { cdn: stack.cdnUrl } : {}),
    rules: stack.rules,
    s3: stack.s3Endpoint,
    lambda: stack.lambdaEndpoint,
    try: [
      `${u}/v1/artwork/boxshot/80000001/342x513.jpg`,
      `${u}/v1/artwork/boxshot/80000001/342x513.auto?locale=pt-BR`,
      `${u}/v1/artwork/billboard/80000002/1280x720.webp?locale=fr`,
      `${u}/v1/artwork/boxshot/80000003/300.avif (snaps with a 308)`,
      stack.studioTokenGenerated
        ? `${u}/studio (token: ${stack.studioToken})`
        : `${u}/studio (token: MARQUEE_STUDIO_TOKEN)`,
      `${stack.url}/metrics`,
    ],
  },
  'marquee is up',
);

// One drain for every way out: SIGINT/SIGTERM, and an uncaught error (logged, then drained).
closeWithGrace({ delay: DRAIN_MS, logger: log }, async ({ signal, err }) => {
  if (err) log.error({ err }, 'uncaught error: stopping');
  else log.info({ signal }, 'stopping: draining requests, ending Generator environments');
  await stack.close();
});
