import t from 'tap';
import sharp from 'sharp';
import {
  DERIVATIVES_PREFIX,
  GENERATOR_METRICS,
  RENDER_HEADERS,
  derivativeKey,
  specKey,
  type S3Ref,
} from '@marquee/shared';
import { DERIVATIVE_CACHE_CONTROL } from '../src/index.js';
import { createHandler } from '../src/handler.js';
import { captureLogger, makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photo, photoJpeg } from './helpers/images.js';
import { startS3, watchedPuts } from './helpers/s3.js';
import { CollectedStream, factsOf, invoke } from './helpers/stream.js';

const s3 = await startS3(t, ['sources', 'derivatives', 'elsewhere']);
await s3.put('sources', 'master.jpg', await photoJpeg(800, 600));

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.get(bucket, key);
    return true;
  } catch {
    return false;
  }
}

let n = 0;
/** A fresh object name inside the derivatives prefix. */
const outputAt = (ext = 'webp'): S3Ref => ({
  bucket: 'derivatives',
  key: `${DERIVATIVES_PREFIX}store-test/${++n}.${ext}`,
});

t.test('with output: the bytes are streamed, then the same bytes are PUT as a derivative', async (t) => {
  const { logger, lines } = captureLogger();
  const stream = new CollectedStream();
  const atPut: Array<{ finished: boolean; streamed: number }> = [];
  const s3Client = async () =>
    watchedPuts(s3.client, () => void atPut.push({ finished: stream.writableFinished, streamed: stream.bytes.length }));
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }, { logger, s3Client }));
  const output = outputAt();
  const request = makeRequest(
    s3Source('sources', 'master.jpg'),
    { width: 320, height: 180 },
    { output: { s3: output } },
  );
  const reply = await invoke(handler, request, undefined, stream);

  t.match(factsOf(reply), { contentType: 'image/webp', width: 320, height: 180, bytes: reply.body.length });
  t.notOk(RENDER_HEADERS.stored in reply.prelude.headers, 'a streamed render does not say stored');
  t.match(await sharp(reply.body).metadata(), { format: 'webp', width: 320, height: 180 });
  t.equal(atPut.length, 1, 'one PUT');
  t.same(
    atPut[0],
    { finished: true, streamed: stream.bytes.length },
    'the stream had ended, every byte out, before the PUT began',
  );

  const stored = await s3.get(output.bucket, output.key);
  t.ok(stored.body.equals(reply.body), 'the object is the bytes streamed');
  t.equal(stored.contentType, 'image/webp');
  t.equal(stored.cacheControl, DERIVATIVE_CACHE_CONTROL);

  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], {
    level: 30,
    msg: 'generated',
    code: 'OK',
    reqId: request.id,
    key: output.key,
    stored: true,
    bytes: reply.body.length,
    putMs: Number,
  });
});

t.test('a failed PUT never fails the reply: one warning per outage, then "works again"', async (t) => {
  const { logger, lines } = captureLogger();
  let down = true;
  const s3Client = async () =>
    watchedPuts(s3.client, () => (down ? Promise.reject(new Error('SlowDown: the store is down')) : undefined));
  const functionName = 'marquee-generator-test';
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives', functionName }, { logger, s3Client }));
  const spec = { width: 160, height: 90, format: 'jpeg' } as const;

  const failedKeys: string[] = [];
  for (let i = 0; i < 3; i++) {
    const output = outputAt('jpg');
    failedKeys.push(output.key);
    const reply = await invoke(
      handler,
      makeRequest(s3Source('sources', 'master.jpg'), spec, { output: { s3: output } }),
    );
    t.equal(reply.prelude.statusCode, 200, `render ${i + 1} is served`);
    t.match(await sharp(reply.body).metadata(), { format: 'jpeg', width: 160, height: 90 });
    t.notOk(await exists(output.bucket, output.key), 'nothing stored');
  }
  const warnings = lines.filter((l) => l.level === 40);
  t.equal(warnings.length, 1, 'one warning for three failures in a row');
  t.match(warnings[0], {
    msg: /derivative store write failed/,
    key: failedKeys[0],
    err: { message: 'SlowDown: the store is down' },
  });
  const generated = lines.filter((l) => l.msg === 'generated');
  t.equal(generated.length, 3, 'and one line per invocation');
  for (const [i, line] of generated.entries()) {
    t.match(line, { level: 30, code: 'OK', status: 200, key: failedKeys[i], stored: false }, `line ${i + 1}`);
    t.match(line, { FunctionName: functionName, [GENERATOR_METRICS.storeFailures]: 1 }, 'counted as a store failure');
    t.notOk(GENERATOR_METRICS.failures in line, 'not a Generator failure: the reply was served');
  }

  down = false;
  const output = outputAt('jpg');
  const reply = await invoke(handler, makeRequest(s3Source('sources', 'master.jpg'), spec, { output: { s3: output } }));
  t.equal(reply.prelude.statusCode, 200);
  t.ok((await s3.get(output.bucket, output.key)).body.equals(reply.body), 'stored again');
  const after = lines.slice(4);
  t.match(after, [
    { level: 30, msg: /derivative store write works again/, failures: 3 },
    { msg: 'generated', stored: true },
  ]);
  t.equal(after.length, 2);
  t.notOk(GENERATOR_METRICS.storeFailures in (after[1] ?? {}), 'a stored render carries no metric');
  t.equal(lines.filter((l) => l.level === 40).length, 1, 'still one warning');
});

t.test('output outside the derivatives prefix or bucket is refused before any work, nothing written', async (t) => {
  const { logger, lines } = captureLogger();
  let sends = 0;
  const send = (command: never, options?: never) => (sends++, s3.client.send(command, options));
  const s3Client = async () => ({ send }) as unknown as typeof s3.client;
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }, { logger, s3Client }));
  const cases: Array<[string, S3Ref]> = [
    ['another bucket', { bucket: 'elsewhere', key: `${DERIVATIVES_PREFIX}x.webp` }],
    ['outside the prefix', { bucket: 'derivatives', key: 'catalog.json' }],
    ['a climb out of the prefix', { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}../catalog.webp` }],
    ['a source key', { bucket: 'derivatives', key: 'titles/1/boxshot/en.webp' }],
  ];
  for (const [what, target] of cases) {
    const reply = await invoke(handler, makeRequest(s3Source('sources', 'master.jpg'), {}, { output: { s3: target } }));
    t.equal(reply.prelude.statusCode, 400, what);
    t.match(
      reply.failure,
      { code: 'INVALID_SPEC', status: 400, message: /output must be under s3:\/\/derivatives\/derivatives\// },
      what,
    );
    t.notOk(await exists(target.bucket, target.key), `${what}: nothing written`);
  }
  // store: true needs somewhere to store.
  const noBucket = createHandler(testDeps(s3, {}, { logger, s3Client }));
  const request = makeRequest(s3Source('sources', 'master.jpg'));
  t.match(
    (await invoke(noBucket, { ...request, store: true })).failure,
    { code: 'INVALID_SPEC' },
    'store: true, no bucket',
  );
  t.match(
    (await invoke(noBucket, { ...request, output: { s3: outputAt() } })).failure,
    { code: 'INVALID_SPEC' },
    'output, no bucket',
  );
  t.equal(sends, 0, 'no S3 request at all: the source was never fetched');
  t.equal(lines.length, cases.length + 2, 'one line each');
  t.ok(
    lines.every((l) => l.level === 30 && l.code === 'INVALID_SPEC'),
    'at info',
  );
});

t.test('store: true writes first and streams no body', async (t) => {
  const { logger, lines } = captureLogger();
  const stream = new CollectedStream();
  const atPut: number[] = [];
  const s3Client = async () => watchedPuts(s3.client, () => void atPut.push(stream.chunks.length));
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }, { logger, s3Client }));
  const request = makeRequest(
    s3Source('sources', 'master.jpg'),
    { width: 64, height: 48, format: 'jpeg' },
    { version: 'v1', store: true },
  );
  // Without output it is named as the Preprocessor names it: spec key with the artwork version.
  const key = derivativeKey(specKey(request.source, request.spec, 'v1'), 'jpeg');
  const reply = await invoke(handler, request, undefined, stream);
  t.same(atPut, [0], 'stored before anything was written to the stream');
  t.equal(reply.prelude.statusCode, 200);
  t.match(reply.prelude.headers, { 'content-type': 'image/jpeg', 'content-length': '0', [RENDER_HEADERS.stored]: key });
  t.match(factsOf(reply), { bytes: 0, width: 64, height: 48, stored: key });
  t.equal(reply.body.length, 0, 'no body');
  const stored = await s3.get('derivatives', key);
  t.match(await sharp(stored.body).metadata(), { format: 'jpeg', width: 64, height: 48 });
  t.equal(stored.contentType, 'image/jpeg');
  t.equal(stored.cacheControl, DERIVATIVE_CACHE_CONTROL);
  t.equal(lines.length, 1);
  t.match(lines[0], { msg: 'generated', code: 'OK', key, stored: true, bytes: stored.body.length });

  // With output, that is where it goes, and the prelude says so.
  const output = outputAt('jpg');
  const named = await invoke(handler, { ...request, id: 'named', output: { s3: output } });
  t.equal(named.prelude.headers[RENDER_HEADERS.stored], output.key);
  t.equal(named.body.length, 0);
  t.ok(await exists(output.bucket, output.key), 'stored at output');

  // Without store or output the same render is streamed, and nothing is written.
  const { store: _store, ...plain } = request;
  const streamed = await invoke(handler, { ...plain, id: 'streamed', version: 'v2' });
  t.ok(streamed.body.length > 0, 'streamed without the flag');
  t.notOk(await exists('derivatives', derivativeKey(specKey(request.source, request.spec, 'v2'), 'jpeg')));
  t.equal(atPut.length, 2, 'no third PUT');
});

t.test('a store: true render whose PUT fails is a failure reply (nothing else would keep it)', async (t) => {
  const { logger, lines } = captureLogger();
  const s3Client = async () => watchedPuts(s3.client, () => Promise.reject(new Error('AccessDenied')));
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }, { logger, s3Client }));
  const reply = await invoke(handler, makeRequest(s3Source('sources', 'master.jpg'), {}, { store: true }));
  t.equal(reply.prelude.statusCode, 502);
  t.match(reply.failure, { code: 'GENERATOR_FAILED', message: /could not store the output at s3:\/\/derivatives\// });
  t.equal(lines.length, 1);
  t.match(lines[0], { level: 50, code: 'GENERATOR_FAILED', err: { message: 'AccessDenied' } });
});

t.test('an output past maxOutputBytes is an OUTPUT_TOO_LARGE failure reply, nothing written', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives', maxOutputBytes: 1000 }, { logger }));
  const output = outputAt('png');
  const reply = await invoke(
    handler,
    makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' }, { output: { s3: output } }),
  );
  t.equal(reply.prelude.statusCode, 502);
  t.equal(reply.prelude.headers['content-type'], 'application/json');
  t.match(reply.failure, { code: 'OUTPUT_TOO_LARGE', status: 502, message: /1000-byte limit/ });
  t.notOk(await exists(output.bucket, output.key), 'nothing written');
  t.match(lines, [{ level: 50, code: 'OUTPUT_TOO_LARGE', status: 502 }]);
});

t.test('an output over 6 MB is streamed whole, and stored whole: no 6 MB limit remains', async (t) => {
  // A noisy 2400x1600 PNG, barely compressed: about 8 MB, past Lambda's 6 MB buffered response.
  const big = await photo(2400, 1600, 7).png({ compressionLevel: 1 }).toBuffer();
  await s3.put('sources', 'big.png', big);
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }));
  const output = outputAt('png');
  const reply = await invoke(
    handler,
    makeRequest(
      s3Source('sources', 'big.png'),
      { width: 2400, height: 1600, format: 'png', effort: 0 },
      { output: { s3: output } },
    ),
  );
  const facts = factsOf(reply);
  t.ok(reply.body.length > 6 * 1024 * 1024, `output is ${reply.body.length} bytes`);
  t.equal(facts.bytes, reply.body.length, 'every byte the prelude announced');
  t.match(await sharp(reply.body).metadata(), { format: 'png', width: 2400, height: 1600 });
  t.ok((await s3.get(output.bucket, output.key)).body.equals(reply.body), 'the same bytes stored');
});
