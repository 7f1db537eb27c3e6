// A seeded pseudo-random number generator, shared by the parity churn generator and the benchmark so that both can
// replay a run from its seed.

/**
 * mulberry32: a tiny, fast 32-bit PRNG with a full period over its state, good enough for test generation (not for
 * anything security-related). Returns a function yielding floats in [0, 1); the same seed yields the same stream.
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
