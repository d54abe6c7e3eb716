import t from 'tap';
import { mulberry32 as sharedMulberry32 } from '@marquee/shared';
import { ZipfSampler, mulberry32 } from '../scenarios/zipf.js';
import { SEEDED_UNIVERSE, enumerateKeys } from '../scenarios/universe.js';

t.test('mulberry32 is deterministic per seed and uniform enough', async (t) => {
  const a = mulberry32(1);
  const b = mulberry32(1);
  const c = mulberry32(2);
  const xs = Array.from({ length: 5 }, () => a());
  t.same(
    Array.from({ length: 5 }, () => b()),
    xs,
  );
  t.not(c(), xs[0]);
  const r = mulberry32(3);
  let sum = 0;
  let outOfRange = 0;
  for (let i = 0; i < 100_000; i++) {
    const v = r();
    if (!(v >= 0 && v < 1)) outOfRange++;
    sum += v;
  }
  t.equal(outOfRange, 0, 'all in [0, 1)');
  t.ok(Math.abs(sum / 100_000 - 0.5) < 0.01, 'mean near 0.5');
});

t.test('Zipf probabilities fall as 1/r^s and frequencies follow them', async (t) => {
  const n = 1000;
  const s = 1;
  const z = new ZipfSampler(n, s, mulberry32(42));
  const harmonic = Array.from({ length: n }, (_, i) => 1 / (i + 1)).reduce((a, b) => a + b, 0);
  t.ok(Math.abs(z.probability(0) - 1 / harmonic) < 1e-12, 'rank 1 has 1/H(n)');
  t.ok(Math.abs(z.probability(0) / z.probability(1) - 2) < 1e-9, 'rank 1 is twice rank 2 at s=1');
  const draws = 200_000;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) {
    const r = z.sample();
    counts[r] = (counts[r] ?? 0) + 1;
  }
  for (const rank of [0, 1, 9, 99]) {
    const expected = z.probability(rank) * draws;
    const observed = counts[rank] ?? 0;
    // Four standard deviations of a binomial count.
    t.ok(
      Math.abs(observed - expected) < 4 * Math.sqrt(expected),
      `rank ${rank + 1}: ${observed} ≈ ${expected.toFixed(0)}`,
    );
  }
  t.equal(
    counts.reduce((a, b) => a + b, 0),
    draws,
  );
});

t.test('s = 0 is uniform; bad parameters are refused', async (t) => {
  const z = new ZipfSampler(4, 0, mulberry32(1));
  for (let i = 0; i < 4; i++) t.ok(Math.abs(z.probability(i) - 0.25) < 1e-12);
  t.throws(() => new ZipfSampler(0, 1, Math.random), RangeError);
  t.throws(() => new ZipfSampler(10, -1, Math.random), RangeError);
});

t.test('the universe: canonical sizes only, most popular first, deterministic', async (t) => {
  const keys = enumerateKeys(SEEDED_UNIVERSE);
  const perTitle =
    SEEDED_UNIVERSE.types.reduce((s, ty) => s + ty.sizes.length * ty.formats.length, 0) *
    SEEDED_UNIVERSE.locales.length;
  t.equal(keys.length, SEEDED_UNIVERSE.titles.length * perTitle);
  t.same(enumerateKeys(SEEDED_UNIVERSE), keys, 'same order every time');
  const head = keys[0];
  t.match(
    head?.path,
    /^\/v1\/artwork\/boxshot\/80000001\/342x513\.webp\?locale=en$/,
    'the head is the first title in its most popular form',
  );
  t.equal(new Set(keys.map((k) => `${k.path}\n${k.accept}`)).size, keys.length, 'keys are distinct');
  t.ok(
    keys.some((k) => k.ext === 'auto' && k.accept.includes('image/avif')),
    'auto with an avif-capable Accept',
  );
  t.ok(
    keys.some((k) => k.ext === 'auto' && k.accept === '*/*'),
    'auto with */*',
  );
  t.ok(
    keys.every((k) => k.type !== 'logo' || k.ext !== 'jpg'),
    'no JPEG for logos (they have alpha)',
  );
});

t.test("the k6-bundlable copy draws exactly shared's sequence", async (t) => {
  for (const seed of [0, 1, 42, 0xdeadbeef, 2 ** 32 - 1]) {
    const ours = mulberry32(seed);
    const theirs = sharedMulberry32(seed);
    const a = Array.from({ length: 1000 }, () => ours());
    const b = Array.from({ length: 1000 }, () => theirs());
    t.same(a, b, `seed ${seed}`);
  }
});
