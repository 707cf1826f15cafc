/**
 * Randomness for the randomized selection policies, injected so that
 * simulations and tests are reproducible.
 *
 * @module
 */

/** A source of uniformly distributed numbers. */
export interface RandomSource {
  /** A number in [0, 1) with 53 random bits. */
  next(): number;
}

/**
 * A seeded generator (xoshiro128**, Blackman and Vigna) producing the same
 * sequence for the same seed on every runtime. Not for cryptography.
 */
export class SeededRandom implements RandomSource {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * Creates a generator; any 32-bit seed (including 0) gives a usable state.
   *
   * @param seed the seed
   */
  constructor(seed: number) {
    // Expand the seed with SplitMix32 so that nearby seeds give unrelated states.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A number in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The runtime's `Math.random`, for production use where reproducibility is not needed. */
export const systemRandom: RandomSource = { next: () => Math.random() };

/** A uniform integer in [0, bound) for bound ≤ 2^53. */
export function randomBelow(random: RandomSource, bound: number): number {
  const v = Math.floor(random.next() * bound);
  return v < bound ? v : bound - 1;
}
