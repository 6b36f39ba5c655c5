import { validateHistory } from "../duels";
import { validateFeatures } from "../features";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "../policy";
import type { RandomSource } from "../random";
import { randomInt, sampleBeta } from "../random";

/**
 * Settings of classical Double Thompson Sampling (Wu & Liu 2016, "Double Thompson Sampling for Dueling
 * Bandits", NeurIPS, Algorithm 1), the selection rule of the Prompt Duel Optimizer (Meta 2025).
 */
export interface DtsOptions {
  /** Confidence exponent of the RUCB-style bounds, alpha > 1/2 (the paper's experiments use 0.51). */
  alpha: number;
  /** Beta sampler; injectable so that a test can replace the draws by known values. */
  sampleBeta: (random: RandomSource, a: number, b: number) => number;
}

export const DTS_DEFAULTS: DtsOptions = { alpha: 0.51, sampleBeta };

/** Bounds of one ordered pair (i, j) from the win counts, with the paper's convention x/0 := 1. */
function bounds(wins: number, losses: number, logT: number, alpha: number): { upper: number; lower: number } {
  const n = wins + losses;
  if (n === 0) return { upper: 2, lower: 0 };
  const mean = wins / n;
  const width = Math.sqrt((alpha * logT) / n);
  return { upper: mean + width, lower: mean - width };
}

/**
 * `dts`: Double Thompson Sampling on the pairwise win counts, no features. With w_ij the wins of i over j
 * (a tie counts half to each) and t the number of the coming comparison:
 * - u_ij = w_ij/n_ij + sqrt(alpha ln t / n_ij), l_ij = w_ij/n_ij - sqrt(alpha ln t / n_ij), n_ij = w_ij + w_ji,
 *   x/0 := 1 (an unseen pair has u = 2, l = 0), u_ii = l_ii = 1/2;
 * - upper Copeland scores C_i = #{j != i : u_ij > 1/2}; candidates = argmax_i C_i;
 * - first arm: theta_ij ~ Beta(w_ij + 1, w_ji + 1) for i < j, theta_ji = 1 - theta_ij;
 *   a1 = argmax over candidates of #{j != i : theta_ij > 1/2}, ties broken uniformly;
 * - second arm: theta2_i ~ Beta(w_{i,a1} + 1, w_{a1,i} + 1); a2 = argmax over {i : l_{i,a1} <= 1/2} of theta2_i.
 * One deviation: the paper lets a2 = a1 (theta2_{a1} = 1/2), a self-duel that is no question to a person; here
 * a2 ranges over i != a1 only, and over every i != a1 when no other arm passes the bound.
 * Recommendation (the paper minimises cumulative regret and names none): the empirical Copeland winner among
 * arms in a duel, #{j : n_ij > 0, w_ij > w_ji}, ties by net wins, then the lowest index. Pending pairs are
 * ignored, as in the paper.
 * Cost: O(n^2) per selection (one uniform draw per unseen pair, one Beta draw per seen pair), O(L + n^2) per fit.
 * Throws on invalid features or history.
 */
export function createDtsPolicy(context: PolicyContext, options: Partial<DtsOptions> = {}): DuelingPolicy {
  const settings = { ...DTS_DEFAULTS, ...options };
  if (!(settings.alpha > 0.5)) throw new Error("createDtsPolicy requires alpha > 1/2");
  validateFeatures("createDtsPolicy", context.features);
  const dimension = context.features[0]?.length;
  let armCount = context.features.length;
  // wins[i * armCount + j] = w_ij.
  let wins = new Float64Array(armCount * armCount);
  let comparisons = 0;

  const win = (i: number, j: number) => wins[i * armCount + j]!;

  return {
    name: "dts",
    addArms(features: Float64Array[]) {
      validateFeatures("dts.addArms", features, dimension);
      armCount += features.length;
      wins = new Float64Array(armCount * armCount);
    },
    fit(history: readonly Duel[]) {
      validateHistory("dts.fit", history, armCount);
      wins = new Float64Array(armCount * armCount);
      for (const { a, b, outcome } of history) {
        wins[a * armCount + b] = wins[a * armCount + b]! + outcome;
        wins[b * armCount + a] = wins[b * armCount + a]! + 1 - outcome;
      }
      comparisons = history.length;
    },
    selectPair({ random }: SelectPairOptions): [number, number] {
      if (armCount < 2) throw new Error("dts.selectPair requires at least two arms");
      const n = armCount;
      const logT = Math.log(comparisons + 1);
      const upperCopeland = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j !== i && bounds(win(i, j), win(j, i), logT, settings.alpha).upper > 0.5) upperCopeland[i]!++;
        }
      }
      const top = Math.max(...upperCopeland);
      const candidate = Uint8Array.from(upperCopeland, (score) => (score === top ? 1 : 0));
      // theta_ij for every pair that touches a candidate (the only ones the argmax reads).
      const sampledCopeland = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          if (!candidate[i] && !candidate[j]) continue;
          const theta = settings.sampleBeta(random, win(i, j) + 1, win(j, i) + 1);
          if (theta > 0.5) sampledCopeland[i]!++;
          else if (theta < 0.5) sampledCopeland[j]!++;
        }
      }
      const first = uniformArgmax(n, (i) => (candidate[i] ? sampledCopeland[i]! : -1), random);
      let second = -1;
      let secondScore = -Infinity;
      let fallback = -1;
      let fallbackScore = -Infinity;
      for (let i = 0; i < n; i++) {
        if (i === first) continue;
        const theta = settings.sampleBeta(random, win(i, first) + 1, win(first, i) + 1);
        if (theta > fallbackScore) {
          fallbackScore = theta;
          fallback = i;
        }
        if (bounds(win(i, first), win(first, i), logT, settings.alpha).lower <= 0.5 && theta > secondScore) {
          secondScore = theta;
          second = i;
        }
      }
      return [first, second >= 0 ? second : fallback];
    },
    recommend() {
      let best = -1;
      let bestCopeland = -1;
      let bestNet = -Infinity;
      for (let i = 0; i < armCount; i++) {
        let copeland = 0;
        let net = 0;
        let played = false;
        for (let j = 0; j < armCount; j++) {
          if (j === i) continue;
          const w = win(i, j);
          const l = win(j, i);
          if (w + l === 0) continue;
          played = true;
          if (w > l) copeland += 1;
          net += w - l;
        }
        if (!played) continue;
        if (copeland > bestCopeland || (copeland === bestCopeland && net > bestNet)) {
          best = i;
          bestCopeland = copeland;
          bestNet = net;
        }
      }
      return Math.max(0, best);
    },
    utilities() {
      // Net wins per arm: what the recommendation ranks by after the Copeland score.
      return Float64Array.from({ length: armCount }, (_, i) => {
        let net = 0;
        for (let j = 0; j < armCount; j++) if (j !== i) net += win(i, j) - win(j, i);
        return net;
      });
    },
    uncertainties: () => new Float64Array(armCount).fill(Infinity),
  };
}

/** argmax_i score(i) over i in [0, n), ties broken uniformly at random (one draw). */
function uniformArgmax(n: number, score: (i: number) => number, random: RandomSource): number {
  let best = -Infinity;
  const ties: number[] = [];
  for (let i = 0; i < n; i++) {
    const value = score(i);
    if (value > best) {
      best = value;
      ties.length = 0;
      ties.push(i);
    } else if (value === best) {
      ties.push(i);
    }
  }
  return ties.length === 1 ? ties[0]! : ties[randomInt(random, ties.length)]!;
}
