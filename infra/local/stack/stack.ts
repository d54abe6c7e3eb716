import { mkdir, readFile } from 'node:fs/promises';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { buildApp, loadConfig, type ConfigOverrides } from '@marquee/preprocessor';
import { LogLevelVar, Type, counted, readEnv } from '@marquee/shared';
import { pino } from 'pino';
import { startLocalS3, localS3Client } from '../s3/index.js';
import { startVarnish, type LocalVarnish } from '../cdn/varnish.js';
import { startLocalLambda } from '../lambda/index.js';
import { CATALOG_KEY } from '../seed/catalog.js';
import type { ImportReport } from '../import/index.js';
import { LOCAL_CREDENTIALS, SDK_NODE_WARNING_OFF, maxInFlightChosen, useLocalAwsDefaults } from './env.js';
import { seedInChild } from './seed-process.js';

/**
 * The import of a folder of artwork (`images`), loaded only when asked for: it checks images with
 * sharp, whose native memory should not sit in the stack's process of a plain `npm start`.
 */
const importModule = () => import('../import/index.js');

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
  /**
   * Serve this folder of artwork (`infra/local/import/layout.ts`) instead of the sample catalog:
   * imported into the sources bucket and a catalog of its own (the sample catalog is kept).
   */
  images?: string;
  /**
   * Return once the sample titles `npm start` shows are rendered, and render the rest in the
   * background (`seed.complete`). Otherwise the stack starts with every sample title in place.
   */
  seedInBackground?: boolean;
  /** Plain-text progress lines for a person watching the start (seeding, importing). */
  progress?: (line: string) => void;
}

/** The imported folder, when the stack serves one (`images`). */
export interface StackImages {
  dir: string;
  /** The last import. */
  report: ImportReport;
  /**
   * Imports the folder again with the rules in force: only what changed is read and uploaded; a
   * changed catalog is written and reloaded by the Preprocessor before this resolves.
   */
  reimport(): Promise<ImportReport>;
}

/**
 * The alias the Preprocessor invokes, as on AWS: the stack publishes the Generator as version 1
 * and points `live` at it, so a release can weight a candidate onto it (`npm run release`).
 */
export const GENERATOR_ALIAS = 'live';

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
  /** Where s3rver keeps its objects. */
  dataDir: string;
  /** `/metrics` on its own port (`MARQUEE_METRICS_PORT`); undefined: on the Preprocessor's. */
  metricsUrl?: string;
  /** With `images`: the import, and how to redo it. */
  images?: StackImages;
  /** The sample catalog (without `images`): how many titles are ready, and when the rest are. */
  seed?: { titles: number; ready: number; complete: Promise<void> };
  close(): Promise<void>;
}

/** `port`, or when 0 a port free on `host` now (another process could take it before it is used: a test-only race). */
async function portFor(host: string, port: number): Promise<number> {
  if (port !== 0) return port;
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port: free } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return free;
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
  return chosenRules() !== undefined;
}

function chosenRules(): string | undefined {
  return readEnv(Type.Object({ MARQUEE_RULES: Type.Optional(Type.String()) })).MARQUEE_RULES;
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

/** A logger of the stack's own parts: ISO times, as every process of the stack logs them. */
export function stackLogger(name: string, logger?: boolean | { level: string }) {
  const level =
    typeof logger === 'object'
      ? logger.level
      : readEnv(Type.Object({ LOG_LEVEL: LogLevelVar({ default: 'info' }) })).LOG_LEVEL;
  return pino({ name, level, timestamp: pino.stdTimeFunctions.isoTime });
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
    let rules = options.preprocessor?.rules;
    if (rules === undefined && !rulesChosen()) {
      await seedRules(client, sourcesBucket, RULES_KEY, shippedRules());
      rules = `s3://${sourcesBucket}/${RULES_KEY}`;
    }
    let imported: ImportReport | undefined;
    let seed: Stack['seed'];
    if (options.images !== undefined) {
      const { importImages, readRulesOutline } = await importModule();
      // Checked against the rules' types and default locale before the Preprocessor loads them.
      const outline = await readRulesOutline(rules ?? chosenRules() ?? shippedRules(), client);
      options.progress?.(`importing ${options.images}`);
      imported = await importImages({
        dir: options.images,
        client,
        bucket: sourcesBucket,
        types: outline?.types,
        defaultLocale: outline?.defaultLocale ?? 'en',
      });
      options.progress?.(
        `imported ${counted(imported.images.length, 'image')} of ${counted(Object.keys(imported.catalog.titles).length, 'title')}` +
          `${imported.skipped.length > 0 ? `, skipped ${counted(imported.skipped.length, 'file')}` : ''} (${(imported.ms / 1000).toFixed(1)} s)`,
      );
    } else {
      // In a process of its own: rendering's native memory leaves with it (`seed-process.ts`).
      const seeded = await seedInChild(
        { endpoint: s3.endpoint, sourcesBucket, background: options.seedInBackground ?? false },
        options.progress,
      );
      // Stopped (between images) before the S3 it writes to closes (closers run in reverse).
      closers.push(() => seeded.stop());
      seed = { titles: seeded.titles, ready: seeded.ready, complete: seeded.complete };
    }

    const concurrency = options.lambdaConcurrency ?? 4;
    const lambda = await startLocalLambda({
      host,
      port: options.lambdaPort ?? 0,
      concurrency,
      // Its timeouts, crashes and out-of-memory kills, in the stack's log (and its time format).
      ...(options.logger === false ? {} : { logger: stackLogger('local-lambda', options.logger) }),
      functions: {
        [functionName]: {
          handler: options.handler ?? defaultGeneratorModule(),
          memoryMb: options.lambdaMemoryMb ?? 1536,
          timeoutMs: options.lambdaTimeoutMs ?? 30_000,
          publishAs: GENERATOR_ALIAS,
          env: {
            ...LOCAL_CREDENTIALS,
            AWS_REGION: region,
            MARQUEE_S3_ENDPOINT: s3.endpoint,
            MARQUEE_SOURCE_BUCKETS: sourcesBucket,
            MARQUEE_DERIVATIVES_BUCKET: derivativesBucket,
            // The stack says it once per start (npm start), not each environment on its stderr.
            ...SDK_NODE_WARNING_OFF,
            ...options.generatorEnv,
          },
        },
      },
    });
    closers.push(() => lambda.close());

    // The CDN's port is chosen before the Preprocessor starts, so that its publishes know what to invalidate.
    const cdnPort = options.cdn ? await portFor(host, options.cdn === true ? 0 : (options.cdn.port ?? 0)) : undefined;
    const config = loadConfig({
      ...(cdnPort !== undefined ? { invalidation: { backend: 'varnish', url: `http://${host}:${cdnPort}` } } : {}),
      host,
      port: options.port ?? 0,
      catalog: `s3://${sourcesBucket}/${imported ? (await importModule()).IMPORT_CATALOG_KEY : CATALOG_KEY}`,
      sourcesBucket,
      derivativesBucket,
      s3Endpoint: s3.endpoint,
      ...options.preprocessor,
      ...(rules !== undefined ? { rules } : {}),
      generator: {
        functionName,
        qualifier:
          readEnv(Type.Object({ MARQUEE_GENERATOR_QUALIFIER: Type.Optional(Type.String()) }))
            .MARQUEE_GENERATOR_QUALIFIER ?? GENERATOR_ALIAS,
        endpoint: lambda.url,
        // More invocations in flight than the local Lambda runs would only be throttled: queue them here instead.
        ...(maxInFlightChosen() ? {} : { maxInFlight: concurrency }),
        ...options.preprocessor?.generator,
      },
    });
    // ISO times, as the Generator's and the stack's own lines: one time format in every process's logs.
    const app = await buildApp(config, {
      logger: options.logger ?? { level: config.logLevel, timestamp: pino.stdTimeFunctions.isoTime },
    });
    closers.push(() => app.close());
    await app.listen({ host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;

    let cdn: LocalVarnish | undefined;
    if (options.cdn) {
      cdn = await startVarnish({
        backend: { host, port },
        // The header the Preprocessor tags its replies in (MARQUEE_CACHE_TAG_HEADER): xkey reads it.
        cacheTagHeader: config.cacheTagHeader,
        host,
        port: cdnPort ?? 0,
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
      dataDir: options.dataDir,
      ...(app.metricsUrl !== undefined ? { metricsUrl: app.metricsUrl } : {}),
      ...(imported !== undefined && options.images !== undefined
        ? { images: stackImages(options.images, imported, app, client, sourcesBucket, await importModule()) }
        : {}),
      ...(seed ? { seed } : {}),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The imported folder of a stack, and its re-import with the rules the Preprocessor has in force. */
function stackImages(
  dir: string,
  first: ImportReport,
  app: FastifyInstance,
  client: S3Client,
  bucket: string,
  { importImages }: Awaited<ReturnType<typeof importModule>>,
): StackImages {
  const images: StackImages = {
    dir,
    report: first,
    async reimport() {
      const { rules } = app.rulesPoller.current();
      const report = await importImages({
        dir,
        client,
        bucket,
        types: new Set(Object.keys(rules.types)),
        defaultLocale: rules.defaultLocale,
        previous: images.report,
      });
      images.report = report;
      // Served at once, not at the next poll.
      if (report.written) await app.rulesPoller.reload();
      return report;
    },
  };
  return images;
}
