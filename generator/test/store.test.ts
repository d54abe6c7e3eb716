import t from 'tap';
import sharp from 'sharp';
import { DERIVATIVES_PREFIX, derivativeKey, specKey, type StoreRequest } from '@marquee/shared';
import { DERIVATIVE_CACHE_CONTROL } from '../src/index.js';
import { createHandler } from '../src/handler.js';
import { captureLogger, makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { photoJpeg } from './helpers/images.js';
import { startS3 } from './helpers/s3.js';

const s3 = await startS3(t, ['sources', 'derivatives', 'elsewhere']);
await s3.put('sources', 'master.jpg', await photoJpeg(800, 600));
const webp = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#369' } })
  .webp()
  .toBuffer();

function storeEvent(overrides: Partial<StoreRequest> = {}): StoreRequest {
  return {
    v: 1,
    kind: 'store',
    id: 'req-1',
    target: { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}${'a'.repeat(32)}.webp` },
    contentType: 'image/webp',
    width: 40,
    height: 30,
    body: webp.toString('base64'),
    ...overrides,
  };
}

async function exists(bucket: string, key: string): Promise<boolean> {
  try {
    await s3.get(bucket, key);
    return true;
  } catch {
    return false;
  }
}

t.test('a store event PUTs the bytes, as a derivative, and logs one line', async (t) => {
  const { logger, lines } = captureLogger();
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }, { logger }));
  const event = storeEvent();
  const result = await handler(event, { awsRequestId: 'aws-store' });
  t.match(result, { ok: true, contentType: 'image/webp', bytes: webp.length, s3: event.target });
  const stored = await s3.get('derivatives', event.target.key);
  t.same(stored.body, webp, 'the exact bytes');
  t.equal(stored.contentType, 'image/webp');
  t.equal(stored.cacheControl, DERIVATIVE_CACHE_CONTROL);
  t.equal(lines.length, 1);
  t.match(lines[0], { msg: 'stored', code: 'OK', reqId: 'req-1', key: event.target.key, bytes: webp.length });
});

t.test('a store event outside the derivatives prefix or bucket is refused, nothing written', async (t) => {
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }));
  const cases: Array<[string, StoreRequest['target']]> = [
    ['another bucket', { bucket: 'elsewhere', key: `${DERIVATIVES_PREFIX}x.webp` }],
    ['outside the prefix', { bucket: 'derivatives', key: 'catalog.json' }],
    ['a climb out of the prefix', { bucket: 'derivatives', key: `${DERIVATIVES_PREFIX}../catalog.webp` }],
    ['a source key', { bucket: 'derivatives', key: 'titles/1/boxshot/en.webp' }],
  ];
  for (const [what, target] of cases) {
    const result = await handler(storeEvent({ target }));
    t.match(result, { ok: false, error: { code: 'INVALID_SPEC', status: 400 } }, what);
    t.notOk(await exists(target.bucket, target.key), `${what}: nothing written`);
  }
});

t.test('a store event whose bytes or key do not match its content type is refused', async (t) => {
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }));
  const key = `${DERIVATIVES_PREFIX}${'b'.repeat(32)}.webp`;
  const cases: Array<[string, Partial<StoreRequest>]> = [
    ['jpeg bytes labelled webp', { body: (await photoJpeg(20, 20)).toString('base64') }],
    ['not an image', { body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64') }],
    ['a webp under a .jpg key', { target: { bucket: 'derivatives', key: key.replace('.webp', '.jpg') } }],
    ['an unknown field', { ...({ extra: 1 } as object) }],
    ['not a content type we write', { contentType: 'image/svg+xml' as 'image/webp' }],
  ];
  for (const [what, overrides] of cases) {
    const result = await handler(storeEvent({ target: { bucket: 'derivatives', key }, ...overrides }));
    t.match(result, { ok: false, error: { code: 'INVALID_SPEC' } }, what);
  }
  t.notOk(await exists('derivatives', key), 'nothing written');
  t.notOk(await exists('derivatives', key.replace('.webp', '.jpg')), 'nothing written');
});

t.test('a render with store: true writes the output and returns no body, however small', async (t) => {
  const handler = createHandler(testDeps(s3, { derivativesBucket: 'derivatives' }));
  const request = makeRequest(s3Source('sources', 'master.jpg'), { width: 64, height: 48, format: 'jpeg' });
  const key = derivativeKey(specKey(request.source, request.spec, 'v1'), 'jpeg');
  const result = await handler({
    ...request,
    version: 'v1',
    output: { s3: { bucket: 'derivatives', key } },
    store: true,
  });
  if (!result.ok) throw new Error(result.error.message);
  t.equal(result.body, undefined, 'no inline body');
  t.same(result.s3, { bucket: 'derivatives', key });
  const stored = await s3.get('derivatives', key);
  t.equal(stored.body.length, result.bytes);
  t.match(await sharp(stored.body).metadata(), { format: 'jpeg', width: 64, height: 48 });

  // Without store: true the same small render is returned inline, and nothing is written.
  const inline = await handler({ ...request, id: 'inline' });
  t.ok(inline.ok && inline.body !== undefined, 'inline without the flag');

  const noBucket = createHandler(testDeps(s3, {}));
  t.match(await noBucket({ ...request, store: true }), { ok: false, error: { code: 'INVALID_SPEC' } });
});
