// Shared by the k6 scripts and the Node runner: no imports, no Node or k6 APIs.

/**
 * A small, fast, seedable PRNG (mulberry32): the same seed gives the same request sequence in k6
 * and Node. A copy of `@marquee/shared`'s: k6 bundles this file by relative path and cannot
 * import a workspace package; loadtest/test/zipf.test.ts holds the two to the same sequence.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Zipf over ranks 1..n: P(rank r) ∝ 1 / r^s. `sample()` returns a 0-based rank.
 * The CDF is built once, so each draw is a binary search.
 */
export class ZipfSampler {
  readonly n: number;
  readonly s: number;
  private readonly cdf: Float64Array;
  private readonly random: () => number;

  constructor(n: number, s: number, random: () => number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf: n must be a positive integer, got ${n}`);
    if (!(s >= 0)) throw new RangeError(`zipf: s must be >= 0, got ${s}`);
    this.n = n;
    this.s = s;
    this.random = random;
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 1; r <= n; r++) {
      sum += 1 / Math.pow(r, s);
      this.cdf[r - 1] = sum;
    }
    for (let i = 0; i < n; i++) this.cdf[i] = (this.cdf[i] as number) / sum;
  }

  /** Probability of 0-based rank i. */
  probability(i: number): number {
    const hi = this.cdf[i] ?? 0;
    const lo = i > 0 ? (this.cdf[i - 1] ?? 0) : 0;
    return hi - lo;
  }

  sample(): number {
    const u = this.random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
