import { validateHistory } from "../duels";
import { validateFeatures } from "../features";
import { isPendingPair, randomFreshPair } from "../pairs";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "../policy";
import { randomInt } from "../random";

/**
 * `champion`, king of the hill (shared/bench/reference/README.md): the current winner duels a uniformly random
 * challenger not yet seen in this pass over the arms; the winner stays and is the recommendation; a tie keeps the
 * champion. Uses no features. State is rebuilt from the full history on every fit.
 * Cost: O(L + n) per fit and per selection. Throws on invalid history or fewer than two arms.
 */
export function createChampionPolicy(context: PolicyContext): DuelingPolicy {
  validateFeatures("createChampionPolicy", context.features);
  const dimension = context.features[0]?.length;
  let armCount = context.features.length;
  let champion = -1;
  let seenThisPass = new Uint8Array(armCount);
  let seenCount = 0;
  let reigns = new Float64Array(armCount);

  const markSeen = (arm: number) => {
    if (seenThisPass[arm]) return;
    seenThisPass[arm] = 1;
    seenCount += 1;
  };

  return {
    name: "champion",
    addArms(features: Float64Array[]) {
      validateFeatures("champion.addArms", features, dimension);
      armCount += features.length;
      const grown = new Uint8Array(armCount);
      grown.set(seenThisPass);
      seenThisPass = grown;
      const grownReigns = new Float64Array(armCount);
      grownReigns.set(reigns);
      reigns = grownReigns;
    },
    fit(history: readonly Duel[]) {
      validateHistory("champion.fit", history, armCount);
      champion = -1;
      seenThisPass = new Uint8Array(armCount);
      seenCount = 0;
      reigns = new Float64Array(armCount);
      for (const duel of history) {
        if (seenCount >= armCount) {
          seenThisPass.fill(0);
          seenCount = 0;
        }
        markSeen(duel.a);
        markSeen(duel.b);
        const defender = champion === duel.b ? duel.b : duel.a;
        const winner = duel.outcome === 1 ? duel.a : duel.outcome === 0 ? duel.b : defender;
        champion = winner;
        reigns[winner] = reigns[winner]! + 1;
      }
    },
    selectPair({ pending, random }: SelectPairOptions): [number, number] {
      if (armCount < 2) throw new Error("champion.selectPair requires at least two arms");
      if (champion < 0) return randomFreshPair(random, armCount, pending);
      const candidates: number[] = [];
      for (let i = 0; i < armCount; i++) {
        if (i !== champion && !seenThisPass[i] && !isPendingPair(champion, i, pending)) candidates.push(i);
      }
      if (candidates.length === 0) {
        for (let i = 0; i < armCount; i++) if (i !== champion && !isPendingPair(champion, i, pending)) candidates.push(i);
      }
      if (candidates.length === 0) return randomFreshPair(random, armCount, pending);
      return [champion, candidates[randomInt(random, candidates.length)]!];
    },
    recommend: () => Math.max(0, champion),
    utilities: () => Float64Array.from(reigns),
    uncertainties: () => new Float64Array(armCount).fill(Infinity),
  };
}
