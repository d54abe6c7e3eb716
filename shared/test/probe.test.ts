import t from 'tap';
import { INPUT_FORMATS, checkHeader, probeImage, type HeaderMetadata, type HeaderReader } from '@marquee/shared';

// Magic numbers only: the header itself comes from the fake reader, as sharp's would.
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const GIF = Buffer.from('GIF89a\0\0\0\0', 'latin1');
const AVIF = Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypavif\0\0\0\0mif1', 'latin1')]);

/** A stand-in for sharp: answers `meta`, or throws as sharp does for a header it cannot read. */
function reader(meta: HeaderMetadata | Error): { read: HeaderReader; calls: number } {
  const state = {
    calls: 0,
    read: ((_buf, options) => {
      state.calls++;
      if (options.limitInputPixels !== false || options.pages !== 1)
        throw new Error('header read with the wrong options');
      return { metadata: async () => (meta instanceof Error ? Promise.reject(meta) : meta) };
    }) as HeaderReader,
  };
  return state;
}

const png = { format: 'png', width: 400, height: 300, hasAlpha: true };
const options = { formats: INPUT_FORMATS, maxPixels: 1_000_000, what: 'source' };

t.test('a readable header within the cap', async (t) => {
  const r = reader(png);
  t.same(await probeImage(PNG, () => r.read, options), { format: 'png', width: 400, height: 300, hasAlpha: true });
});

t.test('the size is the oriented one', async (t) => {
  const header = checkHeader('png', { ...png, autoOrient: { width: 300, height: 400 } }, 1_000_000, 'source');
  t.match(header, { width: 300, height: 400 });
});

t.test('AVIF is HEIF with AV1 inside', async (t) => {
  t.match(checkHeader('avif', { format: 'heif', compression: 'av1', width: 2, height: 2 }, 10, 'source'), {
    format: 'avif',
  });
  t.throws(() => checkHeader('avif', { format: 'heif', compression: 'hevc', width: 2, height: 2 }, 10, 'source'), {
    code: 'UNSUPPORTED_IMAGE',
  });
});

t.test('refusals, each with its code', async (t) => {
  const cases: Array<[string, Buffer, HeaderMetadata | Error, string, RegExp]> = [
    [
      'not an image',
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      png,
      'UNSUPPORTED_IMAGE',
      /^source is not a JPEG, PNG, WebP, AVIF or GIF image$/,
    ],
    [
      'the decoder disagrees with the magic number',
      PNG,
      { ...png, format: 'jpeg' },
      'UNSUPPORTED_IMAGE',
      /^source is not a valid png image$/,
    ],
    ['an unreadable header', PNG, new Error('corrupt'), 'UNSUPPORTED_IMAGE', /^source is not a valid png image$/],
    ['no size', PNG, { format: 'png' }, 'UNSUPPORTED_IMAGE', /^source has no dimensions$/],
    [
      'a pixel bomb',
      PNG,
      { ...png, width: 50_000, height: 50_000 },
      'SOURCE_TOO_LARGE',
      /^source is 50000x50000, more than 1000000 pixels$/,
    ],
    [
      'an AVIF that is not AV1',
      AVIF,
      { format: 'heif', compression: 'hevc', width: 1, height: 1 },
      'UNSUPPORTED_IMAGE',
      /not a valid avif image/,
    ],
  ];
  for (const [name, bytes, meta, code, message] of cases) {
    await t.rejects(
      probeImage(bytes, () => reader(meta).read, options),
      { code, message },
      name,
    );
  }
});

t.test('a narrower list of formats refuses the rest before sharp is loaded', async (t) => {
  let loaded = 0;
  const load = () => {
    loaded++;
    return reader({ format: 'gif', width: 1, height: 1 }).read;
  };
  const uploads = { formats: ['jpeg', 'png', 'webp', 'avif'] as const, maxPixels: 100, what: 'The file' };
  await t.rejects(probeImage(GIF, load, uploads), {
    code: 'UNSUPPORTED_IMAGE',
    message: 'The file is not a JPEG, PNG, WebP or AVIF image',
  });
  await t.rejects(probeImage(Buffer.from('plain text'), load, uploads), { code: 'UNSUPPORTED_IMAGE' });
  t.equal(loaded, 0, 'sharp is never loaded for bytes that cannot be an image');
});
