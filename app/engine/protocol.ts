import type { Duel, PolicyName } from "../../bandit/policy";

// Messages between the app (engine.server.ts) and a study's two worker threads (engine.worker.ts):
// the selection worker holds the policy (fit + next pairs, fast), the statistics worker computes
// the bootstrap leaderboard and the stopping rule (slow on big studies), so statistics never delay
// the pairs annotators get. Arms are indices into the feature list; the app maps them to prompt ids.

export type ToWorker =
  | { type: "init"; policy: PolicyName | "default"; seed: number; features: Float64Array[] }
  | { type: "addArms"; features: Float64Array[] }
  | {
      type: "select";
      requestId: number;
      /** Votes since the previous message: each worker keeps the whole history itself. */
      newDuels: Duel[];
      /** Pairs handed out and not yet answered. */
      pending: [number, number][];
      /** At most this many distinct next pairs... */
      batchSize: number;
      /** ...chosen within this time (at least one pair): selection cost grows with the pool. */
      budgetMs: number;
    }
  | { type: "stats"; requestId: number; armCount: number; newDuels: Duel[]; recommended: number; seed: number };

export interface SelectionState {
  type: "selection";
  requestId: number;
  voteCount: number;
  /** Next pairs in the order the policy wants them answered. */
  pairs: [number, number][];
  recommended: number;
  utilities: Float64Array;
  uncertainties: Float64Array;
  /**
   * Per arm, what the recommendation ranks by (duet: a lower confidence bound on the utility; -Infinity for prompts
   * in no duel). With the raw-vote Bradley–Terry scores it lets the dashboard say why the two disagree.
   */
  recommendationScores: Float64Array;
  fitMs: number;
  selectMs: number;
}

export interface ArmStats {
  arm: number;
  score: number;
  lower: number;
  upper: number;
  probabilityBest: number;
}

export interface StatisticsState {
  type: "statistics";
  requestId: number;
  voteCount: number;
  arms: ArmStats[];
  leftWinRate: number | null;
  converged: boolean;
  /** Rough votes still needed before the stopping rule can fire (null when converged or unknown). */
  votesStillNeeded: number | null;
  statsMs: number;
}

export type FromWorker = SelectionState | StatisticsState | { type: "error"; message: string };
