import { createApohfPolicy } from "./apohf";
import type { ApohfOptions } from "./apohf";
import { createChampionPolicy } from "./baselines/champion";
import { createDoubleThompsonPolicy } from "./baselines/doublets";
import type { DoubleThompsonOptions } from "./baselines/doublets";
import { createLinearPolicy } from "./baselines/linear";
import { createRandomPolicy } from "./baselines/random";
import { createDtsPolicy } from "./baselines/dts";
import type { DtsOptions } from "./baselines/dts";
import { createDuetPolicy } from "./duet";
import type { DuetOptions } from "./duet";
import type { RandomSource } from "./random";

/** 1: arm a preferred, 0: arm b preferred, 0.5: tie / both bad. */
export type Outcome = 1 | 0 | 0.5;

/** One answered comparison. In the app, `a` is the response shown on the left. */
export interface Duel {
  a: number;
  b: number;
  outcome: Outcome;
  /**
   * The logit scale of this vote in the likelihood (docs/decisions/0044): P(a beats b) = sigmoid(scale (u_a - u_b)).
   * Absent = 1 (a vote as the crowd's); 0 says nothing; negative counts the vote reversed. The served engine sets it
   * from the annotator's normalised reliability (quality/duel-scales.ts). The BTL trainers (duet, apohf, linear) and
   * duet's information and vote record use it; the count-based baselines and the Bradley–Terry leaderboard do not.
   */
  scale?: number;
  /**
   * A logit offset of this vote (docs/decisions/0048): P(a beats b) = sigmoid(scale (u_a - u_b) + offset). Absent = 0.
   * The served engine sets it to the side term +-gamma of the crowd fit (the pull of the left response), so a vote
   * won on the favoured side says less than one won against it. Read where `scale` is.
   */
  offset?: number;
}

export interface PolicyContext {
  /** One unit-norm row per arm. */
  features: Float64Array[];
  /** Seeds the policy's own randomness (initial weights, projections). */
  random: RandomSource;
}

export interface SelectPairOptions {
  /** Pairs handed out and not yet answered (DESIGN §4.4, §5.3). */
  pending?: readonly (readonly [number, number])[];
  random: RandomSource;
}

/** The one interface the simulator and the app use for every policy (mabwiser's fit / predict split). */
export interface DuelingPolicy {
  readonly name: string;
  /** Growing pool: new arms join mid-study; their indices follow the existing ones. */
  addArms(features: Float64Array[]): void;
  /** Full history each time (votes are the truth); a policy may warm-start internally. */
  fit(history: readonly Duel[]): void;
  selectPair(options: SelectPairOptions): [number, number];
  /**
   * Optional: the arm this policy would pick to duel `leader` among those marked in `candidates`, or -1 (coverage
   * asks it to order the under-covered arms).
   */
  selectChallenger?(options: SelectPairOptions & { leader: number; candidates: Uint8Array }): number;
  /** Index of the arm the policy currently believes best. */
  recommend(): number;
  /** Current utility estimate per arm. */
  utilities(): Float64Array;
  /** Per-arm uncertainty (sigma, same units as utilities) for the leaderboard. */
  uncertainties(): Float64Array;
  /**
   * Optional: what the policy learned by its last fit (numbers and typed arrays, copied), so an app
   * that stops the policy to free memory can later resume it exactly; features and history are not
   * part of it (the caller keeps those).
   */
  saveState?(): PolicyState;
  /**
   * Optional: puts back a saveState() taken right after fit(history), on a policy built with the same
   * features, options and random source: afterwards it behaves exactly as the saved one did. Throws
   * when the state does not fit this policy.
   */
  restoreState?(state: PolicyState, history: readonly Duel[]): void;
  /**
   * Optional: per arm, the score the recommendation ranks by (-Infinity where an arm cannot be recommended), when it
   * is not the utility (duet ranks by a lower confidence bound). Lets the app explain a recommendation.
   */
  recommendationScores?(): Float64Array;
}

/** A policy's learned state as saveState returns it: named numbers and typed arrays. */
export type PolicyState = Record<string, number | Float64Array>;

/** Every policy name; `duet` is the default. */
export const POLICY_NAMES = ["duet", "apohf", "random", "linear", "doublets", "champion", "dts"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];
export const DEFAULT_POLICY: PolicyName = "duet";

export interface PolicyOptions {
  duet?: Partial<DuetOptions>;
  apohf?: Partial<ApohfOptions>;
  linear?: Partial<ApohfOptions>;
  doublets?: Partial<DoubleThompsonOptions>;
  dts?: Partial<DtsOptions>;
}

/**
 * True when `name` is a policy name or "default".
 * Cost: O(number of policies). Throws nothing.
 */
export function isPolicyName(name: string): name is PolicyName | "default" {
  return name === "default" || (POLICY_NAMES as readonly string[]).includes(name);
}

/**
 * Builds a policy by name ("default" maps to DEFAULT_POLICY).
 * Cost: that of the policy's constructor (O(n d) to copy and check features). Throws on an unknown name
 * or invalid features.
 */
export function createPolicy(name: PolicyName | "default", context: PolicyContext, options: PolicyOptions = {}): DuelingPolicy {
  const resolved = name === "default" ? DEFAULT_POLICY : name;
  switch (resolved) {
    case "duet":
      return createDuetPolicy(context, options.duet);
    case "apohf":
      return createApohfPolicy(context, options.apohf);
    case "linear":
      return createLinearPolicy(context, options.linear);
    case "doublets":
      return createDoubleThompsonPolicy(context, options.doublets);
    case "random":
      return createRandomPolicy(context);
    case "champion":
      return createChampionPolicy(context);
    case "dts":
      return createDtsPolicy(context, options.dts);
    default:
      throw new Error(`createPolicy: unknown policy "${String(name)}"; expected one of ${POLICY_NAMES.join(", ")} or default`);
  }
}
