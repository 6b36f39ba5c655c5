import { duelCounts } from "./pairs";
import type { Duel, DuelingPolicy, SelectPairOptions } from "./policy";

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
  /**
   * Which under-covered arm comes next: "index" = the least covered, lowest index first; "policy" = the one the
   * inner policy would pick to duel its recommendation (when it can say: selectChallenger), least covered first.
   */
  order: "index" | "policy";
  /**
   * A coverage pair is every period-th pick (counting answered and pending duels), the inner policy's the others:
   * 1 covers first, 2 alternates. Studies of at most smallStudyArms arms always cover first. 4 by default: every other
   * pick spent half of a large study's votes on first looks, most at noisy annotators' cost (docs/decisions/0053).
   */
  period: number;
  smallStudyArms: number;
}

export const COVERAGE_DEFAULTS: CoverageOptions = { minDuelsPerArm: 1, order: "index", period: 4, smallStudyArms: 30 };

/**
 * Wraps `inner` so that every arm reaches minDuelsPerArm duels before the inner policy selects.
 * duels_i = #{answered or pending duels containing i}; challenger = argmin_i duels_i (lowest index on ties);
 * pair = (inner.recommend(), challenger), or (challenger, another under-covered arm) when they coincide.
 * Cost: O(L) per fit for L answered duels; per selectPair O(K + n) for K pending pairs, plus the inner policy's when covered.
 * Throws when minDuelsPerArm < 0.
 */
export function withCoverage(inner: DuelingPolicy, overrides: Partial<CoverageOptions> = {}): DuelingPolicy {
  const options = { ...COVERAGE_DEFAULTS, ...overrides };
  if (!(options.minDuelsPerArm >= 0)) throw new Error("withCoverage requires minDuelsPerArm >= 0");
  if (!Number.isInteger(options.period) || options.period < 1) throw new Error("withCoverage requires an integer period >= 1");
  let armCount = inner.utilities().length;
  let hasHistory = false;
  // Duels per arm in the fitted history (counted once per fit; pending pairs are added per call).
  let answeredDuels = new Int32Array(armCount);
  let answeredCount = 0;
  // What fit (and restoreState) learn from the history: whether there is one, its length and duels per arm.
  const countAnswered = (history: readonly Duel[]) => {
    hasHistory = history.length > 0;
    answeredCount = history.length;
    answeredDuels = duelCounts(history, armCount);
  };
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
      countAnswered(history);
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
      const pick = answeredCount + (selection.pending?.length ?? 0);
      const period = armCount <= options.smallStudyArms ? 1 : options.period;
      if (challenger < 0 || !hasHistory || pick % period !== 0) return inner.selectPair(selection);
      let opponent = inner.recommend();
      if (options.order === "policy" && inner.selectChallenger) {
        const candidates = Uint8Array.from(duels, (count, i) => (count === duels[challenger]! && i !== opponent ? 1 : 0));
        const chosen = inner.selectChallenger({ ...selection, leader: opponent, candidates });
        if (chosen >= 0) return [opponent, chosen];
      }
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
            countAnswered(history);
          },
        }
      : {}),
    recommend: () => inner.recommend(),
    ...(inner.recommendationScores ? { recommendationScores: () => inner.recommendationScores!() } : {}),
    utilities: () => inner.utilities(),
    uncertainties: () => inner.uncertainties(),
  };
}
