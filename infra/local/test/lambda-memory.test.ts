// The local Lambda enforces a function's memory as Lambda does: on the whole environment's
// resident set (native memory included), by killing it, with Lambda's out-of-memory answer.
import t from 'tap';
import { PreludeSplitter, renderFacts } from '@marquee/shared';
import { existsSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import sharp from 'sharp';
import { startLocalLambda, type LocalFunctionOptions } from '../lambda/index.js';
import { localS3Client, startLocalS3 } from '../s3/index.js';
import { seedSamples } from '../seed/index.js';
import { FIXTURE, harness, json } from './helpers.js';

const linux = existsSync('/proc/self/status');

type Tap = { teardown(fn: () => unknown): void };

/** The REPORT line of a `LogType: Tail` reply. */
function report(out: InvokeCommandOutput): string {
  return (
    Buffer.from(out.LogResult ?? '', 'base64')
      .toString()
      .split('\n')
      .find((line) => line.startsWith('REPORT')) ?? ''
  );
}

function maxMemoryUsed(out: InvokeCommandOutput): number {
  return Number(/Max Memory Used: (\d+) MB/.exec(report(out))?.[1] ?? NaN);
}

/** A harness that also keeps the endpoint's own log lines. */
async function endpoint(tap: Tap, functions: Record<string, Partial<LocalFunctionOptions>>) {
  const lines: Record<string, unknown>[] = [];
  const logStream = new PassThrough().on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const lambda = await startLocalLambda({
    logger: pino({ level: 'info' }, logStream),
    stdout: new PassThrough().resume(),
    stderr: new PassThrough().resume(),
    functions: Object.fromEntries(
      Object.entries(functions).map(([name, fn]) => [
        name,
        { handler: FIXTURE, exportName: name, timeoutMs: 10_000, ...fn },
      ]),
    ),
  });
  tap.teardown(() => lambda.close());
  const client = new LambdaClient({
    endpoint: lambda.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  tap.teardown(() => client.destroy());
  const invoke = (name: string, event: unknown, extra: { InvocationType?: 'Event' } = {}) =>
    client.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), LogType: 'Tail', ...extra }),
    );
  return { lambda, invoke, lines };
}

t.test(
  'past its memory an environment is killed and answers Runtime.OutOfMemory; a fresh one serves next',
  { skip: linux ? false : 'needs /proc' },
  async (t) => {
    const { lambda, invoke, lines } = await endpoint(t, { hog: { memoryMb: 192 } });
    const before = json(await invoke('hog', { mb: 8 })) as { pid: number };

    const out = await invoke('hog', { mb: 2048 });
    t.equal(out.StatusCode, 200, 'Lambda answers 200 for a function error');
    t.equal(out.FunctionError, 'Unhandled');
    const requestId = out.$metadata.requestId ?? '';
    t.match(requestId, /^[0-9a-f-]{36}$/);
    t.same(json(out), {
      errorType: 'Runtime.OutOfMemory',
      errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
    });
    t.ok(maxMemoryUsed(out) > 192, `REPORT says the limit was passed: ${report(out)}`);

    const kill = lines.find((line) => line.msg === 'environment over its memory: killed');
    t.match(
      kill,
      { level: 40, fn: 'hog', requestId, errorType: 'Runtime.OutOfMemory', limitMb: 192 },
      'the kill is logged with the limit',
    );
    t.ok((kill?.rssMb as number) > 192, `and the resident set seen (${String(kill?.rssMb)} MB)`);

    const after = await invoke('hog', { mb: 8 });
    t.equal(after.FunctionError, undefined, 'the endpoint keeps serving');
    t.not((json(after) as { pid: number }).pid, before.pid, 'from a fresh environment');
    t.match(lambda.stats(), {
      invocations: 3,
      coldStarts: 2,
      errors: 1,
      crashes: 1,
      outOfMemory: 1,
      environments: 1,
      busy: 0,
    });
  },
);

t.test('within its memory an invocation is not killed, and REPORT carries Max Memory Used', async (t) => {
  const h = await harness(t, { hog: { memoryMb: 256 }, echo: { memoryMb: 128 } });
  // Node's own baseline (here, with the TypeScript loader) fits the smallest size Lambda allows.
  const echo = await h.invoke('echo', {}, { LogType: 'Tail' });
  t.equal(echo.FunctionError, undefined, 'the smallest memory Lambda allows runs a plain handler');
  const out = await h.invoke('hog', { mb: 64 }, { LogType: 'Tail' });
  t.equal(out.FunctionError, undefined);
  t.match(json(out), { heldMb: 64 });
  if (linux) {
    const used = Number(/Max Memory Used: (\d+) MB/.exec(Buffer.from(out.LogResult ?? '', 'base64').toString())?.[1]);
    t.ok(used > 64 && used <= 256, `Max Memory Used ${used} MB: what it held plus the runtime, under the limit`);
  }
  t.match(h.lambda.stats(), { outOfMemory: 0, crashes: 0, coldStarts: 2 });
});

t.test(
  'one environment killed for memory leaves a concurrent one alone',
  { skip: linux ? false : 'needs /proc' },
  async (t) => {
    const h = await harness(t, { hog: { memoryMb: 192 } });
    const [hog, calm] = await Promise.all([h.invoke('hog', { mb: 2048 }), h.invoke('hog', { mb: 8 })]);
    t.match(json(hog), { errorType: 'Runtime.OutOfMemory' });
    t.equal(calm.FunctionError, undefined);
    t.match(h.lambda.stats(), { coldStarts: 2, outOfMemory: 1 });
  },
);

t.test('an Event invocation past its memory is killed too', { skip: linux ? false : 'needs /proc' }, async (t) => {
  const h = await harness(t, { hog: { memoryMb: 192 } });
  const out = await h.invoke('hog', { mb: 2048 }, { InvocationType: 'Event' });
  t.equal(out.StatusCode, 202);
  while (h.lambda.stats().outOfMemory < 1) await new Promise((resolve) => setTimeout(resolve, 20));
  t.match(h.lambda.stats(), { invocations: 1, errors: 1, outOfMemory: 1 });
});

/** The Generator is built by another package; without its dist there is nothing to run. */
function generatorHandler(): string | undefined {
  try {
    const path = fileURLToPath(import.meta.resolve('@marquee/generator/handler'));
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const generator = generatorHandler();

t.test(
  "the real Generator renders within the stack's 1536 MB, a large source included",
  { skip: generator ? false : 'generator not built' },
  async (t) => {
    const bucket = 'marquee-sources';
    const s3 = await startLocalS3({ directory: t.testdir(), buckets: [bucket] });
    t.teardown(() => s3.close());
    const s3Client = localS3Client(s3.endpoint);
    t.teardown(() => s3Client.destroy());
    const { catalog } = await seedSamples({ client: s3Client, sourcesBucket: bucket, titles: 1 });
    const artwork = catalog.titles['80000001']?.artwork;
    // A camera-sized original (24 MP): far beyond the seeded ones, well inside the Generator's pixel cap.
    const large = await sharp({
      create: {
        width: 6000,
        height: 4000,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .jpeg({ quality: 90 })
      .toBuffer();
    await s3Client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'titles/large/billboard/en.jpg',
        Body: large,
        ContentType: 'image/jpeg',
      }),
    );

    const { lambda, invoke, lines } = await endpoint(t, {
      'marquee-generator': {
        handler: generator,
        exportName: 'handler',
        memoryMb: 1536,
        timeoutMs: 30_000,
        env: {
          MARQUEE_S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: 'S3RVER',
          AWS_SECRET_ACCESS_KEY: 'S3RVER',
          AWS_REGION: 'us-east-1',
        },
      },
    });
    const renders = [
      {
        key: artwork?.boxshot?.en?.source ?? '',
        spec: { width: 342, height: 513, fit: 'cover', format: 'webp', quality: 80 },
      },
      {
        key: artwork?.billboard?.en?.source ?? '',
        spec: { width: 1280, height: 720, fit: 'cover', format: 'webp', quality: 80 },
      },
      {
        key: 'titles/large/billboard/en.jpg',
        spec: { width: 1920, height: 1080, fit: 'cover', format: 'jpeg', quality: 85 },
      },
      {
        key: 'titles/large/billboard/en.jpg',
        spec: { width: 3840, height: 2160, fit: 'cover', format: 'webp', quality: 80 },
      },
    ];
    for (const [i, { key, spec }] of renders.entries()) {
      const out = await invoke('marquee-generator', { v: 1, id: `mem-${i}`, source: { s3: { bucket, key } }, spec });
      t.equal(out.FunctionError, undefined, `${key} at ${spec.width}x${spec.height} ${spec.format}: ${report(out)}`);
      // A plain Invoke of the streaming Generator: its stream, buffered (prelude, then the image).
      const split = new PreludeSplitter();
      split.push(out.Payload ?? new Uint8Array());
      t.equal(split.prelude?.statusCode, 200);
      if (split.prelude) t.match(renderFacts(split.prelude), { width: spec.width, height: spec.height });
      if (linux) t.ok(maxMemoryUsed(out) < 1536, `Max Memory Used ${maxMemoryUsed(out)} MB`);
    }
    t.match(lambda.stats(), { coldStarts: 1, outOfMemory: 0, errors: 0 });
    t.notOk(lines.some((line) => line.msg === 'environment over its memory: killed'));
  },
);
