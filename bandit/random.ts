/**
 * Seeded random sources for the engine. Nothing in bandit/ calls Math.random: every random
 * draw comes from a `random: () => number` that the caller injects, so runs are reproducible.
 */

/** A source of uniform draws in [0, 1). */
export type RandomSource = () => number;

/**
 * Mulberry32: a 32-bit seeded uniform generator (Tommy Ettinger's public-domain mulberry32).
 * state <- state + 0x6D2B79F5; output = mix(state) / 2^32.
 * Cost: O(1) per draw. Throws if `seed` is not a finite number.
 */
export function mulberry32(seed: number): RandomSource {
  if (!Number.isFinite(seed)) throw new Error("mulberry32 requires a finite seed");
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent stream seed from a base seed and labels (e.g. trial index, stream id),
 * so trials and streams do not share draws. hash = FNV-1a over the 32-bit words.
 * Cost: O(number of parts). Throws nothing.
 */
export function deriveSeed(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    let word = Math.floor(part) >>> 0;
    for (let byte = 0; byte < 4; byte++) {
      hash ^= word & 0xff;
      hash = Math.imul(hash, 0x01000193) >>> 0;
      word >>>= 8;
    }
  }
  return hash >>> 0;
}

/**
 * One standard normal draw by the Box–Muller transform (Box & Muller 1958):
 * z = sqrt(-2 ln u1) * cos(2 pi u2), with u1 in (0, 1].
 * Cost: O(1), two uniform draws. Throws nothing.
 */
export function standardNormal(random: RandomSource): number {
  const u1 = 1 - random();
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * A uniform integer in [0, n). floor(u * n).
 * Cost: O(1). Throws if n is not a positive integer.
 */
export function randomInt(random: RandomSource, n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new Error("randomInt requires a positive integer bound");
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * A uniformly random pair of distinct indices in [0, n).
 * Cost: O(1). Throws if n < 2.
 */
export function randomDistinctPair(random: RandomSource, n: number): [number, number] {
  if (n < 2) throw new Error("randomDistinctPair requires at least two arms");
  const first = randomInt(random, n);
  let second = randomInt(random, n - 1);
  if (second >= first) second += 1;
  return [first, second];
}

/**
 * A uniform draw in [0, 1) that depends only on `parts` (a counter-based random number): the
 * FNV-1a hash of the parts (deriveSeed) mixed by one mulberry32 step. Used for common random
 * numbers, where two runs must see the same draw for the same (trial, round, pair) whatever else
 * they drew before.
 * Cost: O(number of parts). Throws nothing.
 */
export function hashUniform(...parts: number[]): number {
  return mulberry32(deriveSeed(...parts))();
}

/**
 * One Gamma(shape, 1) draw by Marsaglia & Tsang (2000, "A simple method for generating gamma
 * variables", ACM TOMS 26(3)): d = shape - 1/3, c = 1/sqrt(9d); repeat x ~ N(0,1), v = (1 + c x)^3
 * until v > 0 and ln u < x^2/2 + d - d v + d ln v; return d v. For shape < 1, Gamma(shape + 1) * u^(1/shape)
 * (their §6).
 * Cost: O(1) expected (about 1.04 normal draws per value for shape >= 1). Throws if shape <= 0.
 */
export function sampleGamma(random: RandomSource, shape: number): number {
  if (!(shape > 0)) throw new Error("sampleGamma requires a positive shape");
  if (shape < 1) return sampleGamma(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = standardNormal(random);
    const base = 1 + c * x;
    if (base <= 0) continue;
    const v = base * base * base;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/**
 * One Beta(alpha, beta) draw: X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta); Beta(1, 1) is a
 * single uniform draw.
 * Cost: O(1) expected. Throws if a parameter is not positive.
 */
export function sampleBeta(random: RandomSource, alpha: number, beta: number): number {
  if (!(alpha > 0) || !(beta > 0)) throw new Error("sampleBeta requires positive parameters");
  if (alpha === 1 && beta === 1) return random();
  const x = sampleGamma(random, alpha);
  const y = sampleGamma(random, beta);
  return x / (x + y);
}
