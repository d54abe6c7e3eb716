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
  t.match(lines[0], { level: 30, reqId: event.id, awsRequestId: 'aws-1', code: 'OK', coldStart: true, timings: { fetchMs: Number, renderMs: Number } });
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
  t.ok(lines.every((l) => l.level === 30 && l.code === 'INVALID_SPEC'), '4xx at info');
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
  t.match(await noInline(makeRequest(s3Source('sources', 'master.jpg'))), { ok: false, error: { code: 'OUTPUT_TOO_LARGE', status: 502 } });
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
