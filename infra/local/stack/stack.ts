import { mkdir, readFile } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildApp, loadConfig, type ConfigOverrides } from '@marquee/preprocessor';
import { Type, readEnv } from '@marquee/shared';
import { startLocalS3, localS3Client } from '../s3/index.js';
import { startVarnish, type LocalVarnish } from '../cdn/varnish.js';
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
  /**
   * Varnish in front of the Preprocessor, as CloudFront is on AWS (`infra/local/cdn/marquee.vcl`).
   * `true`: on any free port.
   */
  cdn?: boolean | { port?: number };
}

/** Where the embedded stack keeps the rules, in its sources bucket, unless told otherwise. */
export const RULES_KEY = 'rules/rules.yaml';

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
  /** Where the Preprocessor reads its rules (`s3://bucket/key` or a file): where a rules publish writes. */
  rules: string;
  /** Varnish's address when the stack runs with `cdn`: the URL clients should use. */
  cdnUrl?: string;
  /** The CDN, when on: its counters, and the address that takes BAN and PURGE (from localhost). */
  cdn?: LocalVarnish;
  /** How to invalidate what the CDN holds: for `VarnishInvalidator({ url })` (`@marquee/preprocessor`). */
  invalidation?: { backend: 'varnish'; url: string };
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

/** The rules the Preprocessor ships with: what the stack's rules object starts as. */
function shippedRules(): string {
  return fileURLToPath(new URL('../config/rules.yaml', import.meta.resolve('@marquee/preprocessor')));
}

/**
 * Whether the operator named a rules location (MARQUEE_RULES): then the Preprocessor reads it as
 * named, and the stack's own rules object is not used.
 */
function rulesChosen(): boolean {
  return readEnv(Type.Object({ MARQUEE_RULES: Type.Optional(Type.String()) })).MARQUEE_RULES !== undefined;
}

/**
 * The rules object in local S3, written from `seed` when absent (never overwritten: a published
 * version survives a restart). In S3 rather than the repository's file, so a rules publish has a
 * place to write that is what the Preprocessors read, as on AWS.
 */
async function seedRules(client: S3Client, bucket: string, key: string, seed: string): Promise<void> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    const body = await readFile(seed);
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/yaml' }));
  }
}

/**
 * The whole embedded stack on one machine: local S3 (seeded when empty, the rules included), the
 * local Lambda endpoint running the Generator, the Preprocessor speaking to both through the real
 * SDKs, and with `cdn`, Varnish in front of it.
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
    let rules = options.preprocessor?.rules;
    if (rules === undefined && !rulesChosen()) {
      await seedRules(client, sourcesBucket, RULES_KEY, shippedRules());
      rules = `s3://${sourcesBucket}/${RULES_KEY}`;
    }

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
      ...(rules !== undefined ? { rules } : {}),
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

    let cdn: LocalVarnish | undefined;
    if (options.cdn) {
      cdn = await startVarnish({
        backend: { host, port },
        host,
        port: options.cdn === true ? 0 : (options.cdn.port ?? 0),
        workDir: path.join(options.dataDir, 'varnish'),
      });
      closers.push(() => cdn!.close());
    }
    return {
      url: `http://${host}:${port}`,
      s3Endpoint: s3.endpoint,
      lambdaEndpoint: lambda.url,
      app,
      lambda,
      studioToken: config.studioToken,
      studioTokenGenerated: config.generated.studioToken,
      signingKey: config.signingKey,
      rules: config.rules,
      ...(cdn ? { cdnUrl: cdn.url, cdn, invalidation: { backend: 'varnish' as const, url: cdn.url } } : {}),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
