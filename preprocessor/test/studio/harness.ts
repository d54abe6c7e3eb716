import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';

export const BUCKET = 'marquee-sources';
export const STUDIO_TOKEN = 'studio-token-for-tests';
export const SIGNING_KEY = 'signing-key-for-tests-0123456789';
export const PUBLISHED_KEY = 'titles/t1/boxshot/en.jpg';
export const RULES = fileURLToPath(new URL('../../config/rules.yaml', import.meta.url));

interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverServer;
const S3RVER: string = 's3rver';

export interface Harness {
  app: FastifyInstance;
  s3: S3Client;
  /** The rules file the app reads: a copy of the repo's, so a publish never writes the repo. */
  rulesPath: string;
  close(): Promise<void>;
}

/** A small JPEG made with sharp: a real image for every test that needs one. */
export function sampleJpeg(width = 200, height = 300): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 60 } } })
    .jpeg({ quality: 70 })
    .toBuffer();
}

const catalog = {
  version: 1,
  titles: {
    t1: {
      name: 'The Test Title',
      flags: ['top10'],
      artwork: {
        boxshot: {
          en: { source: PUBLISHED_KEY, version: '3', focal: { x: 0.5, y: 0.3 }, width: 200, height: 300 },
          fr: { source: 'titles/t1/boxshot/fr.jpg', version: '1' },
        },
      },
    },
  },
};

/**
 * The Preprocessor as deployed, minus the Generator: a real s3rver holding one published
 * source, the repo's rules.yaml and a one-title catalog. The Generator endpoint is a closed
 * port, so a render that passes the signature check ends in a 5xx, never a 403.
 */
export async function startHarness(deps: { lambda?: LambdaClient } = {}): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), 'marquee-studio-'));
  // s3rver ships no types; the constructor is all we use. (A specifier that is not a literal keeps
  // TypeScript from looking for its declarations.)
  const { default: S3rver } = (await import(S3RVER)) as { default: S3rverCtor };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: path.join(dir, 's3'),
    silent: true,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: PUBLISHED_KEY, Body: await sampleJpeg(), ContentType: 'image/jpeg' }),
  );
  const catalogPath = path.join(dir, 'catalog.json');
  await writeFile(catalogPath, JSON.stringify(catalog));
  const rulesPath = path.join(dir, 'rules.yaml');
  await copyFile(RULES, rulesPath);
  const config = loadConfig(
    {
      rules: rulesPath,
      catalog: catalogPath,
      reloadMs: 60_000,
      // Tap runs files in parallel on two cores: load shedding would turn a slow moment into a 503.
      maxEventLoopDelayMs: 0,
      sourcesBucket: BUCKET,
      s3Endpoint: endpoint,
      signingKey: SIGNING_KEY,
      studioToken: STUDIO_TOKEN,
      // Port 9 (discard) is closed here: no Generator answers.
      generator: { endpoint: 'http://127.0.0.1:9', timeoutMs: 2000 },
    },
    {},
  );
  const app = await buildApp(config, { logger: false, s3, ...deps });
  await app.ready();
  return {
    app,
    s3,
    rulesPath,
    close: async () => {
      await app.close();
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A multipart/form-data body with one file part, built by hand so the file name is sent as given. */
export function multipartBody(filename: string, body: Buffer, contentType = 'application/octet-stream') {
  const boundary = `----marquee${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, body, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

export const bearer = { authorization: `Bearer ${STUDIO_TOKEN}` };
