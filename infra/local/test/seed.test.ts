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
  await seedSamples({ client, sourcesBucket: BUCKET, titles: 1 });
  const forced = await seedSamples({ client, sourcesBucket: BUCKET, titles: 2, force: true });
  t.equal(forced.seeded, true);
  t.equal(Object.keys(forced.catalog.titles).length, 2);
  await t.rejects(seedSamples({ client, sourcesBucket: BUCKET, titles: 0, force: true }), RangeError);
});
