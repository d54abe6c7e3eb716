import t from 'tap';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PreludeSplitter, renderFacts } from '@marquee/shared';
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

      const event = (id: string) => ({
        v: 1,
        id,
        source: { s3: { bucket, key } },
        spec: { width: 342, height: 513, fit: 'cover', format: 'webp', quality: 80 },
      });
      /** Through InvokeWithResponseStream, as the Preprocessor calls it: the prelude, the raw bytes, InvokeComplete. */
      const invoke = async (id: string) => {
        const out = await client.send(
          new InvokeWithResponseStreamCommand({
            FunctionName: 'marquee-generator',
            Payload: Buffer.from(JSON.stringify(event(id))),
          }),
        );
        t.equal(out.ResponseStreamContentType, 'application/vnd.awslambda.http-integration-response');
        t.equal(out.ExecutedVersion, '$LATEST');
        const split = new PreludeSplitter();
        let complete: Record<string, unknown> | undefined;
        for await (const e of out.EventStream ?? []) {
          if (e.PayloadChunk?.Payload) split.push(e.PayloadChunk.Payload);
          if (e.InvokeComplete) complete = { ...e.InvokeComplete };
        }
        t.same(complete, {}, 'InvokeComplete, no error');
        if (split.prelude === undefined) throw new Error('no prelude');
        t.equal(split.prelude.statusCode, 200);
        return { facts: renderFacts(split.prelude), body: split.bodyBuffer() };
      };

      const first = await invoke('it-1');
      t.match(first.facts, { contentType: 'image/webp', width: 342, height: 513, coldStart: true });
      t.equal(first.body.length, first.facts.bytes, 'the bytes the prelude announced');
      t.match(await sharp(first.body).metadata(), { format: 'webp', width: 342, height: 513 });

      // A direct invoker's plain Invoke gets the same stream, buffered: prelude and bytes.
      const plain = await client.send(
        new InvokeCommand({ FunctionName: 'marquee-generator', Payload: Buffer.from(JSON.stringify(event('it-3'))) }),
      );
      t.equal(plain.FunctionError, undefined);
      const buffered = new PreludeSplitter();
      buffered.push(plain.Payload ?? new Uint8Array());
      t.equal(buffered.prelude?.statusCode, 200);
      t.match(await sharp(buffered.bodyBuffer()).metadata(), { format: 'webp', width: 342, height: 513 });

      const second = await invoke('it-2');
      t.match(second.facts, { coldStart: false });
      t.match(lambda.stats(), { invocations: 3, coldStarts: 1 });
      t.match(logs, /it-1/, "the Generator's logs pass through the endpoint's stdout");
    },
  );
