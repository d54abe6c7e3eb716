import t from 'tap';
import {
  DERIVATIVES_PREFIX,
  DRAFTS_PREFIX,
  STAGING_PREFIX,
  derivativeKey,
  specKey,
  type ImageSpec,
  type Source,
} from '@marquee/shared';

const source: Source = { s3: { bucket: 'sources', key: 'titles/t1/boxshot/en.jpg' } };
const spec: ImageSpec = { width: 342, height: 192, fit: 'cover', format: 'jpeg', quality: 80 };

t.test('a derivative is named by its spec key and served extension, under the prefix', async (t) => {
  const key = specKey(source, spec, 'v3');
  t.equal(derivativeKey(key, 'jpeg'), `derivatives/${key}.jpg`);
  t.equal(derivativeKey(key, 'avif'), `derivatives/${key}.avif`);
  t.ok(derivativeKey(key, 'webp').startsWith(DERIVATIVES_PREFIX));
});

t.test('the prefixes are distinct folders', async (t) => {
  const prefixes = [DERIVATIVES_PREFIX, STAGING_PREFIX, DRAFTS_PREFIX];
  for (const p of prefixes) t.match(p, /^[a-z]+\/$/, p);
  t.equal(new Set(prefixes).size, prefixes.length);
});
