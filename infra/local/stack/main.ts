#!/usr/bin/env node
import path from 'node:path';
import pino from 'pino';
import closeWithGrace from 'close-with-grace';
import { configOrExit } from '@marquee/shared';
import { localStackSettings } from './env.js';
import { startStack } from './stack.js';

/** Longest drain before the process exits anyway: in-flight renders are bounded by their deadline. */
const DRAIN_MS = 30_000;

/** `npm start`: the embedded stack on 127.0.0.1, configured from the environment (see README). */
const env = configOrExit(() => localStackSettings());
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
});

const u = stack.url;
log.info(
  {
    preprocessor: u,
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
      `${u}/metrics`,
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
