import t from 'tap';
import sharp from 'sharp';
import { MarqueeError, type ImageSpec } from '@marquee/shared';
import { generate, type Generated } from '../src/index.js';
import { makeRequest, s3Source, testDeps } from './helpers/deps.js';
import { probe } from '../src/steps/detect.js';
import {
  ATTENTION_PIXELS,
  attentionView,
  intermediatePixels,
  needsAttention,
  pixelBound,
  plan,
} from '../src/steps/geometry.js';
import {
  magicFormat,
  photo,
  photoJpeg,
  photoWithRedSquare,
  pixelAt,
  pixelFloodPng,
  redPixels,
  stripWithRedBand,
} from './helpers/images.js';
import { startS3 } from './helpers/s3.js';

const BUCKET = 'sources';
const s3 = await startS3(t, [BUCKET]);
const deps = testDeps(s3);

const master = await photoJpeg(1200, 800);
await s3.put(BUCKET, 'master.jpg', master);

async function run(key: string, spec: Partial<ImageSpec>): Promise<{ out: Generated; body: Buffer }> {
  const out = await generate(makeRequest(s3Source(BUCKET, key), spec), deps);
  return { out, body: out.data };
}

async function code(key: string, spec: Partial<ImageSpec> = {}): Promise<string> {
  try {
    await generate(makeRequest(s3Source(BUCKET, key), spec), deps);
    return 'OK';
  } catch (err) {
    return err instanceof MarqueeError ? err.code : `not a MarqueeError: ${String(err)}`;
  }
}

t.test('each output format: magic number, sharp metadata, size and content type', async (t) => {
  const cases = [
    { format: 'jpeg', sharpFormat: 'jpeg', type: 'image/jpeg' },
    { format: 'png', sharpFormat: 'png', type: 'image/png' },
    { format: 'webp', sharpFormat: 'webp', type: 'image/webp' },
    { format: 'avif', sharpFormat: 'heif', type: 'image/avif' },
  ] as const;
  for (const c of cases) {
    const { out, body } = await run('master.jpg', { format: c.format, width: 320, height: 180, effort: 0 });
    t.equal(magicFormat(body), c.format, `${c.format} magic`);
    const meta = await sharp(body).metadata();
    t.equal(meta.format, c.sharpFormat, `${c.format} sharp format`);
    t.match(meta, { width: 320, height: 180 }, `${c.format} size`);
    t.match(out, { contentType: c.type, width: 320, height: 180 });
    t.equal(meta.exif, undefined, `${c.format} has no EXIF`);
    t.equal(meta.icc, undefined, `${c.format} has no ICC profile`);
    t.ok(out.timings.fetchMs >= 0 && out.timings.renderMs > 0, 'timings');
  }
});

t.test('fit modes', async (t) => {
  // 1200x800 source (3:2) into a 300x300 frame.
  const cover = await run('master.jpg', { fit: 'cover', width: 300, height: 300 });
  t.match(cover.out, { width: 300, height: 300 });
  const fill = await run('master.jpg', { fit: 'fill', width: 300, height: 300 });
  t.match(fill.out, { width: 300, height: 300 });
  const inside = await run('master.jpg', { fit: 'inside', width: 300, height: 300 });
  t.match(inside.out, { width: 300, height: 200 }, 'inside keeps the aspect within the frame');
  const small = await run('master.jpg', { fit: 'inside', width: 4000, height: 4000 });
  t.match(small.out, { width: 1200, height: 800 }, 'inside never enlarges');
  const contain = await run('master.jpg', {
    fit: 'contain',
    width: 300,
    height: 300,
    format: 'png',
    background: '#ff0000',
  });
  t.match(contain.out, { width: 300, height: 300 });
  t.same((await pixelAt(contain.body, 150, 2)).slice(0, 3), [255, 0, 0], 'letterbox band has the background colour');
  t.not((await pixelAt(contain.body, 150, 150)).slice(0, 3).join(), '255,0,0', 'the image sits in the middle');
  const enlarged = await run('master.jpg', { fit: 'cover', width: 2400, height: 1600, format: 'jpeg', quality: 60 });
  t.match(enlarged.out, { width: 2400, height: 1600 }, 'cover may enlarge');
});

t.test('focal crop keeps the focal region; the opposite focal loses it', async (t) => {
  // A red square near the left edge of a wide image; a square crop must pick a side.
  const img = await photoWithRedSquare(1600, 800, 200, 400, 120);
  await s3.put(BUCKET, 'focal.png', img);
  const left = await run('focal.png', { width: 400, height: 400, focal: { x: 200 / 1600, y: 0.5 }, format: 'png' });
  const right = await run('focal.png', { width: 400, height: 400, focal: { x: 0.95, y: 0.5 }, format: 'png' });
  t.ok((await redPixels(left.body)) > 400, 'red region kept with the focal on it');
  t.equal(await redPixels(right.body), 0, 'red region cropped away with the focal opposite');
  const centre = await pixelAt(left.body, 100, 200);
  t.ok(
    (centre[0] ?? 0) > 200 && (centre[1] ?? 255) < 60,
    'the red region is centred where it can be (clamped at the left edge)',
  );
});

t.test('EXIF orientation 6 is applied', async (t) => {
  // Stored 400x200 with orientation 6 (rotate 90° clockwise to display): displays as 200x400.
  const red = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  const img = await photo(400, 200)
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  t.equal((await sharp(img).metadata()).orientation, 6);
  await s3.put(BUCKET, 'exif6.jpg', img);
  const { out, body } = await run('exif6.jpg', { fit: 'inside', width: 1000, height: 1000, format: 'png' });
  t.match(out, { width: 200, height: 400 }, 'portrait after rotation');
  // The stored left half (red) becomes the top half once rotated clockwise.
  const top = await pixelAt(body, 100, 50);
  t.ok((top[0] ?? 0) > 240 && (top[1] ?? 255) < 30, 'red on top');
  t.ok(((await pixelAt(body, 100, 350))[0] ?? 255) < 230, 'not red at the bottom');
  t.equal((await sharp(body).metadata()).orientation, undefined, 'no orientation tag left');
});

t.test('overlays: badge pixels at the gravity corner, sized from the output width', async (t) => {
  const badge = await sharp({
    create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 1 } },
  })
    .png()
    .toBuffer();
  await s3.put(BUCKET, 'badge.png', badge);
  const overlays = [{ source: s3Source(BUCKET, 'badge.png'), gravity: 'southeast' as const, scale: 0.25 }];
  const { out, body } = await run('master.jpg', { width: 400, height: 200, format: 'png', overlays });
  t.match(out, { width: 400, height: 200 });
  // Badge is 100x50 (0.25 × 400 wide): bottom-right corner green, top-left not.
  t.same(await pixelAt(body, 399, 199), [0, 255, 0], 'green at the south-east corner');
  t.same(await pixelAt(body, 301, 151), [0, 255, 0], 'green at the badge top-left');
  t.not((await pixelAt(body, 298, 148)).join(), '0,255,0', 'not green just outside the badge');
  t.not((await pixelAt(body, 0, 0)).join(), '0,255,0', 'not green at the opposite corner');
  const nw = await run('master.jpg', {
    width: 400,
    height: 200,
    format: 'jpeg',
    overlays: [{ ...overlays[0]!, gravity: 'northwest' }],
  });
  const px = await pixelAt(nw.body, 5, 5);
  t.ok((px[1] ?? 0) > 230 && (px[0] ?? 255) < 30, 'green at the north-west corner of a JPEG');
});

t.test('animated GIF: first frame only', async (t) => {
  const frames = await Promise.all(
    ['#ff0000', '#0000ff'].map((c) =>
      sharp({ create: { width: 64, height: 64, channels: 3, background: c } })
        .raw()
        .toBuffer(),
    ),
  );
  const gif = await sharp(Buffer.concat(frames), {
    raw: { width: 64, height: 128, channels: 3, pageHeight: 64 } as never,
  })
    .gif({ loop: 0, delay: [100, 100] })
    .toBuffer();
  t.equal((await sharp(gif).metadata()).pages, 2, 'the source has two frames');
  await s3.put(BUCKET, 'anim.gif', gif);
  const { out, body } = await run('anim.gif', { width: 32, height: 32, format: 'png' });
  t.match(out, { width: 32, height: 32 });
  const px = await pixelAt(body, 16, 16);
  t.ok((px[0] ?? 0) > 200 && (px[2] ?? 255) < 60, 'first (red) frame');
});

t.test('image errors', async (t) => {
  // A few dozen bytes declaring 50000x50000: refused from the header, never decoded.
  await s3.put(BUCKET, 'flood.png', pixelFloodPng(50_000, 50_000));
  t.equal(await code('flood.png'), 'SOURCE_TOO_LARGE', 'pixel flood');

  // Regression guard: a truncated JPEG must fail, not render a grey lower half.
  await s3.put(BUCKET, 'truncated.jpg', master.subarray(0, Math.floor(master.length / 2)));
  t.equal(await code('truncated.jpg'), 'UNSUPPORTED_IMAGE', 'truncated JPEG');

  await s3.put(
    BUCKET,
    'image.svg',
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/></svg>',
    'image/svg+xml',
  );
  t.equal(await code('image.svg'), 'UNSUPPORTED_IMAGE', 'SVG');

  const random = Buffer.alloc(4096);
  for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 0xff;
  await s3.put(BUCKET, 'random.jpg', random, 'image/jpeg');
  t.equal(await code('random.jpg'), 'UNSUPPORTED_IMAGE', 'random bytes named .jpg');

  // JPEG magic followed by garbage: passes the sniff, fails in sharp.
  await s3.put(BUCKET, 'fake.jpg', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), random]));
  t.equal(await code('fake.jpg'), 'UNSUPPORTED_IMAGE', 'JPEG magic with garbage');

  const tiff = await photo(64, 64).tiff().toBuffer();
  await s3.put(BUCKET, 'image.tiff', tiff);
  t.equal(await code('image.tiff'), 'UNSUPPORTED_IMAGE', 'TIFF is not on the allowlist');

  t.equal(await code('missing.jpg'), 'SOURCE_NOT_FOUND', 'missing key');

  // An overlay goes through the same checks.
  const overlays = [{ source: s3Source(BUCKET, 'flood.png'), gravity: 'north' as const, scale: 0.5 }];
  t.equal(await code('master.jpg', { overlays }), 'SOURCE_TOO_LARGE', 'pixel-flood overlay');
});

t.test('extreme aspects: every fit renders at the output size from a plan bounded by source + output', async (t) => {
  // Before the fix a 300x300 cover of a 20000x10 strip enlarged it to 600000x300 first: seconds and gigabytes.
  const sources = [
    { key: 'strip-20000x10.jpg', bytes: await photoJpeg(20000, 10), inside: { width: 300, height: 1 } },
    { key: 'strip-10x20000.jpg', bytes: await photoJpeg(10, 20000), inside: { width: 1, height: 300 } },
    { key: 'strip-40000x10.png', bytes: await photo(40000, 10).png().toBuffer(), inside: { width: 300, height: 1 } },
    { key: 'strip-10x40000.png', bytes: await photo(10, 40000).png().toBuffer(), inside: { width: 1, height: 300 } },
  ];
  const specs: Array<Partial<ImageSpec>> = [
    { fit: 'cover', focal: { x: 0.3, y: 0.7 }, format: 'webp' },
    { fit: 'cover', format: 'jpeg' },
    { fit: 'contain', format: 'png', background: '#ff0000' },
    { fit: 'fill', format: 'avif', effort: 0 },
    { fit: 'inside', format: 'png' },
  ];
  const peakBefore = process.resourceUsage().maxRSS;
  for (const source of sources) {
    await s3.put(BUCKET, source.key, source.bytes);
    const probed = await probe(source.bytes, deps.config.maxInputPixels);
    for (const partial of specs) {
      const spec = { width: 300, height: 300, quality: 80, format: 'webp', ...partial } as ImageSpec;
      const what = `${source.key} ${spec.fit}${spec.focal === undefined ? '' : ' focal'}`;
      const g = plan(probed, spec, undefined);
      t.ok(
        intermediatePixels(g) <= pixelBound(probed, spec),
        `${what}: intermediate ${intermediatePixels(g)} <= source + output`,
      );
      t.ok(intermediatePixels(g) <= 300 * 300, `${what}: nothing larger than the output`);
      if (needsAttention(spec, g)) {
        const { view } = attentionView(probed, g);
        t.ok(
          view.width * view.height <= Math.min(ATTENTION_PIXELS, probed.width * probed.height),
          `${what}: attention view bounded`,
        );
      }
      const { out, body } = await run(source.key, spec);
      const size = spec.fit === 'inside' ? source.inside : { width: 300, height: 300 };
      t.match(out, size, `${what}: result size`);
      t.match(await sharp(body).metadata(), size, `${what}: encoded size`);
      t.equal(magicFormat(body), spec.format, `${what}: format`);
    }
  }
  const grewMb = (process.resourceUsage().maxRSS - peakBefore) / 1024;
  t.ok(grewMb < 300, `peak RSS grew ${Math.round(grewMb)} MB (< 300)`);
});

t.test('extreme aspects: the window lands where the focal point or attention puts it', async (t) => {
  // A grey-noise strip with one red band, away from the centre.
  await s3.put(BUCKET, 'band-wide.png', await stripWithRedBand(20000, 10, 14000, 16000));
  await s3.put(BUCKET, 'band-tall.png', await stripWithRedBand(10, 20000, 3000, 5000));
  const isRed = (px: number[]) => (px[0] ?? 0) > 200 && (px[1] ?? 255) < 60;
  for (const [key, focal, away] of [
    ['band-wide.png', { x: 0.75, y: 0.5 }, { x: 0.25, y: 0.5 }],
    ['band-tall.png', { x: 0.5, y: 0.2 }, { x: 0.5, y: 0.8 }],
  ] as const) {
    const on = await run(key, { width: 300, height: 300, format: 'png', focal });
    t.ok(isRed(await pixelAt(on.body, 150, 150)), `${key}: focal on the band keeps it`);
    t.equal(
      await redPixels((await run(key, { width: 300, height: 300, format: 'png', focal: away })).body),
      0,
      `${key}: focal away loses it`,
    );
    const attention = await run(key, { width: 300, height: 300, format: 'png' });
    t.match(attention.out, { width: 300, height: 300 });
    t.ok(isRed(await pixelAt(attention.body, 150, 150)), `${key}: attention finds the band`);
  }
});

t.test('an enlarging cut is taken after EXIF orientation', async (t) => {
  // Stored 400x200, orientation 6: displays 200x400 with the stored left half (red) on top.
  const red = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#ff0000' } })
    .png()
    .toBuffer();
  const img = await photo(400, 200)
    .composite([{ input: red, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
  await s3.put(BUCKET, 'exif6-cut.jpg', img);
  // 400x400 cover: a 200x200 window enlarged 2x, cut before the resize.
  const top = await run('exif6-cut.jpg', { width: 400, height: 400, format: 'png', focal: { x: 0.5, y: 0 } });
  const bottom = await run('exif6-cut.jpg', { width: 400, height: 400, format: 'png', focal: { x: 0.5, y: 1 } });
  t.match(top.out, { width: 400, height: 400 });
  t.ok((await redPixels(top.body)) > 150_000, 'the top of the displayed image is red');
  t.equal(await redPixels(bottom.body), 0, 'the bottom is not');
});

t.test('enlarge: false renders the same picture at the source resolution', async (t) => {
  await s3.put(BUCKET, 'small.png', await photo(100, 150).png().toBuffer());
  await s3.put(BUCKET, 'wide.png', await photo(300, 100).png().toBuffer());
  const cover = await run('small.png', { width: 342, height: 513, format: 'png', enlarge: false });
  t.match(cover.out, { width: 100, height: 150 }, 'cover: 342x513 of a 100x150 source is the source at 1:1');
  t.match(await sharp(cover.body).metadata(), { width: 100, height: 150 });
  t.match(
    (await run('small.png', { width: 342, height: 513, format: 'png' })).out,
    { width: 342, height: 513 },
    'absent: enlarged',
  );
  t.match(
    (await run('small.png', { width: 50, height: 75, format: 'png', enlarge: false })).out,
    { width: 50, height: 75 },
    'shrinking is unaffected',
  );
  // 300x100 in 600x600 contain would scale 2x: the frame halves with it, 300x300 letterboxed.
  const contain = await run('wide.png', {
    fit: 'contain',
    width: 600,
    height: 600,
    format: 'png',
    background: '#ff0000',
    enlarge: false,
  });
  t.match(contain.out, { width: 300, height: 300 }, 'contain: the frame shrinks by the enlargement');
  t.same((await pixelAt(contain.body, 150, 5)).slice(0, 3), [255, 0, 0], 'letterbox above the picture');
  t.not((await pixelAt(contain.body, 150, 150)).slice(0, 3).join(), '255,0,0', 'the picture, unscaled, in the middle');
  const fill = await run('small.png', { fit: 'fill', width: 300, height: 150, format: 'png', enlarge: false });
  t.match(fill.out, { width: 100, height: 50 }, 'fill: no axis enlarged, the same stretch');
  // Overlays are sized from the frame actually rendered.
  const badge = await sharp({
    create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 255, b: 0, alpha: 1 } },
  })
    .png()
    .toBuffer();
  await s3.put(BUCKET, 'badge-small.png', badge);
  const overlays = [{ source: s3Source(BUCKET, 'badge-small.png'), gravity: 'southeast' as const, scale: 0.5 }];
  const badged = await run('small.png', { width: 342, height: 513, format: 'png', enlarge: false, overlays });
  t.match(badged.out, { width: 100, height: 150 });
  t.same(await pixelAt(badged.body, 99, 149), [0, 255, 0], 'badge at the corner of the smaller frame');
  t.same(await pixelAt(badged.body, 51, 126), [0, 255, 0], 'badge is half the frame wide (50x25)');
  t.not((await pixelAt(badged.body, 48, 123)).join(), '0,255,0', 'and no larger');
});
