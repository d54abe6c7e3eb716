import t from 'tap';
import sharp from 'sharp';
import { parseGeneratorResult } from '@marquee/shared';
import { createHandler } from '../src/handler.js';
import { captureLogger, makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photoJpeg } from './helpers/images.js';
import { startS3 } from './helpers/s3.js';

const s3 = await startS3(t, ['sources']);
await s3.put('sources', 'master.jpg', await photoJpeg(800, 600));

t.test('success: a contract-valid result, coldStart only the first time, one info line', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  const event = makeRequest(s3Source('sources', 'master.jpg'), { width: 200, height: 100, format: 'jpeg' });
  const first = parseGeneratorResult(await handler(event, { awsRequestId: 'aws-1' }));
  const second = parseGeneratorResult(await handler(event));
  if (!first.ok || !second.ok) throw new Error('expected success');
  t.equal(first.coldStart, true);
  t.equal(second.coldStart, false);
  t.match(first, { contentType: 'image/jpeg', width: 200, height: 100 });
  t.match(await sharp(Buffer.from(first.body ?? '', 'base64')).metadata(), { format: 'jpeg', width: 200, height: 100 });
  t.equal(lines.length, 2, 'one line per invocation');
  t.match(lines[0], {
    level: 30,
    reqId: event.id,
    awsRequestId: 'aws-1',
    code: 'OK',
    coldStart: true,
    timings: { fetchMs: Number, renderMs: Number },
  });
});

t.test('a bad event is INVALID_SPEC, logged at info', async (t) => {
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
    const result = await handler(event);
    t.match(result, { ok: false, error: { code: 'INVALID_SPEC', status: 400 } }, JSON.stringify(event)?.slice(0, 60));
  }
  t.ok(
    lines.every((l) => l.level === 30 && l.code === 'INVALID_SPEC'),
    '4xx at info',
  );
});

t.test('coded errors become failures; 5xx logged at error', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  const missing = await handler(makeRequest(s3Source('sources', 'nope.jpg')));
  t.match(missing, { ok: false, error: { code: 'SOURCE_NOT_FOUND', status: 404 } });
  t.match(lines.at(-1), { level: 30, code: 'SOURCE_NOT_FOUND' });
  const tooBig = await handler(makeRequest(s3Source('sources', 'master.jpg'), { format: 'png' }));
  t.match(tooBig, { ok: true }, 'sanity: renders');
  const noInline = createHandler(testDeps(s3, { maxInlineBytes: 100 }, { logger }));
  t.match(await noInline(makeRequest(s3Source('sources', 'master.jpg'))), {
    ok: false,
    error: { code: 'OUTPUT_TOO_LARGE', status: 502 },
  });
  t.match(lines.at(-1), { level: 50, code: 'OUTPUT_TOO_LARGE' });
});

t.test('an unexpected error is INTERNAL, without its details, logged at error', async (t) => {
  const { logger, lines } = captureLogger();
  const broken = createHandler(
    testDeps(s3, {}, { logger, s3Client: () => Promise.reject(new Error('secret detail: /var/task/x')) }),
  );
  const result = await broken(makeRequest(s3Source('sources', 'master.jpg')));
  t.same(result, { ok: false, error: { code: 'INTERNAL', status: 500, message: 'internal error' } });
  t.match(lines.at(-1), { level: 50, code: 'INTERNAL', err: { message: 'secret detail: /var/task/x' } });
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
  const result = await createHandler(deps)(makeRequest({ url: 'http://127.0.0.2:9/master.jpg' }));
  t.match(result, { ok: false, error: { code: 'SOURCE_FETCH_FAILED', status: 502 } });
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
  await broken(makeRequest(s3Source('sources', 'master.jpg')));
  t.same(emfProblems(lines.at(-1) ?? {}), [], 'valid EMF');
  t.match(lines.at(-1), { code: 'INTERNAL', status: 500, FunctionName: functionName, GeneratorFailures: 1 });
});

t.test('a 4xx failure is a ClientErrors metric; a success line carries no metric', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, { functionName: 'fn' }, { logger }));
  await handler(makeRequest(s3Source('sources', 'nope.jpg')));
  const notFound = lines.at(-1) ?? {};
  t.same(emfProblems(notFound), [], 'valid EMF');
  t.same(declared(notFound), ['Marquee/ClientErrors']);
  t.match(notFound, { level: 30, code: 'SOURCE_NOT_FOUND', FunctionName: 'fn', ClientErrors: 1 });
  t.notOk('GeneratorFailures' in notFound, 'not a Generator failure: the alarm does not count it');

  t.match(await handler(makeRequest(s3Source('sources', 'master.jpg'))), { ok: true });
  const ok = lines.at(-1) ?? {};
  t.equal(ok.code, 'OK');
  for (const key of ['_aws', 'FunctionName', 'GeneratorFailures', 'ClientErrors'])
    t.notOk(key in ok, `success line has no ${key}`);
});

t.test('off Lambda (no function name) a failure line carries no EMF', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, {}, { logger }));
  await handler(makeRequest(s3Source('sources', 'nope.jpg')));
  t.match(lines.at(-1), { code: 'SOURCE_NOT_FOUND' });
  t.notOk('_aws' in (lines.at(-1) ?? {}));
});
