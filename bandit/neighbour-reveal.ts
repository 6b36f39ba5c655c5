import type { RandomSource } from "./random";
import { standardNormal } from "./random";

/**
 * The simulator's stand-in for an LLM mutation (issue 17 §5, docs/decisions/0031; the top-performer-guided mutation of
 * the Prompt Duel Optimizer, Wu et al. 2025, arXiv 2510.13907): a child of a parent prompt is
 * the hidden prompt of the scenario nearest to a noisy copy of the parent's features,
 *   q = x_parent + noise * g,  g ~ N(0, I / d)  (so E||noise * g||^2 = noise^2),
 *   child = argmin over hidden j of ||q - x_j||_2  (lowest index on ties),
 * where hidden = not yet visible in the study. noise = 0 reveals the exact nearest hidden neighbour (a paraphrase);
 * with unit-norm features, arms lie 0..2 apart (real scenarios: median nearest-neighbour distance 0.35-0.61, median
 * distance 1.21-1.33), so noise 0.5 usually lands among the parent's few nearest hidden prompts and sometimes further.
 * Deterministic given the random source: d normal draws per child.
 * Cost: O(n d) for n arms of d dimensions. Returns -1 when every arm is visible; throws on a parent out of range or a
 * negative noise.
 */
export function revealNeighbour(features: readonly Float64Array[], visible: Uint8Array, parent: number, noise: number, random: RandomSource): number {
  if (!Number.isInteger(parent) || parent < 0 || parent >= features.length) throw new Error(`revealNeighbour: parent ${parent} is not an arm`);
  if (!(noise >= 0)) throw new Error("revealNeighbour requires noise >= 0");
  if (visible.length !== features.length) throw new Error("revealNeighbour requires one visibility flag per arm");
  const origin = features[parent]!;
  const dimension = origin.length;
  const query = new Float64Array(dimension);
  const spread = noise / Math.sqrt(dimension);
  for (let k = 0; k < dimension; k++) query[k] = origin[k]! + (noise > 0 ? spread * standardNormal(random) : 0);
  let child = -1;
  let nearest = Infinity;
  for (let j = 0; j < features.length; j++) {
    if (visible[j]) continue;
    const row = features[j]!;
    let distance = 0;
    for (let k = 0; k < dimension; k++) distance += (query[k]! - row[k]!) ** 2;
    if (distance < nearest) {
      nearest = distance;
      child = j;
    }
  }
  return child;
}

/**
 * The arms in the order a study's leaderboard ranks them: by the score the engine's recommendation ranks by
 * (duet: a lower confidence bound, -Infinity for arms in no duel), ties and unscored arms by utility, then by index.
 * Cost: O(n log n). Throws nothing.
 */
export function rankLeaders(recommendationScores: Float64Array, utilities: Float64Array): number[] {
  return Array.from({ length: utilities.length }, (_, i) => i).sort((x, y) => {
    const byScore = recommendationScores[y]! - recommendationScores[x]!;
    if (byScore !== 0 && !Number.isNaN(byScore)) return byScore;
    return utilities[y]! - utilities[x]! || x - y;
  });
}
