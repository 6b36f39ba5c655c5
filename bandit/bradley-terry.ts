import { validateHistory } from "./duels";
import type { Duel } from "./policy";

/**
 * Bradley–Terry maximum-likelihood strengths from raw votes (Bradley & Terry 1952), fitted with the MM algorithm
 * of Hunter (2004, "MM algorithms for generalized Bradley–Terry models", §3):
 *   P(i beats j) = pi_i / (pi_i + pi_j), score_i = ln pi_i;
 *   pi_i <- W_i / sum_j n_ij / (pi_i + pi_j).
 * Ties count as half a win for each side. Regularisation: every arm also plays `priorGames` virtual ties against a
 * virtual arm of fixed strength 1 (score 0). That is a proper prior pulling scores towards 0, so an unbeaten (or
 * never-played) arm keeps a finite score, and the fit is unique even when the comparison graph is disconnected.
 */
export interface BradleyTerryOptions {
  /** Virtual ties per arm against the fixed reference arm (default 1; 0 gives the plain MLE, centred at mean 0). */
  priorGames?: number;
  maxIterations?: number;
  /** Stop when no ln pi_i moves by more than this. */
  tolerance?: number;
  /** Warm start (scores from an earlier fit). */
  initialScores?: Float64Array;
}

/** Votes aggregated by unordered pair: the sufficient statistics of the BT likelihood. */
export interface PairCounts {
  readonly first: Int32Array;
  readonly second: Int32Array;
  readonly games: Float64Array;
  /** Wins of `first` over `second` (ties count 0.5). */
  readonly firstWins: Float64Array;
  /** The pair slot of each vote, so the same votes can be re-weighted without rebuilding the pairs. */
  readonly pairOfVote: Int32Array;
}

/**
 * Aggregates votes into per-pair game and win counts.
 * Cost: O(V). Throws if a vote names an arm outside [0, armCount) or has a bad outcome.
 */
export function countPairs(armCount: number, votes: readonly Duel[]): PairCounts {
  validateHistory("countPairs", votes, armCount);
  const index = new Map<number, number>();
  const first: number[] = [];
  const second: number[] = [];
  const pairOfVote = new Int32Array(votes.length);
  for (let v = 0; v < votes.length; v++) {
    const { a, b } = votes[v]!;
    const low = Math.min(a, b);
    const high = Math.max(a, b);
    const key = low * armCount + high;
    let slot = index.get(key);
    if (slot === undefined) {
      slot = first.length;
      index.set(key, slot);
      first.push(low);
      second.push(high);
    }
    pairOfVote[v] = slot;
  }
  const counts = {
    first: Int32Array.from(first),
    second: Int32Array.from(second),
    games: new Float64Array(first.length),
    firstWins: new Float64Array(first.length),
    pairOfVote,
  };
  weightPairCounts(counts, votes);
  return counts;
}

/**
 * Refills `counts.games` and `counts.firstWins` from the same votes, each counted `weights[v]` times
 * (1 without weights): a bootstrap resample in O(V), with no validation and no pair lookup.
 * games_p = sum_{v in p} w_v; firstWins_p = sum_{v in p} w_v * (outcome for `first`).
 * Cost: O(V + pairs). Throws nothing (counts must come from countPairs on these votes).
 */
export function weightPairCounts(counts: PairCounts, votes: readonly Duel[], weights?: ArrayLike<number>): void {
  counts.games.fill(0);
  counts.firstWins.fill(0);
  for (let v = 0; v < votes.length; v++) {
    const weight = weights ? weights[v]! : 1;
    if (weight === 0) continue;
    const { a, outcome } = votes[v]!;
    const slot = counts.pairOfVote[v]!;
    counts.games[slot] = counts.games[slot]! + weight;
    counts.firstWins[slot] = counts.firstWins[slot]! + weight * (a === counts.first[slot] ? outcome : 1 - outcome);
  }
}

/**
 * Fits BT scores (ln pi) by MM iterations on aggregated pair counts; see the file comment for the model and prior.
 * Cost: O(iterations * (pairs + n)). Throws if armCount < 1 or priorGames < 0.
 */
export function fitBradleyTerryCounts(armCount: number, counts: PairCounts, options: BradleyTerryOptions = {}): Float64Array {
  if (!Number.isInteger(armCount) || armCount < 1) throw new Error("fitBradleyTerry requires at least one arm");
  const priorGames = options.priorGames ?? 1;
  if (!(priorGames >= 0)) throw new Error("fitBradleyTerry requires priorGames >= 0");
  const maxIterations = options.maxIterations ?? 10_000;
  const tolerance = options.tolerance ?? 1e-10;
  const wins = new Float64Array(armCount).fill(priorGames / 2);
  for (let p = 0; p < counts.first.length; p++) {
    const i = counts.first[p]!;
    const j = counts.second[p]!;
    wins[i] = wins[i]! + counts.firstWins[p]!;
    wins[j] = wins[j]! + counts.games[p]! - counts.firstWins[p]!;
  }
  const strength = new Float64Array(armCount).fill(1);
  if (options.initialScores) for (let i = 0; i < armCount; i++) strength[i] = Math.exp(options.initialScores[i] ?? 0);
  const denominator = new Float64Array(armCount);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    for (let i = 0; i < armCount; i++) denominator[i] = priorGames / (strength[i]! + 1);
    for (let p = 0; p < counts.first.length; p++) {
      const i = counts.first[p]!;
      const j = counts.second[p]!;
      const share = counts.games[p]! / (strength[i]! + strength[j]!);
      denominator[i] = denominator[i]! + share;
      denominator[j] = denominator[j]! + share;
    }
    let largestMove = 0;
    let logSum = 0;
    for (let i = 0; i < armCount; i++) {
      const next = denominator[i]! > 0 ? wins[i]! / denominator[i]! : strength[i]!;
      const bounded = Math.min(Math.max(next, 1e-300), 1e300);
      largestMove = Math.max(largestMove, Math.abs(Math.log(bounded) - Math.log(strength[i]!)));
      strength[i] = bounded;
      logSum += Math.log(bounded);
    }
    if (priorGames === 0) {
      // Without the anchor the likelihood is scale-free: fix the geometric mean at 1.
      const shift = Math.exp(-logSum / armCount);
      for (let i = 0; i < armCount; i++) strength[i] = strength[i]! * shift;
    }
    if (largestMove < tolerance) break;
  }
  return strength.map(Math.log);
}

/**
 * BT scores straight from votes: fitBradleyTerryCounts(countPairs(votes)).
 * Cost: O(V + iterations * (pairs + n)). Throws on invalid votes.
 */
export function fitBradleyTerry(armCount: number, votes: readonly Duel[], options: BradleyTerryOptions = {}): Float64Array {
  return fitBradleyTerryCounts(armCount, countPairs(armCount, votes), options);
}
