import t from 'tap';
import { specKey, stableStringify, type ImageSpec, type Source } from '@marquee/shared';

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
