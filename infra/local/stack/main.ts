#!/usr/bin/env node
import path from 'node:path';
import pino from 'pino';
import { startStack } from './stack.js';

/** `npm start`: the embedded stack on 127.0.0.1, configured from the environment (see README). */
const log = pino({ level: process.env.LOG_LEVEL ?? 'info' });

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    log.fatal(`${name}: expected a port number 0..65535, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const stack = await startStack({
  host: process.env.HOST ?? '127.0.0.1',
  port: port('PORT', 8080),
  s3Port: port('MARQUEE_LOCAL_S3_PORT', 4569),
  lambdaPort: port('MARQUEE_LOCAL_LAMBDA_PORT', 9001),
  dataDir: path.resolve(process.env.MARQUEE_DATA_DIR ?? '.data'),
  lambdaConcurrency: port('MARQUEE_LOCAL_LAMBDA_CONCURRENCY', 4),
  lambdaTimeoutMs: port('MARQUEE_LOCAL_LAMBDA_TIMEOUT_S', 30) * 1000,
  lambdaMemoryMb: port('MARQUEE_LOCAL_LAMBDA_MEMORY_MB', 1536),
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
      stack.studioTokenGenerated ? `${u}/studio (token: ${stack.studioToken})` : `${u}/studio (token: MARQUEE_STUDIO_TOKEN)`,
      `${u}/metrics`,
    ],
  },
  'marquee is up',
);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'stopping: draining requests, ending Generator environments');
    stack.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  });
}
