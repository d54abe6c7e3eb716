import t from 'tap';
import sharp from 'sharp';
import { PRELUDE_CONTENT_TYPE, RENDER_HEADERS } from '@marquee/shared';
import { createHandler } from '../src/handler.js';
import { captureLogger, makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photoJpeg } from './helpers/images.js';
import { startS3 } from './helpers/s3.js';
import { CollectedStream, factsOf, invoke, readReply } from './helpers/stream.js';

const s3 = await startS3(t, ['sources']);
await s3.put('sources', 'master.jpg', await photoJpeg(800, 600));

t.test('success: a prelude then the image, coldStart only the first time, one info line each', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  const event = makeRequest(s3Source('sources', 'master.jpg'), { width: 200, height: 100, format: 'jpeg' });
  const first = await invoke(handler, event, { awsRequestId: 'aws-1' });
  const second = await invoke(handler, event);
  t.equal(first.contentType, PRELUDE_CONTENT_TYPE, "the stream is Lambda's HTTP integration response");
  t.equal(first.prelude.statusCode, 200);
  t.match(first.prelude.headers, {
    'content-type': 'image/jpeg',
    'content-length': String(first.body.length),
    [RENDER_HEADERS.width]: '200',
    [RENDER_HEADERS.height]: '100',
    [RENDER_HEADERS.coldStart]: 'true',
    [RENDER_HEADERS.fetchMs]: /^\d+(\.\d+)?$/,
    [RENDER_HEADERS.renderMs]: /^\d+(\.\d+)?$/,
  });
  t.notOk(RENDER_HEADERS.stored in first.prelude.headers, 'nothing stored');
  t.match(factsOf(first), {
    contentType: 'image/jpeg',
    width: 200,
    height: 100,
    bytes: first.body.length,
    coldStart: true,
  });
  t.equal(factsOf(second).coldStart, false, 'the second invocation of the environment is warm');
  const another = await invoke(createHandler(testDeps(s3, {}, { logger })), event);
  t.equal(factsOf(another).coldStart, false, 'per environment (process), not per handler made');
  t.match(await sharp(first.body).metadata(), { format: 'jpeg', width: 200, height: 100 });
  t.ok(first.body.equals(second.body), 'the same raw bytes again (no base64, no JSON around them)');
  t.equal(lines.length, 3, 'one line per invocation');
  t.match(lines[0], {
    level: 30,
    msg: 'generated',
    reqId: event.id,
    awsRequestId: 'aws-1',
    code: 'OK',
    status: 200,
    coldStart: true,
    bytes: first.body.length,
    width: 200,
    height: 100,
    ms: Number,
    timings: { fetchMs: Number, renderMs: Number },
  });
  t.match(lines[1], { code: 'OK', coldStart: false, awsRequestId: undefined });
  t.notOk('key' in (lines[0] ?? {}) || 'stored' in (lines[0] ?? {}), 'no store fields without output');
});

t.test('a bad event is an INVALID_SPEC failure reply, logged at info', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  const cases: unknown[] = [
    null,
    'text',
    { v: 2, id: 'x' },
    makeRequest(s3Source('sources', 'master.jpg'), { width: 0 }),
    { ...makeRequest(s3Source('sources', 'master.jpg')), extra: true },
    makeRequest({ url: 'file:///etc/passwd' }),
  ];
  for (const event of cases) {
    const what = JSON.stringify(event)?.slice(0, 60) ?? String(event);
    const reply = await invoke(handler, event);
    t.equal(reply.contentType, PRELUDE_CONTENT_TYPE, what);
    t.equal(reply.prelude.statusCode, 400, what);
    t.equal(reply.prelude.headers['content-type'], 'application/json', what);
    t.match(JSON.parse(reply.body.toString('utf8')), { code: 'INVALID_SPEC', status: 400, message: String }, what);
    t.match(reply.failure, { code: 'INVALID_SPEC', status: 400 }, what);
  }
  t.equal(lines.length, cases.length, 'one line per invocation');
  t.ok(
    lines.every((l) => l.level === 30 && l.code === 'INVALID_SPEC'),
    '4xx at info',
  );
});

t.test('coded errors become failure replies; 5xx logged at error', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  const missing = await invoke(handler, makeRequest(s3Source('sources', 'nope.jpg')));
  t.equal(missing.prelude.statusCode, 404);
  t.match(missing.failure, { code: 'SOURCE_NOT_FOUND', status: 404 });
  t.match(lines.at(-1), { level: 30, code: 'SOURCE_NOT_FOUND', status: 404 });
  const png = await invoke(handler, makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' }));
  t.ok(png.body.length > 100, `sanity: renders ${png.body.length} bytes`);
  const capped = createHandler(testDeps(s3, { maxOutputBytes: 100 }, { logger }));
  const tooLarge = await invoke(capped, makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' }));
  t.equal(tooLarge.prelude.statusCode, 502);
  t.match(tooLarge.failure, { code: 'OUTPUT_TOO_LARGE', status: 502 });
  t.match(lines.at(-1), { level: 50, code: 'OUTPUT_TOO_LARGE', status: 502 });
  t.equal(lines.length, 3, 'one line per invocation');
});

t.test('an unexpected error is INTERNAL, without its details, logged at error', async (t) => {
  const { logger, lines } = captureLogger();
  const broken = createHandler(
    testDeps(s3, {}, { logger, s3Client: () => Promise.reject(new Error('secret detail: /var/task/x')) }),
  );
  const reply = await invoke(broken, makeRequest(s3Source('sources', 'master.jpg')));
  t.equal(reply.prelude.statusCode, 500);
  t.same(JSON.parse(reply.body.toString('utf8')), { code: 'INTERNAL', status: 500, message: 'internal error' });
  t.notMatch(reply.body.toString('utf8'), /secret|var\/task/, 'nothing of the cause in the reply');
  t.match(lines.at(-1), { level: 50, code: 'INTERNAL', err: { message: 'secret detail: /var/task/x' } });
});

t.test('off Lambda, with the bare `awslambda` global the AWS SDK leaves, the reply is still written', async (t) => {
  const g = globalThis as { awslambda?: unknown };
  const saved = g.awslambda;
  t.teardown(() => {
    if (saved === undefined) delete g.awslambda;
    else g.awslambda = saved;
  });
  const handler = createHandler(testDeps(s3));
  const cases: Array<[string, unknown, number]> = [
    ['a render', makeRequest(s3Source('sources', 'master.jpg'), { width: 40, height: 30 }), 200],
    ['a bad event', null, 400],
  ];
  for (const [what, event, status] of cases) {
    // What importing @aws-sdk/client-s3 does (@aws/lambda-invoke-store): `awslambda ||= {}`.
    g.awslambda = {};
    const stream = new CollectedStream();
    const settled = await handler(event, stream).then(
      () => 'resolved',
      (err: unknown) => `rejected: ${String(err)}`,
    );
    t.equal(settled, 'resolved', `${what}: the handler never throws`);
    t.ok(stream.writableFinished, `${what}: the stream ended`);
    if (stream.writableFinished) t.equal(readReply(stream).prelude.statusCode, status, `${what}: ${status}`);
  }
});

type Line = Record<string, unknown>;

/**
 * What CloudWatch would reject in an Embedded Metric Format line, per the spec: `_aws` with
 * an epoch-ms Timestamp and metric directives; every dimension named is a top-level string
 * member, every metric named a top-level number. Empty = valid EMF.
 */
function emfProblems(line: Line): string[] {
  const problems: string[] = [];
  const aws = line._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws !== 'object' || aws === null) return ['no _aws object'];
  const ts = aws.Timestamp;
  if (typeof ts !== 'number' || !Number.isInteger(ts) || Math.abs(ts - Date.now()) > 60_000)
    problems.push('Timestamp is not epoch ms of now');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...problems, 'no CloudWatchMetrics directives'];
  for (const d of directives as Array<{ Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown }>) {
    if (typeof d.Namespace !== 'string' || d.Namespace === '') problems.push('Namespace is not a string');
    if (!Array.isArray(d.Dimensions)) problems.push('Dimensions is not an array');
    for (const set of (d.Dimensions ?? []) as unknown[]) {
      if (!Array.isArray(set) || set.length === 0 || set.length > 30)
        problems.push(`bad dimension set ${JSON.stringify(set)}`);
      for (const name of (Array.isArray(set) ? set : []) as unknown[]) {
        if (typeof name !== 'string' || typeof line[name] !== 'string')
          problems.push(`dimension ${String(name)} is not a top-level string`);
      }
    }
    if (!Array.isArray(d.Metrics) || d.Metrics.length === 0) problems.push('Metrics is empty');
    for (const m of (d.Metrics ?? []) as Array<{ Name?: unknown; Unit?: unknown }>) {
      if (typeof m.Name !== 'string' || typeof line[m.Name] !== 'number')
        problems.push(`metric ${String(m.Name)} is not a top-level number`);
      if (m.Unit !== 'Count') problems.push(`metric ${String(m.Name)} unit is not Count`);
    }
  }
  return problems;
}

/** The metric names the line declares, by namespace: `Marquee/GeneratorFailures`. */
function declared(line: Line): string[] {
  const directives = (
    line._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> }
  ).CloudWatchMetrics;
  return directives.flatMap((d) => d.Metrics.map((m) => `${d.Namespace}/${m.Name}`));
}

t.test('a coded 5xx failure is a GeneratorFailures metric in its one log line (EMF)', async (t) => {
  const { logger, lines } = captureLogger();
  const functionName = 'marquee-generator-test';
  // A source that cannot be fetched (nothing listens on 127.0.0.2:9): SOURCE_FETCH_FAILED, 502.
  const deps = testDeps(
    s3,
    { functionName, httpAllowedHosts: new Set(['127.0.0.2:9']) },
    {
      logger,
      addressPolicy: (address) => address === '127.0.0.2',
    },
  );
  const reply = await invoke(createHandler(deps), makeRequest({ url: 'http://127.0.0.2:9/master.jpg' }));
  t.match(reply.failure, { code: 'SOURCE_FETCH_FAILED', status: 502 });
  t.equal(lines.length, 1, 'still one line');
  const line = lines[0] ?? {};
  t.same(emfProblems(line), [], 'valid EMF');
  t.same(declared(line), ['Marquee/GeneratorFailures']);
  t.match(line, {
    level: 50,
    code: 'SOURCE_FETCH_FAILED',
    status: 502,
    FunctionName: functionName,
    GeneratorFailures: 1,
  });
  t.same((line._aws as { CloudWatchMetrics: Array<{ Dimensions: unknown }> }).CloudWatchMetrics[0]?.Dimensions, [
    ['FunctionName'],
    ['FunctionName', 'code'],
  ]);
  t.notOk('ClientErrors' in line, 'not also a client error');

  // INTERNAL (anything uncoded) counts the same.
  const broken = createHandler(
    testDeps(s3, { functionName }, { logger, s3Client: () => Promise.reject(new Error('boom')) }),
  );
  await invoke(broken, makeRequest(s3Source('sources', 'master.jpg')));
  t.same(emfProblems(lines.at(-1) ?? {}), [], 'valid EMF');
  t.match(lines.at(-1), { code: 'INTERNAL', status: 500, FunctionName: functionName, GeneratorFailures: 1 });
});

t.test('a 4xx failure is a ClientErrors metric; a success line carries no metric', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, { functionName: 'fn' }, { logger }));
  await invoke(handler, makeRequest(s3Source('sources', 'nope.jpg')));
  const notFound = lines.at(-1) ?? {};
  t.same(emfProblems(notFound), [], 'valid EMF');
  t.same(declared(notFound), ['Marquee/ClientErrors']);
  t.match(notFound, { level: 30, code: 'SOURCE_NOT_FOUND', FunctionName: 'fn', ClientErrors: 1 });
  t.notOk('GeneratorFailures' in notFound, 'not a Generator failure: the alarm does not count it');

  t.equal((await invoke(handler, makeRequest(s3Source('sources', 'master.jpg')))).prelude.statusCode, 200);
  const ok = lines.at(-1) ?? {};
  t.equal(ok.code, 'OK');
  for (const key of ['_aws', 'FunctionName', 'GeneratorFailures', 'ClientErrors'])
    t.notOk(key in ok, `success line has no ${key}`);
});

t.test('off Lambda (no function name) a failure line carries no EMF', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  await invoke(handler, makeRequest(s3Source('sources', 'nope.jpg')));
  t.match(lines.at(-1), { code: 'SOURCE_NOT_FOUND' });
  t.notOk('_aws' in (lines.at(-1) ?? {}));
});
