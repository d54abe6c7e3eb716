import { mkdir } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, loadConfig, type ConfigOverrides } from '@marquee/preprocessor';
import { startLocalS3, localS3Client } from '../s3/index.js';
import { startLocalLambda } from '../lambda/index.js';
import { seedSamples } from '../seed/index.js';
import { LOCAL_CREDENTIALS, maxInFlightChosen, useLocalAwsDefaults } from './env.js';

export interface StackOptions {
  host?: string;
  /** Preprocessor port (0: any free port). */
  port?: number;
  s3Port?: number;
  lambdaPort?: number;
  /** Where s3rver keeps its objects. */
  dataDir: string;
  sourcesBucket?: string;
  derivativesBucket?: string;
  functionName?: string;
  lambdaConcurrency?: number;
  lambdaTimeoutMs?: number;
  lambdaMemoryMb?: number;
  /** The Generator module the environments load: the Lambda bundle when built, else the compiled handler. */
  handler?: string;
  /** Preprocessor settings on top of those the stack wires (endpoints, buckets, catalog). */
  preprocessor?: ConfigOverrides;
  /** Environment passed to the Generator environments, on top of what the stack wires. */
  generatorEnv?: Record<string, string>;
  logger?: boolean | { level: string };
}

export interface Stack {
  url: string;
  s3Endpoint: string;
  lambdaEndpoint: string;
  app: FastifyInstance;
  lambda: Awaited<ReturnType<typeof startLocalLambda>>;
  studioToken: string;
  /** Whether the token was generated for this run (and so may be printed). */
  studioTokenGenerated: boolean;
  signingKey: string;
  close(): Promise<void>;
}

/** The newest compiled file of the Generator (its `dist/`, the bundle aside). */
function newestCompiled(dist: string): number {
  let newest = 0;
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.js') || entry.parentPath.includes(`${path.sep}bundle`)) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The Generator as Lambda runs it: the packaged bundle, when it is at least as new as the compiled
 * code; else the compiled handler. A bundle left by an earlier `npm test` must not run old code.
 */
export function defaultGeneratorModule(): string {
  const handler = fileURLToPath(import.meta.resolve('@marquee/generator/handler'));
  const bundle = fileURLToPath(new URL('../../../../generator/dist/bundle/index.mjs', import.meta.url));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestCompiled(path.dirname(handler))) return bundle;
  return handler;
}

/**
 * The whole embedded stack on one machine: local S3 (seeded when empty), the local Lambda
 * endpoint running the Generator, and the Preprocessor speaking to both through the real SDKs.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const host = options.host ?? '127.0.0.1';
  const sourcesBucket = options.sourcesBucket ?? 'marquee-sources';
  const derivativesBucket = options.derivativesBucket ?? 'marquee-derivatives';
  const functionName = options.functionName ?? 'marquee-generator';
  const region = useLocalAwsDefaults();

  await mkdir(options.dataDir, { recursive: true });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => undefined);
  };
  try {
    const s3 = await startLocalS3({
      directory: path.join(options.dataDir, 's3'),
      host,
      port: options.s3Port ?? 0,
      buckets: [sourcesBucket, derivativesBucket],
    });
    closers.push(() => s3.close());
    const client = localS3Client(s3.endpoint);
    closers.push(async () => client.destroy());
    await seedSamples({ client, sourcesBucket });

    const concurrency = options.lambdaConcurrency ?? 4;
    const lambda = await startLocalLambda({
      host,
      port: options.lambdaPort ?? 0,
      concurrency,
      functions: {
        [functionName]: {
          handler: options.handler ?? defaultGeneratorModule(),
          memoryMb: options.lambdaMemoryMb ?? 1536,
          timeoutMs: options.lambdaTimeoutMs ?? 30_000,
          env: {
            ...LOCAL_CREDENTIALS,
            AWS_REGION: region,
            MARQUEE_S3_ENDPOINT: s3.endpoint,
            MARQUEE_SOURCE_BUCKETS: sourcesBucket,
            MARQUEE_DERIVATIVES_BUCKET: derivativesBucket,
            ...options.generatorEnv,
          },
        },
      },
    });
    closers.push(() => lambda.close());

    const config = loadConfig({
      host,
      port: options.port ?? 0,
      catalog: `s3://${sourcesBucket}/catalog.json`,
      sourcesBucket,
      derivativesBucket,
      s3Endpoint: s3.endpoint,
      ...options.preprocessor,
      generator: {
        functionName,
        endpoint: lambda.url,
        // More invocations in flight than the local Lambda runs would only be throttled: queue them here instead.
        ...(maxInFlightChosen() ? {} : { maxInFlight: concurrency }),
        ...options.preprocessor?.generator,
      },
    });
    const app = await buildApp(config, { logger: options.logger ?? { level: config.logLevel } });
    closers.push(() => app.close());
    await app.listen({ host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return {
      url: `http://${host}:${port}`,
      s3Endpoint: s3.endpoint,
      lambdaEndpoint: lambda.url,
      app,
      lambda,
      studioToken: config.studioToken,
      studioTokenGenerated: config.generated.studioToken,
      signingKey: config.signingKey,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
