import t from 'tap';
import { ERRORS, MarqueeError, parseGeneratorRequest, parseImageSpec, problemType } from '@marquee/shared';

const good = {
  v: 1,
  id: 'req-1',
  source: { s3: { bucket: 'sources', key: 'a/b.jpg' } },
  spec: { width: 100, height: 50, fit: 'cover', format: 'jpeg', quality: 80 },
};

t.test('a valid request parses to itself', async (t) => {
  t.same(parseGeneratorRequest(good), good);
  t.same(
    parseGeneratorRequest({ ...good, version: '2024-06-01' }),
    { ...good, version: '2024-06-01' },
    'with the artwork version',
  );
  t.same(parseGeneratorRequest({ ...good, source: { url: 'https://img.example/a.png' } }).source, {
    url: 'https://img.example/a.png',
  });
});

// Each case is a way a caller could get the contract wrong; all must be INVALID_SPEC, never a crash.
const bad: Array<[string, unknown]> = [
  ['not an object', 'hello'],
  ['wrong version', { ...good, v: 2 }],
  ['zero width', { ...good, spec: { ...good.spec, width: 0 } }],
  ['fractional height', { ...good, spec: { ...good.spec, height: 10.5 } }],
  ['huge width', { ...good, spec: { ...good.spec, width: 100000 } }],
  ['unknown format', { ...good, spec: { ...good.spec, format: 'bmp' } }],
  ['unknown fit', { ...good, spec: { ...good.spec, fit: 'stretch' } }],
  ['quality 0', { ...good, spec: { ...good.spec, quality: 0 } }],
  ['focal outside 0..1', { ...good, spec: { ...good.spec, focal: { x: 1.5, y: 0 } } }],
  ['bad background', { ...good, spec: { ...good.spec, background: 'red' } }],
  ['extra field', { ...good, spec: { ...good.spec, rotate: 90 } }],
  ['file url', { ...good, source: { url: 'file:///etc/passwd' } }],
  ['both sources', { ...good, source: { url: 'https://a.example/x', s3: { bucket: 'abc', key: 'k' } } }],
  [
    'too many overlays',
    { ...good, spec: { ...good.spec, overlays: Array(5).fill({ source: good.source, gravity: 'north', scale: 0.1 }) } },
  ],
  ['empty version', { ...good, version: '' }],
  ['numeric version', { ...good, version: 3 }],
];

for (const [name, value] of bad) {
  t.test(`refused: ${name}`, async (t) => {
    t.throws(() => parseGeneratorRequest(value), { code: 'INVALID_SPEC', status: 400 });
  });
}

t.test('errors name the field', async (t) => {
  try {
    parseImageSpec({ ...good.spec, width: -3 });
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof MarqueeError);
    t.match((err as Error).message, /\/width/);
  }
});

t.test('failures carry the catalogue status', async (t) => {
  t.equal(ERRORS.SOURCE_TOO_LARGE.status, 413);
  t.equal(problemType('SOURCE_TOO_LARGE'), 'urn:marquee:problem:source-too-large');
});
