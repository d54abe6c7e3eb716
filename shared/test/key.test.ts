import { createHash } from 'node:crypto';
import t from 'tap';
import {
  KEY_VERSION,
  parseGeneratorRequest,
  specKey,
  specKeyText,
  stableStringify,
  type ImageSpec,
  type Source,
} from '@marquee/shared';

const source: Source = { s3: { bucket: 'sources', key: 'titles/t1/boxshot/en.jpg' } };
const spec: ImageSpec = {
  width: 342,
  height: 192,
  fit: 'cover',
  format: 'webp',
  quality: 80,
  focal: { x: 0.5, y: 0.3 },
};

t.test('same spec in any key order gives the same key', async (t) => {
  const reordered = JSON.parse(
    '{"quality":80,"focal":{"y":0.3,"x":0.5},"format":"webp","fit":"cover","height":192,"width":342}',
  ) as ImageSpec;
  t.equal(specKey(source, reordered), specKey(source, spec));
  t.match(specKey(source, spec), /^[0-9a-f]{32}$/);
});

t.test('any change of source, version or spec gives another key', async (t) => {
  const base = specKey(source, spec, 'v1');
  const variants = [
    specKey({ s3: { bucket: 'sources', key: 'titles/t1/boxshot/fr.jpg' } }, spec, 'v1'),
    specKey({ s3: { ...source.s3, versionId: 'abc' } }, spec, 'v1'),
    specKey(source, spec, 'v2'),
    specKey(source, spec),
    specKey(source, { ...spec, width: 343 }, 'v1'),
    specKey(source, { ...spec, quality: 81 }, 'v1'),
    specKey(source, { ...spec, format: 'avif' }, 'v1'),
    specKey(source, { ...spec, focal: { x: 0.5, y: 0.31 } }, 'v1'),
    specKey(source, { ...spec, overlays: [{ source, gravity: 'northeast', scale: 0.2 }] }, 'v1'),
  ];
  t.equal(new Set([base, ...variants]).size, variants.length + 1);
});

t.test('stableStringify drops undefined and sorts keys', async (t) => {
  t.equal(stableStringify({ b: 1, a: undefined, c: [1, { z: 1, y: 2 }] }), '{"b":1,"c":[1,{"y":2,"z":1}]}');
  t.throws(() => stableStringify({ a: Number.NaN }));
});

// ---- golden vectors ---------------------------------------------------------------------------
//
// Every ETag, output-cache entry, derivative object and CDN object is named by `specKey`: a change
// of its text re-keys the whole store and every CDN object. These keys are pinned, and so is the
// hash of their table beside the KEY_VERSION they were made at, so the key text and KEY_VERSION
// change together and only on purpose:
//  - the key text changes, KEY_VERSION does not: the keys below differ;
//  - the keys below are rewritten, KEY_VERSION is not bumped: the table no longer has its pin;
//  - KEY_VERSION is bumped, the keys are not rewritten: they differ (the version is in the text).
// On purpose: bump KEY_VERSION, replace each `key` with the one its failure reports, and add the
// new version's line to VECTOR_PINS with the hash its failure reports. A pin line is never edited
// (adding a vector without changing any key is the one exception).

const boxshot: Source = { s3: { bucket: 'marquee-sources', key: 'titles/t1/boxshot/en.jpg' } };
const badge = (name: string): Source => ({ s3: { bucket: 'marquee-sources', key: `badges/${name}.png` } });

interface Vector {
  name: string;
  source: Source;
  spec: ImageSpec;
  version?: string;
  key: string;
}

const VECTORS: readonly Vector[] = [
  {
    name: 'the smallest spec: no version, no options',
    source: boxshot,
    spec: { width: 342, height: 192, fit: 'cover', format: 'webp', quality: 80 },
    key: '4eb5a23e350fbc9835b20b7905aab681',
  },
  {
    name: 'an artwork version and a focal point',
    source: boxshot,
    version: '1',
    spec: { width: 342, height: 192, fit: 'cover', format: 'jpeg', quality: 82, focal: { x: 0.5, y: 0.3 } },
    key: 'b1ce23c838702a8ab0f0cbeb3e1bccad',
  },
  {
    name: 'DPR 2: 342x192 at 2x is rendered 684x384',
    source: boxshot,
    version: '1',
    spec: { width: 684, height: 384, fit: 'cover', format: 'avif', quality: 55, effort: 4, focal: { x: 0.5, y: 0.3 } },
    key: '3b2281e90d435e039566b6f42a577a6b',
  },
  {
    name: 'DPR 3 with enlarging refused',
    source: boxshot,
    version: 'a1b2c3d4',
    spec: { width: 1026, height: 576, fit: 'cover', format: 'webp', quality: 75, enlarge: false },
    key: 'eb7d72d0e5bbba71863bd8fed5490cac',
  },
  {
    name: 'two overlays, in order, on an S3 version',
    source: {
      s3: {
        bucket: 'marquee-sources',
        key: 'titles/t7/billboard/fr-CA.jpg',
        versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
      },
    },
    version: '2',
    spec: {
      width: 1280,
      height: 720,
      fit: 'cover',
      format: 'webp',
      quality: 78,
      overlays: [
        { source: badge('top10'), gravity: 'northeast', scale: 0.2 },
        { source: badge('new'), gravity: 'southwest', scale: 0.15 },
      ],
    },
    key: '69127b91ac8f21b3dbe332ae470018c2',
  },
  {
    name: 'a URL source, contain on a transparent background, PNG',
    source: { url: 'https://images.example.com/logos/t3.png?size=full' },
    spec: { width: 600, height: 200, fit: 'contain', format: 'png', quality: 100, background: '#00000000' },
    key: '339dd5b920f3e74abdf4e3363b5b9c6c',
  },
  {
    name: 'non-ASCII key and version, inside',
    source: { s3: { bucket: 'marquee-sources', key: 'titles/t9/logo/ja-JP 題名.png' } },
    version: 'β',
    spec: { width: 400, height: 400, fit: 'inside', format: 'jpeg', quality: 90, background: '#fff' },
    key: '97562ff27388daf1d7ee7a4dc0b6c3cc',
  },
];

/** KEY_VERSION → the hash of VECTORS (names aside) made at it. Lines are added, never edited. */
const VECTOR_PINS: Readonly<Record<number, string>> = {
  1: 'b6de606aa206018009ea8be6ac13054e4a0df727d9b390c4b206b466fb6e3172',
};

function tableHash(vectors: readonly Vector[]): string {
  const table = vectors.map(({ source, spec, version, key }) => ({ source, spec, version, key }));
  return createHash('sha256').update(stableStringify(table)).digest('hex');
}

t.test('golden vectors: every key as recorded at this KEY_VERSION', async (t) => {
  for (const v of VECTORS) {
    // Real requests: a vector the wire contract refuses pins nothing.
    parseGeneratorRequest({ v: 1, id: 'vector', source: v.source, spec: v.spec, version: v.version });
    const key = specKey(v.source, v.spec, v.version);
    t.equal(key, v.key, `${v.name}: the key is now ${key}. On purpose? Bump KEY_VERSION: see the comment above`);
  }
  t.equal(new Set(VECTORS.map((v) => v.key)).size, VECTORS.length, 'distinct keys');
});

t.test('golden vectors: the table is pinned beside KEY_VERSION', async (t) => {
  const versions = Object.keys(VECTOR_PINS).map(Number);
  t.equal(Math.max(...versions), KEY_VERSION, 'KEY_VERSION is the newest pinned version');
  const hash = tableHash(VECTORS);
  t.equal(
    hash,
    VECTOR_PINS[KEY_VERSION],
    `the vectors are not the ones pinned at KEY_VERSION ${KEY_VERSION} (keys rewritten without a bump?); they hash ${hash}`,
  );
  t.equal(new Set(Object.values(VECTOR_PINS)).size, versions.length, 'each version its own table');
});

t.test('the key hashes this text: KEY_VERSION, source, spec and version, keys sorted', async (t) => {
  const v = VECTORS[1]!;
  t.equal(
    specKeyText(v.source, v.spec, v.version),
    `{"k":${KEY_VERSION},"source":{"s3":{"bucket":"marquee-sources","key":"titles/t1/boxshot/en.jpg"}},` +
      '"spec":{"fit":"cover","focal":{"x":0.5,"y":0.3},"format":"jpeg","height":192,"quality":82,"width":342},' +
      '"version":"1"}',
  );
  t.equal(
    createHash('sha256')
      .update(specKeyText(v.source, v.spec, v.version))
      .digest('hex')
      .slice(0, 32),
    v.key,
  );
});
