import type { DuelingPolicy, SelectPairOptions } from "./policy";

/**
 * Forced exploration for best-arm identification (Even-Dar, Mannor & Mansour 2006, "Action elimination
 * and stopping conditions for the multi-armed bandit", §3: every arm is sampled before it can be ruled
 * out): until every arm has been in `minDuelsPerArm` duels (answered or pending), the least-covered
 * arm duels the inner policy's recommendation; afterwards the inner policy chooses alone.
 *
 * Why: a policy that generalises through features may never show an arm its model rates low (seen in
 * the simulator on 20-arm studies), and then no one can say the study found the best prompt.
 * The cost is ceil(n * minDuelsPerArm / 2) votes, paid first.
 */
export interface CoverageOptions {
  minDuelsPerArm: number;
}

export const COVERAGE_DEFAULTS: CoverageOptions = { minDuelsPerArm: 1 };

/**
 * Wraps `inner` so that every arm reaches minDuelsPerArm duels before the inner policy selects.
 * duels_i = #{answered or pending duels containing i}; challenger = argmin_i duels_i (lowest index on ties);
 * pair = (inner.recommend(), challenger), or (challenger, another under-covered arm) when they coincide.
 * Cost: O(L) per fit for L answered duels; per selectPair O(K + n) for K pending pairs, plus the inner policy's when covered.
 * Throws when minDuelsPerArm < 0.
 */
export function withCoverage(inner: DuelingPolicy, options: CoverageOptions = COVERAGE_DEFAULTS): DuelingPolicy {
  if (!(options.minDuelsPerArm >= 0)) throw new Error("withCoverage requires minDuelsPerArm >= 0");
  let armCount = inner.utilities().length;
  let hasHistory = false;
  // Duels per arm in the fitted history (counted once per fit; pending pairs are added per call).
  let answeredDuels = new Int32Array(armCount);
  return {
    name: inner.name,
    addArms(features) {
      inner.addArms(features);
      armCount += features.length;
      const grown = new Int32Array(armCount);
      grown.set(answeredDuels);
      answeredDuels = grown;
    },
    fit(history) {
      hasHistory = history.length > 0;
      answeredDuels = new Int32Array(armCount);
      for (const { a, b } of history) {
        answeredDuels[a]!++;
        answeredDuels[b]!++;
      }
      inner.fit(history);
    },
    selectPair(selection: SelectPairOptions): [number, number] {
      const duels = Int32Array.from(answeredDuels);
      for (const [a, b] of selection.pending ?? []) {
        if (a < armCount) duels[a]!++;
        if (b < armCount) duels[b]!++;
      }
      let challenger = -1;
      for (let i = 0; i < armCount; i++) {
        if (duels[i]! < options.minDuelsPerArm && (challenger < 0 || duels[i]! < duels[challenger]!)) challenger = i;
      }
      if (challenger < 0 || !hasHistory) return inner.selectPair(selection);
      let opponent = inner.recommend();
      if (opponent === challenger) {
        opponent = -1;
        for (let i = 0; i < armCount; i++) {
          if (i !== challenger && (opponent < 0 || duels[i]! < duels[opponent]!)) opponent = i;
        }
      }
      return [opponent, challenger];
    },
    // The coverage counts follow from the history, so only the inner policy has state to keep.
    ...(inner.saveState && inner.restoreState
      ? {
          saveState: () => inner.saveState!(),
          restoreState(state, history) {
            inner.restoreState!(state, history);
            hasHistory = history.length > 0;
            answeredDuels = new Int32Array(armCount);
            for (const { a, b } of history) {
              answeredDuels[a]!++;
              answeredDuels[b]!++;
            }
          },
        }
      : {}),
    recommend: () => inner.recommend(),
    utilities: () => inner.utilities(),
    uncertainties: () => inner.uncertainties(),
  };
}
