import t from 'tap';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startLocalLambda } from '../lambda/index.js';
import { localS3Client, startLocalS3 } from '../s3/index.js';
import { seedSamples } from '../seed/index.js';

/** The Generator is built by another package; without its dist there is nothing to run. */
function generatorHandler(): string | undefined {
  try {
    const path = fileURLToPath(import.meta.resolve('@marquee/generator/handler'));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const compiled = generatorHandler();
const bundle = compiled === undefined ? undefined : join(dirname(compiled), 'bundle', 'index.mjs');
// Both forms the embedded stack may load: the esbuild bundle when packaged, else the compiled handler.
const modules = [
  { name: 'compiled handler', handler: compiled, skip: 'generator/dist/handler.js not built' },
  {
    name: 'Lambda bundle',
    handler: bundle !== undefined && existsSync(bundle) ? bundle : undefined,
    skip: 'generator bundle not packaged',
  },
];

for (const { name, handler, skip } of modules)
  t.test(
    `the real Generator (${name}) renders a seeded source through the local Lambda`,
    { skip: handler ? false : skip },
    async (t) => {
      const bucket = 'marquee-sources';
      const s3 = await startLocalS3({ directory: t.testdir(), buckets: [bucket] });
      t.teardown(() => s3.close());
      const s3Client = localS3Client(s3.endpoint);
      t.teardown(() => s3Client.destroy());
      const { catalog } = await seedSamples({ client: s3Client, sourcesBucket: bucket, titles: 1 });
      const key = catalog.titles['80000001']?.artwork.boxshot?.en?.source ?? '';

      let logs = '';
      const stdout = new PassThrough().on('data', (chunk: Buffer) => (logs += chunk.toString()));
      const stderr = new PassThrough().resume();
      const lambda = await startLocalLambda({
        stdout,
        stderr,
        functions: {
          'marquee-generator': {
            handler: handler as string,
            timeoutMs: 30_000,
            env: {
              MARQUEE_S3_ENDPOINT: s3.endpoint,
              AWS_ACCESS_KEY_ID: 'S3RVER',
              AWS_SECRET_ACCESS_KEY: 'S3RVER',
              AWS_REGION: 'us-east-1',
            },
          },
        },
      });
      t.teardown(() => lambda.close());
      const client = new LambdaClient({
        endpoint: lambda.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      t.teardown(() => client.destroy());

      const invoke = async (id: string) => {
        const event = {
          v: 1,
          id,
          source: { s3: { bucket, key } },
          spec: { width: 342, height: 513, fit: 'cover', format: 'webp', quality: 80 },
        };
        const out = await client.send(
          new InvokeCommand({ FunctionName: 'marquee-generator', Payload: Buffer.from(JSON.stringify(event)) }),
        );
        t.equal(out.FunctionError, undefined, 'no function error');
        return JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString()) as Record<string, unknown>;
      };

      const first = await invoke('it-1');
      t.match(first, {
        ok: true,
        contentType: 'image/webp',
        width: 342,
        height: 513,
        coldStart: true,
        timings: { fetchMs: Number, renderMs: Number },
      });
      const image = Buffer.from(String(first.body), 'base64');
      t.equal(image.length, first.bytes);
      t.match(await sharp(image).metadata(), { format: 'webp', width: 342, height: 513 });

      const second = await invoke('it-2');
      t.match(second, { ok: true, coldStart: false });
      t.match(lambda.stats(), { invocations: 2, coldStarts: 1 });
      t.match(logs, /it-1/, "the Generator's logs pass through the endpoint's stdout");
    },
  );
