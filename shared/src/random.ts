/**
 * mulberry32: a small, fast, seedable PRNG. The same seed gives the same sequence on every
 * machine: the sample artwork the seed draws and the request mix the load tests draw.
 * (loadtest/scenarios/zipf.ts keeps a copy that k6 can bundle, tested against this one.)
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
