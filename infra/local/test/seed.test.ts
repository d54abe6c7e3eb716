import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { localS3Client, startLocalS3 } from '../s3/index.js';
import { BADGE_KEYS, CATALOG_KEY, seedSamples, type Catalog } from '../seed/index.js';

const BUCKET = 'marquee-sources';
/** Enough titles to cover every pattern (pt-only is title #4), few enough to stay quick. */
const TITLES = 6;

async function fetch(client: S3Client, key: string): Promise<{ body: Buffer; contentType: string | undefined }> {
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return {
    body: Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array())),
    contentType: object.ContentType,
  };
}

async function setup(t: Test): Promise<S3Client> {
  const s3 = await startLocalS3({ directory: t.testdir(), buckets: [BUCKET] });
  t.teardown(() => s3.close());
  const client = localS3Client(s3.endpoint);
  t.teardown(() => client.destroy());
  return client;
}

// One seeded bucket for the read-only checks: seeding is the slow part.
const shared = await setup(t);
const first = await seedSamples({ client: shared, sourcesBucket: BUCKET, titles: TITLES });

t.test('seeds titles, locales, artwork and badges; a second run keeps them', async (t) => {
  const client = shared;
  const { catalog, seeded } = first;
  t.equal(seeded, true);
  t.equal(catalog.version, 1);
  const ids = Object.keys(catalog.titles);
  t.same(ids, ['80000001', '80000002', '80000003', '80000004', '80000005', '80000006']);

  const stored = JSON.parse((await fetch(client, CATALOG_KEY)).body.toString()) as Catalog;
  t.same(stored, catalog, 'catalog.json holds what was returned');
  t.equal((await fetch(client, CATALOG_KEY)).contentType, 'application/json');

  const titles = Object.values(catalog.titles);
  t.ok(titles.every((title) => title.name.length > 0 && Array.isArray(title.flags)));
  const flags = (title: (typeof titles)[number]) => title.flags ?? [];
  t.ok(
    titles.some((title) => flags(title).includes('top10')),
    'some titles are top 10',
  );
  t.ok(
    titles.some((title) => flags(title).includes('new')),
    'some titles are new',
  );
  t.ok(
    titles.some((title) => flags(title).length === 0),
    'some titles have no flags',
  );
  const locales = (title: (typeof titles)[number]) => Object.keys(title.artwork.boxshot ?? {});
  t.ok(
    titles.every((title) => locales(title).includes('en')),
    'every title has en',
  );
  t.ok(titles.some((title) => locales(title).includes('fr')));
  t.ok(titles.some((title) => locales(title).includes('pt-BR')));
  t.ok(
    titles.some((title) => locales(title).includes('pt') && !locales(title).includes('pt-BR')),
    'a pt-only title exercises the fallback',
  );

  const title1 = catalog.titles['80000001'];
  t.match(title1?.artwork.boxshot?.en, {
    source: 'titles/80000001/boxshot/en.jpg',
    version: '1',
    width: 1000,
    height: 1500,
  });
  t.match(title1?.artwork.boxshot?.en?.focal, { x: Number, y: Number });
  const artworks = titles.flatMap((title) =>
    Object.values(title.artwork).flatMap((byLocale) => Object.values(byLocale)),
  );
  const withFocal = artworks.filter((a) => a.focal !== undefined);
  t.ok(
    withFocal.length > artworks.length / 2 && withFocal.length < artworks.length,
    'most artworks, not all, have a focal point',
  );
  t.ok(withFocal.every((a) => a.focal && a.focal.x >= 0 && a.focal.x <= 1 && a.focal.y >= 0 && a.focal.y <= 1));

  const again = await seedSamples({ client, sourcesBucket: BUCKET, titles: TITLES });
  t.equal(again.seeded, false, 'idempotent');
  t.same(again.catalog, catalog);
});

t.test('the images are real, photo-like and as the catalog says', async (t) => {
  const client = shared;
  const { catalog } = first;
  const expected = {
    boxshot: ['jpeg', 1000, 1500],
    billboard: ['jpeg', 1920, 1080],
    logo: ['png', 1200, 400],
  } as const;
  const seen = new Set<string>();
  for (const title of Object.values(catalog.titles)) {
    for (const [type, byLocale] of Object.entries(title.artwork)) {
      for (const artwork of Object.values(byLocale)) {
        const { body, contentType } = await fetch(client, artwork.source);
        const meta = await sharp(body).metadata();
        const [format, width, height] = expected[type as keyof typeof expected];
        t.match(
          { format: meta.format, width: meta.width, height: meta.height },
          { format, width, height },
          artwork.source,
        );
        t.equal(contentType, format === 'png' ? 'image/png' : 'image/jpeg');
        if (type === 'logo') t.equal(meta.hasAlpha, true, 'logos are transparent');
        seen.add(createHash('sha256').update(body).digest('hex'));
        if (type !== 'logo') {
          // Not flat colour: every channel varies across the image.
          const { channels } = await sharp(body).stats();
          t.ok(
            channels.every((c) => c.stdev > 12),
            `${artwork.source} has texture`,
          );
        }
      }
    }
  }
  t.equal(
    seen.size,
    Object.values(catalog.titles).reduce(
      (n, title) => n + Object.values(title.artwork).reduce((m, l) => m + Object.keys(l).length, 0),
      0,
    ),
    'every image differs',
  );
  for (const key of Object.values(BADGE_KEYS)) {
    const meta = await sharp((await fetch(client, key)).body).metadata();
    t.match(meta, { format: 'png', width: 256, height: 256, hasAlpha: true }, key);
  }
});

t.test('the same title renders the same bytes on every run', async (t) => {
  // Deterministic: a reseeded bucket serves identical sources, so derived caches and ETags stay valid.
  const a = await setup(t);
  const b = await setup(t);
  await seedSamples({ client: a, sourcesBucket: BUCKET, titles: 1 });
  await seedSamples({ client: b, sourcesBucket: BUCKET, titles: 1 });
  for (const key of ['titles/80000001/boxshot/en.jpg', 'titles/80000001/logo/fr.png']) {
    t.ok((await fetch(a, key)).body.equals((await fetch(b, key)).body), key);
  }
});

t.test('force reseeds a bucket that has a catalog; bad counts are refused', async (t) => {
  const client = await setup(t);
  const lines: string[] = [];
  await seedSamples({ client, sourcesBucket: BUCKET, titles: 1, progress: (line) => lines.push(line) });
  t.equal(lines[0], 'rendering sample artwork: 1 title', 'one title, in the singular');
  t.match(lines[1], /^sample artwork ready: 1 title, \d+ images \(/);
  const forced = await seedSamples({ client, sourcesBucket: BUCKET, titles: 2, force: true });
  t.equal(forced.seeded, true);
  t.equal(Object.keys(forced.catalog.titles).length, 2);
  await t.rejects(seedSamples({ client, sourcesBucket: BUCKET, titles: 0, force: true }), RangeError);
});

/** Mean absolute difference (0..255) of two same-size images over a box given in fractions of the size. */
async function difference(a: Buffer, b: Buffer, box: { x: number; y: number; w: number; h: number }): Promise<number> {
  const [ra, rb] = await Promise.all(
    [a, b].map((img) => sharp(img).greyscale().raw().toBuffer({ resolveWithObject: true })),
  );
  const { width, height } = ra!.info;
  let sum = 0;
  let n = 0;
  for (let y = Math.floor(box.y * height); y < Math.floor((box.y + box.h) * height); y++) {
    for (let x = Math.floor(box.x * width); x < Math.floor((box.x + box.w) * width); x++) {
      sum += Math.abs(ra!.data[y * width + x]! - rb!.data[y * width + x]!);
      n++;
    }
  }
  return sum / n;
}

t.test('locales differ where no badge goes; what a badge covers is the same in every locale', async (t) => {
  // 80000001 has en, fr and pt-BR. The shipped rules put `top10` in the top-right corner (22% of a
  // boxshot's width, 8% of a billboard's) and `new` bottom-left (30% of a boxshot's width, its pill
  // in the bottom 14%).
  const read = async (type: string, locale: string) =>
    (await fetch(shared, `titles/80000001/${type}/${locale}.jpg`)).body;
  const boxshotBadges = [
    { x: 0.78, y: 0, w: 0.22, h: 0.147 },
    { x: 0, y: 0.86, w: 0.3, h: 0.14 },
  ];
  for (const other of ['fr', 'pt-BR']) {
    const en = await read('boxshot', 'en');
    const localised = await read('boxshot', other);
    for (const box of boxshotBadges)
      t.ok(
        (await difference(en, localised, box)) < 2,
        `boxshot ${other}: the same under the badge at ${box.x},${box.y}`,
      );
    // The title block, between the subject and the `new` pill: the localised title.
    t.ok((await difference(en, localised, { x: 0.1, y: 0.6, w: 0.8, h: 0.22 })) > 8, `boxshot ${other}: its own title`);
    const bEn = await read('billboard', 'en');
    const bLocalised = await read('billboard', other);
    t.ok(
      (await difference(bEn, bLocalised, { x: 0.92, y: 0, w: 0.08, h: 0.142 })) < 2,
      `billboard ${other}: the same under top10`,
    );
    t.ok(
      (await difference(bEn, bLocalised, { x: 0.05, y: 0.6, w: 0.5, h: 0.3 })) > 8,
      `billboard ${other}: its own title`,
    );
  }
  // The instrument can fail: the two locales' title blocks are told apart, the same image is not.
  const en = await read('boxshot', 'en');
  t.equal(await difference(en, en, { x: 0.1, y: 0.6, w: 0.8, h: 0.22 }), 0);
});

t.test(
  'a background seed answers the showcase titles first, then the rest; an interrupted one is redone',
  async (t) => {
    const client = await setup(t);
    const lines: string[] = [];
    const result = await seedSamples({
      client,
      sourcesBucket: BUCKET,
      titles: 4,
      background: true,
      progress: (line) => lines.push(line),
    });
    t.equal(result.seeded, true);
    t.equal(result.ready, 3, 'the showcase titles among the first four: 80000001-80000003');
    t.same(Object.keys(result.catalog.titles), ['80000001', '80000002', '80000003', '80000004'], 'the whole catalog');
    const stored = JSON.parse((await fetch(client, CATALOG_KEY)).body.toString()) as Catalog;
    t.same(stored, result.catalog, 'written at once, whole');
    t.ok((await fetch(client, 'titles/80000001/boxshot/en.jpg')).body.length > 0, 'a showcase title is in');
    await result.complete;
    t.ok((await fetch(client, 'titles/80000004/boxshot/en.jpg')).body.length > 0, 'then the rest');
    t.match(lines.join('\n'), /3 titles ready .*1 more rendering in the background/);
    t.equal((await seedSamples({ client, sourcesBucket: BUCKET, titles: 4 })).seeded, false, 'complete: kept');

    const stopped = new AbortController();
    const interrupted = await seedSamples({
      client,
      sourcesBucket: BUCKET,
      titles: 5,
      force: true,
      background: true,
      signal: stopped.signal,
    });
    stopped.abort();
    await t.rejects(interrupted.complete, 'the background part stops');
    const again = await seedSamples({ client, sourcesBucket: BUCKET, titles: 5 });
    t.equal(again.seeded, true, 'a catalog whose seed was interrupted is seeded again');
    t.ok((await fetch(client, 'titles/80000005/logo/en.png')).body.length > 0);
  },
);
