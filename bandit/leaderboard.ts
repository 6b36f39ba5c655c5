import { quantileSorted } from "simple-statistics";
import type { BradleyTerryOptions } from "./bradley-terry";
import { countPairs, fitBradleyTerry, fitBradleyTerryCounts, weightPairCounts } from "./bradley-terry";
import type { Duel } from "./policy";
import type { RandomSource } from "./random";
import { randomInt } from "./random";

/** Leaderboard statistics from raw votes, independent of the policy that chose the pairs (DESIGN §5.4). */
export interface LeaderboardRow {
  arm: number;
  /** Bradley–Terry score (ln strength; 0 = the prior's reference level). */
  score: number;
  /** 95% bootstrap interval of the score. */
  lower: number;
  upper: number;
  /** Share of bootstrap refits in which this arm has the top score. */
  probabilityBest: number;
  wins: number;
  losses: number;
  ties: number;
}

export interface Leaderboard {
  /** Sorted by score, best first. */
  rows: LeaderboardRow[];
  /** wins[i][j]: votes where i beat j (ties add 0.5 to both). */
  winMatrix: number[][];
  leftSide: LeftSideRate;
}

export interface LeftSideRate {
  leftWins: number;
  decisive: number;
  /** leftWins / decisive, or null without decisive votes. 0.5 means no position bias. */
  rate: number | null;
}

export interface LeaderboardOptions extends Pick<BradleyTerryOptions, "priorGames"> {
  random: RandomSource;
  /** Bootstrap resamples (default 200). */
  samples?: number;
}

/**
 * The win matrix: W[i][j] = number of votes where i beat j, ties adding 0.5 to both W[i][j] and W[j][i].
 * Cost: O(n^2 + V). Throws if a vote names an arm outside [0, armCount).
 */
export function winMatrix(armCount: number, votes: readonly Duel[]): number[][] {
  const matrix = Array.from({ length: armCount }, () => new Array<number>(armCount).fill(0));
  for (const { a, b, outcome } of votes) {
    if (a < 0 || b < 0 || a >= armCount || b >= armCount) throw new Error(`winMatrix requires arms in [0, ${armCount})`);
    matrix[a]![b] = matrix[a]![b]! + outcome;
    matrix[b]![a] = matrix[b]![a]! + 1 - outcome;
  }
  return matrix;
}

/**
 * Position bias: how often the left response (arm `a` of a vote) wins among decisive votes.
 * rate = #{outcome = 1} / #{outcome != 0.5}. Cost: O(V). Throws nothing.
 */
export function leftWinRate(votes: readonly Duel[]): LeftSideRate {
  let leftWins = 0;
  let decisive = 0;
  for (const { outcome } of votes) {
    if (outcome === 0.5) continue;
    decisive += 1;
    if (outcome === 1) leftWins += 1;
  }
  return { leftWins, decisive, rate: decisive > 0 ? leftWins / decisive : null };
}

/**
 * Nonparametric bootstrap over votes (Efron 1979): resample V votes with replacement `samples` times, refit BT
 * (warm-started at the full-data scores), and report per arm the 2.5% / 97.5% quantiles of its score and
 * P(best) = share of refits where it has the top score (ties at the top split the share).
 * Cost: O(samples * (V + iterations * (pairs + n))). Throws on invalid votes or samples < 1.
 */
export function bootstrapBradleyTerry(
  armCount: number,
  votes: readonly Duel[],
  options: LeaderboardOptions,
): { scores: Float64Array; lower: Float64Array; upper: Float64Array; probabilityBest: Float64Array } {
  const samples = options.samples ?? 200;
  if (!Number.isInteger(samples) || samples < 1) throw new Error("bootstrapBradleyTerry requires samples >= 1");
  const fitOptions = { priorGames: options.priorGames, tolerance: 1e-8 };
  const scores = fitBradleyTerry(armCount, votes, fitOptions);
  const draws = Array.from({ length: armCount }, () => new Float64Array(samples));
  const probabilityBest = new Float64Array(armCount);
  const multiplicity = new Float64Array(votes.length);
  // The pairs are built once; each resample only re-weights their counts.
  const counts = countPairs(armCount, votes);
  for (let s = 0; s < samples; s++) {
    multiplicity.fill(0);
    for (let v = 0; v < votes.length; v++) {
      const pick = randomInt(options.random, votes.length);
      multiplicity[pick] = multiplicity[pick]! + 1;
    }
    weightPairCounts(counts, votes, multiplicity);
    const resampled = fitBradleyTerryCounts(armCount, counts, {
      ...fitOptions,
      initialScores: scores,
    });
    let top = -Infinity;
    for (let i = 0; i < armCount; i++) {
      draws[i]![s] = resampled[i]!;
      top = Math.max(top, resampled[i]!);
    }
    let tiedAtTop = 0;
    for (let i = 0; i < armCount; i++) if (resampled[i]! >= top - 1e-9) tiedAtTop += 1;
    for (let i = 0; i < armCount; i++) {
      if (resampled[i]! >= top - 1e-9) probabilityBest[i] = probabilityBest[i]! + 1 / (tiedAtTop * samples);
    }
  }
  const lower = new Float64Array(armCount);
  const upper = new Float64Array(armCount);
  for (let i = 0; i < armCount; i++) {
    const sorted = Array.from(draws[i]!.sort());
    lower[i] = quantileSorted(sorted, 0.025);
    upper[i] = quantileSorted(sorted, 0.975);
  }
  return { scores, lower, upper, probabilityBest };
}

/**
 * The full leaderboard: BT scores with bootstrap intervals and P(best), win/loss/tie counts, the win matrix and
 * the left-side win rate. Cost: that of bootstrapBradleyTerry plus O(n^2). Throws if armCount < 1 or on invalid votes.
 */
export function computeLeaderboard(armCount: number, votes: readonly Duel[], options: LeaderboardOptions): Leaderboard {
  if (!Number.isInteger(armCount) || armCount < 1) throw new Error("computeLeaderboard requires at least one arm");
  const { scores, lower, upper, probabilityBest } = bootstrapBradleyTerry(armCount, votes, options);
  const wins = new Float64Array(armCount);
  const losses = new Float64Array(armCount);
  const ties = new Float64Array(armCount);
  for (const { a, b, outcome } of votes) {
    if (outcome === 0.5) {
      ties[a] = ties[a]! + 1;
      ties[b] = ties[b]! + 1;
    } else {
      const winner = outcome === 1 ? a : b;
      const loser = outcome === 1 ? b : a;
      wins[winner] = wins[winner]! + 1;
      losses[loser] = losses[loser]! + 1;
    }
  }
  const rows: LeaderboardRow[] = Array.from({ length: armCount }, (_, arm) => ({
    arm,
    score: scores[arm]!,
    lower: lower[arm]!,
    upper: upper[arm]!,
    probabilityBest: probabilityBest[arm]!,
    wins: wins[arm]!,
    losses: losses[arm]!,
    ties: ties[arm]!,
  }));
  rows.sort((x, y) => y.score - x.score || x.arm - y.arm);
  return { rows, winMatrix: winMatrix(armCount, votes), leftSide: leftWinRate(votes) };
}
