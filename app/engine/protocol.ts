import type { PolicyName, PolicyState } from "../../bandit/policy";
import type { AnnotatedDuel, VoteModel } from "../../bandit/served";

// Messages between the app's engine host (study-engine.server.ts, through worker-pool.server.ts) and
// the shared engine threads (engine.worker.ts). One thread hosts many studies, keyed by studyId; a
// study's selection state (the policy: fit + next pairs, fast) and its statistics state (bootstrap
// leaderboard and stopping rule, slow on big studies) may sit on different threads, so statistics
// never delay the pairs annotators get. Arms are indices into the feature list; the app maps them to
// prompt ids. Messages cross by structured clone, which copies typed arrays and Maps as they are.

export type ToWorker =
  | {
      type: "init";
      studyId: number;
      policy: PolicyName | "default";
      seed: number;
      features: Float64Array[];
      /** Per arm, 1 when it is in selection (0: disabled by an owner or retired by the rule). */
      inSelection: Uint8Array;
      /**
       * The policy's state saved when this study's engine was last stopped, with the duels it had been
       * fitted on (the first `history.length` duels of the study): the engine resumes exactly there.
       */
      resume?: { state: PolicyState; history: AnnotatedDuel[] };
      /** The vote model of the latest stored reliability fit (docs/decisions/0044, 0048); absent = every vote at 1, no side term. */
      voteModel?: VoteModel;
    }
  | { type: "addArms"; studyId: number; features: Float64Array[]; inSelection: Uint8Array }
  /** Which arms are in selection now (an owner disabled or enabled a prompt, or the rule retired one). */
  | { type: "setInSelection"; studyId: number; inSelection: Uint8Array }
  /** A new reliability fit was stored: how every vote, past ones included, is read from the next refit on (ADR 0044, 0048). */
  | { type: "setVoteModel"; studyId: number; voteModel: VoteModel }
  | {
      type: "select";
      studyId: number;
      requestId: number;
      /** Votes since the previous message, with who cast each: each thread keeps the study's whole history itself. */
      newDuels: AnnotatedDuel[];
      /** Pairs handed out and not yet answered. */
      pending: [number, number][];
      /** At most this many distinct next pairs... */
      batchSize: number;
      /** ...chosen within this time (at least one pair): selection cost grows with the pool. */
      budgetMs: number;
      /** ...but at least this many, whatever the time (the batch size permitting). */
      minPairs: number;
      /**
       * Proposals for requests to take while a refit runs, asked for just before it (without new votes, so on the
       * current fit); echoed in the answer (ADR 0049).
       */
      interim: boolean;
    }
  | { type: "stats"; studyId: number; requestId: number; armCount: number; newDuels: AnnotatedDuel[]; recommended: number; seed: number }
  /** Forget the study (its engine stopped); with `save`, answer with the policy's state first. */
  | { type: "unload"; studyId: number; save: boolean };

export interface SelectionState {
  type: "selection";
  studyId: number;
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
  /** The answer to an interim select: the refit's own selection follows. */
  interim: boolean;
}

export interface ArmStats {
  arm: number;
  score: number;
  lower: number;
  upper: number;
  probabilityBest: number;
  /** Votes the arm took part in: wins + losses + ties (both-bad counts as a tie). */
  comparisons?: number;
}

export interface StatisticsState {
  type: "statistics";
  studyId: number;
  requestId: number;
  voteCount: number;
  arms: ArmStats[];
  leftWinRate: number | null;
  converged: boolean;
  /** Rough votes still needed before the stopping rule can fire (null when converged or unknown). */
  votesStillNeeded: number | null;
  statsMs: number;
}

/** The answer to an unload with save: the policy's state and how many duels and arms it covers (null when the policy cannot save). */
export interface UnloadedState {
  type: "unloaded";
  studyId: number;
  saved: { state: PolicyState; voteCount: number; armCount: number } | null;
}

export type FromWorker = SelectionState | StatisticsState | UnloadedState | { type: "error"; studyId: number; message: string };
