import type { Duel, PolicyName } from "../../bandit/policy";

// Messages between the app (engine.server.ts) and one study's engine worker (engine.worker.ts).
// Arms are indices into the worker's feature list; the app maps them to prompt ids.

export type ToWorker =
  | { type: "init"; policy: PolicyName | "default"; seed: number; features: Float64Array[] }
  | { type: "addArms"; features: Float64Array[] }
  | {
      type: "update";
      requestId: number;
      history: Duel[];
      /** Pairs handed out and not yet answered. */
      pending: [number, number][];
      /** How many distinct next pairs to propose. */
      batchSize: number;
      /** Also recompute the (slower) leaderboard statistics. */
      withLeaderboard: boolean;
    };

export interface ArmStats {
  arm: number;
  score: number;
  lower: number;
  upper: number;
  probabilityBest: number;
}

export interface SelectionState {
  type: "selection";
  requestId: number;
  voteCount: number;
  /** Next pairs in the order the policy wants them answered. */
  pairs: [number, number][];
  recommended: number;
  utilities: Float64Array;
  uncertainties: Float64Array;
  fitMs: number;
}

export interface LeaderboardState {
  type: "leaderboard";
  requestId: number;
  voteCount: number;
  arms: ArmStats[];
  leftWinRate: number | null;
  converged: boolean;
  /** Rough votes still needed before the stopping rule can fire (null when converged or unknown). */
  votesStillNeeded: number | null;
  statsMs: number;
}

export type FromWorker = SelectionState | LeaderboardState | { type: "error"; message: string };
