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
import {
  contentTypeOf,
  parseGeneratorRequest,
  parseStoreRequest,
  type GeneratorRequest,
  type GeneratorResult,
  type StoreRequest,
} from '@marquee/shared';
import { buildApp } from '../src/app.js';
import { loadConfig, type ConfigOverrides } from '../src/config.js';

/**
 * The Preprocessor with a real s3rver (sources and derivatives buckets) and a Lambda client double
 * that behaves as the Generator does on the two paths the store uses: a synchronous render (a real
 * image of the spec's size and format; with `store: true`, written to the derivatives bucket and
 * returned without a body) and an `Event` store request (validated as the Generator validates it,
 * then PUT). The end-to-end test (infra/local/test/e2e-prewarm.test.ts) runs the real Generator.
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
  /** Synchronous invocations (renders), in arrival order. */
  renders: GeneratorRequest[];
  /** Store requests the double accepted (and wrote). */
  events: StoreRequest[];
  /** The most `store: true` renders in flight at once. */
  maxPrewarmInFlight: number;
  /** The most renders of any kind in flight at once. */
  maxInFlight: number;
}

export interface DoubleOptions {
  /** Held before each render answers (tests open it to release renders). */
  renderGate?: (request: GeneratorRequest) => Promise<void>;
  /** Held before each store request is accepted. */
  eventGate?: () => Promise<void>;
  /** Checked when a store request arrives (e.g. that its reply was sent first). */
  onEvent?: (event: StoreRequest) => void;
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

  const calls: LambdaCalls = { renders: [], events: [], maxPrewarmInFlight: 0, maxInFlight: 0 };
  let prewarmInFlight = 0;
  let inFlight = 0;
  const double = options.double ?? {};
  const put = (key: string, body: Buffer, contentType: string) =>
    s3.send(new PutObjectCommand({ Bucket: DERIVATIVES, Key: key, Body: body, ContentType: contentType }));

  async function render(request: GeneratorRequest): Promise<GeneratorResult> {
    const { width, height, format } = request.spec;
    const body = await image(width, height, format);
    await double.renderGate?.(request);
    const result = {
      ok: true as const,
      contentType: contentTypeOf(format),
      width,
      height,
      bytes: body.length,
      timings: { fetchMs: 0, renderMs: 0 },
      coldStart: false,
    };
    if (request.store !== true) return { ...result, body: body.toString('base64') };
    const target = request.output?.s3;
    if (target === undefined) throw new Error('a store render names its object');
    await put(target.key, body, result.contentType);
    return { ...result, s3: target };
  }

  const lambda = {
    async send(command: InvokeCommand) {
      const payload: unknown = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8'));
      if (command.input.InvocationType === 'Event') {
        const event = parseStoreRequest(payload);
        await double.eventGate?.();
        double.onEvent?.(event);
        if (event.target.bucket !== DERIVATIVES || !event.target.key.startsWith('derivatives/')) {
          throw new Error(`store request outside the derivatives prefix: ${event.target.key}`);
        }
        await put(event.target.key, Buffer.from(event.body, 'base64'), event.contentType);
        calls.events.push(event);
        return { StatusCode: 202 };
      }
      const request = parseGeneratorRequest(payload);
      calls.renders.push(request);
      const prewarm = request.store === true;
      inFlight++;
      calls.maxInFlight = Math.max(calls.maxInFlight, inFlight);
      if (prewarm) calls.maxPrewarmInFlight = Math.max(calls.maxPrewarmInFlight, ++prewarmInFlight);
      try {
        return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(await render(request))) };
      } finally {
        inFlight--;
        if (prewarm) prewarmInFlight--;
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
