import { validateHistory } from "../duels";
import { validateFeatures } from "../features";
import { latestWinner, randomFreshPair } from "../pairs";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "../policy";

/**
 * APOHF's `random` baseline: a uniformly random pair each round; the recommendation is the latest winner.
 * Cost: O(1) per selection, O(L) per fit. Throws on invalid features or history.
 */
export function createRandomPolicy(context: PolicyContext): DuelingPolicy {
  validateFeatures("createRandomPolicy", context.features);
  const dimension = context.features[0]?.length;
  let armCount = context.features.length;
  let history: readonly Duel[] = [];
  return {
    name: "random",
    addArms(features: Float64Array[]) {
      validateFeatures("random.addArms", features, dimension);
      armCount += features.length;
    },
    fit(next: readonly Duel[]) {
      validateHistory("random.fit", next, armCount);
      history = next.slice();
    },
    selectPair({ pending, random }: SelectPairOptions): [number, number] {
      if (armCount < 2) throw new Error("random.selectPair requires at least two arms");
      return randomFreshPair(random, armCount, pending);
    },
    recommend: () => Math.max(0, latestWinner(history)),
    utilities() {
      const wins = new Float64Array(armCount);
      for (const duel of history) {
        wins[duel.a] = wins[duel.a]! + duel.outcome;
        wins[duel.b] = wins[duel.b]! + 1 - duel.outcome;
      }
      return wins;
    },
    uncertainties: () => new Float64Array(armCount).fill(Infinity),
  };
}
