import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Writable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { contentTypeOf, type GeneratorRequest } from '@marquee/shared';
import { buildApp } from '../src/app.js';
import { loadConfig, type ConfigOverrides } from '../src/config.js';
import { isDryRun, requestOf, streamedOutput, type DoubleReply } from './lambda-double.js';

/**
 * The Preprocessor with a real s3rver (sources and derivatives buckets) and a Lambda client double
 * that streams as the Generator does: a real image of the spec's size and format; with `output`,
 * PUT to the derivatives bucket after the last byte has been read (before `InvokeComplete`); with
 * `store: true`, PUT first and streamed without a body. The end-to-end test
 * (infra/local/test/e2e-prewarm.test.ts) runs the real Generator.
 */

export const SOURCES = 'marquee-sources';
export const DERIVATIVES = 'marquee-derivatives';
export const RULES_PATH = fileURLToPath(new URL('../config/rules.yaml', import.meta.url));

interface S3rverServer {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3RVER: string = 's3rver';

export const CATALOG = {
  version: 1,
  titles: {
    t1: {
      name: 'Stored Title',
      artwork: {
        boxshot: { en: { source: 'titles/t1/boxshot/en.jpg', version: '1' } },
        logo: { en: { source: 'titles/t1/logo/en.png', version: '1' } },
      },
    },
  },
};

export interface LambdaCalls {
  /** Invocations (renders), in arrival order. */
  renders: GeneratorRequest[];
  /** Derivative keys the double wrote, in order. */
  stored: string[];
  /** The most `store: true` renders in flight at once. */
  maxPrewarmInFlight: number;
  /** The most renders of any kind in flight at once. */
  maxInFlight: number;
}

export interface DoubleOptions {
  /** Held before each render answers (tests open it to release renders). */
  renderGate?: (request: GeneratorRequest) => Promise<void>;
  /** Held before each PUT of a streamed render (after its bytes have been read). */
  putGate?: (request: GeneratorRequest) => Promise<void>;
  /** Makes the PUT of a streamed render fail (the reply must not). */
  failPut?: (request: GeneratorRequest) => boolean;
}

export interface StoreHarness {
  dir: string;
  s3: S3Client;
  calls: LambdaCalls;
  lambda: LambdaClient;
  rulesFile: string;
  catalogFile: string;
  /** Starts an app on the shared S3 and Lambda double (a second instance, or a restart); `log` receives its log lines. */
  start(overrides?: ConfigOverrides, log?: (line: { level: number; msg: string }) => void): Promise<FastifyInstance>;
  exists(key: string): Promise<boolean>;
  close(): Promise<void>;
}

async function image(width: number, height: number, format: GeneratorRequest['spec']['format']): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#336699' } })
    .toFormat(format, format === 'avif' ? { effort: 0 } : {})
    .toBuffer();
}

export async function startStoreHarness(
  options: { rules?: string; catalog?: object; double?: DoubleOptions } = {},
): Promise<StoreHarness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-store-'));
  const { default: S3rver } = (await import(S3RVER)) as {
    default: new (options: Record<string, unknown>) => S3rverServer;
  };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: path.join(dir, 's3'),
    silent: true,
    configureBuckets: [{ name: SOURCES }, { name: DERIVATIVES }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const rulesFile = path.join(dir, 'rules.yaml');
  const catalogFile = path.join(dir, 'catalog.json');
  await writeFile(rulesFile, options.rules ?? (await readFile(RULES_PATH, 'utf8')));
  await writeFile(catalogFile, JSON.stringify(options.catalog ?? CATALOG));

  const calls: LambdaCalls = { renders: [], stored: [], maxPrewarmInFlight: 0, maxInFlight: 0 };
  let prewarmInFlight = 0;
  let inFlight = 0;
  const double = options.double ?? {};
  const put = (key: string, body: Buffer, contentType: string) =>
    s3.send(new PutObjectCommand({ Bucket: DERIVATIVES, Key: key, Body: body, ContentType: contentType }));

  const keep = async (key: string, body: Buffer, contentType: string) => {
    if (!key.startsWith('derivatives/')) throw new Error(`output outside the derivatives prefix: ${key}`);
    await put(key, body, contentType);
    calls.stored.push(key);
  };

  /** The invocation: its reply, and what it does after the reply (the PUT), within it. */
  async function invoke(request: GeneratorRequest): Promise<{ reply: DoubleReply; after?: () => Promise<void> }> {
    const { width, height, format } = request.spec;
    const body = await image(width, height, format);
    await double.renderGate?.(request);
    const reply = { ok: true as const, contentType: contentTypeOf(format), width, height, body };
    const target = request.output?.s3;
    if (request.store === true) {
      if (target === undefined) throw new Error('a prewarm render names its object');
      await keep(target.key, body, reply.contentType);
      return { reply: { ...reply, stored: target.key } };
    }
    if (target === undefined) return { reply };
    return {
      reply,
      after: async () => {
        await double.putGate?.(request);
        if (double.failPut?.(request) === true) return;
        await keep(target.key, body, reply.contentType);
      },
    };
  }

  const lambda = {
    async send(command: InvokeCommand) {
      if (isDryRun(command)) return { StatusCode: 204 };
      const request = requestOf(command);
      calls.renders.push(request);
      const prewarm = request.store === true;
      inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, inFlight);
      if (prewarm) calls.maxPrewarmInFlight = Math.max(calls.maxPrewarmInFlight, ++prewarmInFlight);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        inFlight--;
        if (prewarm) prewarmInFlight--;
      };
      try {
        const { reply, after } = await invoke(request);
        // The invocation is in flight until its stream completes (the PUT included).
        return streamedOutput(reply, async () => {
          try {
            await after?.();
          } finally {
            end();
          }
        });
      } catch (err) {
        end();
        throw err;
      }
    },
    destroy() {},
  } as unknown as LambdaClient;

  const apps: FastifyInstance[] = [];
  return {
    dir,
    s3,
    calls,
    lambda,
    rulesFile,
    catalogFile,
    async start(overrides = {}, log) {
      const config = loadConfig(
        {
          rules: rulesFile,
          catalog: catalogFile,
          reloadMs: 60_000,
          maxEventLoopDelayMs: 0,
          sourcesBucket: SOURCES,
          derivativesBucket: DERIVATIVES,
          s3Endpoint: endpoint,
          signingKey: 'signing-key-for-tests-0123456789',
          studioToken: 'studio-token-for-tests',
          ...overrides,
          generator: { endpoint: 'http://127.0.0.1:9', timeoutMs: 5000, maxInFlight: 4, ...overrides.generator },
        },
        {},
      );
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n'))
            if (line.trim() !== '') log?.(JSON.parse(line) as { level: number; msg: string });
          done();
        },
      });
      const app = await buildApp(config, { logger: log ? { level: 'info', stream } : false, s3, lambda });
      apps.push(app);
      return app;
    },
    async exists(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: DERIVATIVES, Key: key }));
        await out.Body?.transformToByteArray();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      for (const app of apps) await app.close();
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A counter's or gauge's value for these labels (0 when never touched). */
export async function metric(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = app.metrics.registry.getSingleMetric(name);
  if (!found) throw new Error(`no metric ${name}`);
  const { values } = await found.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return match?.value ?? 0;
}

/** Polls until `check` holds; throws after `ms` (a hung prewarm fails the test rather than the run). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A promise and its resolver: a gate a test opens. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { wait: () => opened, open };
}
