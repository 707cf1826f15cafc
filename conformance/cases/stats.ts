/**
 * Statistics for the randomized selection policies: exact binomial
 * acceptance regions, inclusion probabilities of weighted sampling without
 * replacement, and a seeded generator for the suite's own choices. Kept
 * apart from `lib/policy` on purpose: the suite must not share code with
 * the implementation it judges.
 *
 * @module
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-14). */
export function lnGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln P(X = k) for X ~ Binomial(n, p). */
function lnBinomialPmf(n: number, p: number, k: number): number {
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) +
    (n - k) * Math.log1p(-p);
}

/**
 * The acceptance region [lo, hi] of a two-sided exact binomial test: a
 * count below `lo` or above `hi` has probability at most `alpha` in all
 * (at most `alpha / 2` on each side) when X ~ Binomial(n, p).
 */
export function binomialRegion(n: number, p: number, alpha: number): { lo: number; hi: number } {
  const pmf = Array.from({ length: n + 1 }, (_, k) => Math.exp(lnBinomialPmf(n, p, k)));
  let lo = 0;
  let tail = 0;
  while (lo <= n && tail + pmf[lo] <= alpha / 2) tail += pmf[lo++];
  let hi = n;
  tail = 0;
  while (hi >= 0 && tail + pmf[hi] <= alpha / 2) tail += pmf[hi--];
  return { lo, hi };
}

/**
 * Inclusion probabilities of drawing `k` distinct items one after the
 * other, each with probability proportional to its weight among those not
 * drawn yet (successive sampling, as RSPLIB and this library select for the
 * randomized policies). Exact, by recursion over the drawn sets (small
 * pools only).
 */
export function inclusionProbabilities(weights: readonly number[], k: number): number[] {
  const n = weights.length;
  const out = new Array<number>(n).fill(0);
  const take = Math.min(k, n);
  const walk = (drawn: number, probability: number, depth: number) => {
    if (depth === take) return;
    let sum = 0;
    for (let i = 0; i < n; i++) if ((drawn & (1 << i)) === 0) sum += weights[i];
    for (let i = 0; i < n; i++) {
      if ((drawn & (1 << i)) !== 0) continue;
      const p = sum === 0 ? 0 : probability * weights[i] / sum;
      if (p === 0) continue;
      out[i] += p;
      walk(drawn | (1 << i), p, depth + 1);
    }
  };
  walk(0, 1, 0);
  return out;
}

/** Probability that each item is drawn first (proportional to its weight). */
export function firstDrawProbabilities(weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}

/** A small seeded generator (mulberry32) for the suite's own random choices. */
export class SuiteRandom {
  private state: number;

  /** @param seed any 32-bit number; the evidence names it */
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A random permutation of the items (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/** A fresh seed for a case (from the clock and Math.random; reported in the evidence). */
export function freshSeed(): number {
  return (Date.now() ^ Math.floor(Math.random() * 0x100000000)) >>> 0;
}
