import type { CoverageOptions } from "./coverage";
import { withCoverage } from "./coverage";
import type { Duel, DuelingPolicy, PolicyName, PolicyOptions } from "./policy";
import { createPolicy } from "./policy";
import type { RandomSource } from "./random";
import { deriveSeed, mulberry32 } from "./random";

/**
 * What a study serves (docs/decisions/0006, 0008): the configured policy wrapped by coverage, refitted on the
 * full history, proposing a batch of pairs with the pairs already handed out counted as pending, from which each
 * request takes the first usable one. The app's engine worker and the simulator's `app` policy both run this
 * module, so the benchmark scores exactly what a study serves.
 */
export type Pair = [number, number];

/** What one engine update publishes. */
export interface Proposals {
  /** The next pairs, most wanted first; each later pick counts the earlier ones as pending. */
  pairs: Pair[];
  /** Votes the fit behind these proposals saw. */
  voteCount: number;
  /** Whether this update refitted the policy (false when only the pending pairs changed). */
  refitted: boolean;
}

export interface ServedUpdate {
  /** Votes since the previous update (the engine keeps the whole history). */
  newDuels: readonly Duel[];
  /** Pairs handed out and not yet answered. */
  pending: readonly (readonly [number, number])[];
  batchSize: number;
  /**
   * Called after each pick with the number picked so far; true ends the batch early (at least one pair is always
   * proposed). The app passes a time budget; the simulator passes nothing, so its batches depend only on the seed.
   */
  stop?: (picked: number) => boolean;
}

/**
 * How many pairs an update proposes for `pendingCount` open assignments: enough that every annotator who holds
 * one can get a fresh pair next, plus a margin for proposals found held or without a common ready query.
 * max(8, 2K + 4). Cost: O(1). Throws nothing.
 */
export function servedBatchSize(pendingCount: number): number {
  return Math.max(8, 2 * pendingCount + 4);
}

/**
 * Up to `batchSize` pairs from `policy`, each chosen with `pending` plus the pairs picked before it as pending
 * (hallucinated information, DESIGN §5.3), at most one per distinct pair count n(n-1)/2; `stop` may end it early.
 * Cost: batchSize x the policy's selectPair. Throws what selectPair throws.
 */
export function proposeBatch(
  policy: DuelingPolicy,
  armCount: number,
  {
    pending,
    batchSize,
    stop,
    random,
  }: { pending: readonly (readonly [number, number])[]; batchSize: number; stop?: (picked: number) => boolean; random: RandomSource },
): Pair[] {
  const withPicks = pending.map(([a, b]): [number, number] => [a, b]);
  const pairs: Pair[] = [];
  const distinctPairs = (armCount * (armCount - 1)) / 2;
  while (pairs.length < Math.min(batchSize, distinctPairs)) {
    const pair = policy.selectPair({ pending: withPicks, random });
    pairs.push(pair);
    withPicks.push(pair);
    if (stop?.(pairs.length)) break;
  }
  return pairs;
}

/** The rules a request applies to the proposals, in the app answered from SQLite, in the simulator from its state. */
export interface ClaimRules<P> {
  /** The duel this annotator just answered: skipped for them, left for others. */
  isOwnLastPair(pair: P): boolean;
  /** Not held by another annotator and answerable now (in the app: a query where both responses are ready). */
  isUsable(pair: P): boolean;
  /** Marks a proposal handed out or found unusable, so that no later request looks at it again. */
  retire(index: number): void;
}

/**
 * The proposal a request gets (docs/decisions/0006): the first open one, in the policy's order, that is not this
 * annotator's last duel and is usable; every proposal looked at on the way (except the own last duel) is retired.
 * Null when none is usable: the caller then falls back to a uniformly random pair (recorded as policy "random").
 * Cost: O(proposals) rule checks. Throws nothing itself.
 */
export function claimProposal<P>(open: Iterable<{ index: number; pair: P }>, rules: ClaimRules<P>): { index: number; pair: P } | null {
  for (const proposal of open) {
    if (rules.isOwnLastPair(proposal.pair)) continue;
    rules.retire(proposal.index);
    if (rules.isUsable(proposal.pair)) return proposal;
  }
  return null;
}

export interface ServedEngineOptions {
  policy: PolicyName | "default";
  /** Seeds the policy (stream 0) and its selection draws (stream 1); the app passes the study id. */
  seed: number;
  policyOptions?: PolicyOptions;
  coverage?: Partial<CoverageOptions>;
}

/**
 * A study's selection engine: withCoverage(policy), the vote history, and the update that refits (only when there
 * are new votes or new arms, or before the first fit) and proposes a batch. A class because it holds the policy
 * state between updates.
 */
export class ServedEngine {
  readonly policy: DuelingPolicy;
  private readonly selectionRandom: RandomSource;
  private readonly history: Duel[] = [];
  private armCount: number;
  private stale = true;

  constructor(features: Float64Array[], options: ServedEngineOptions) {
    // Every prompt is shown before the policy alone decides (bandit/coverage.ts; docs/decisions/0005).
    this.policy = withCoverage(
      createPolicy(options.policy, { features, random: mulberry32(deriveSeed(options.seed, 0)) }, options.policyOptions),
      options.coverage,
    );
    this.selectionRandom = mulberry32(deriveSeed(options.seed, 1));
    this.armCount = features.length;
  }

  /** New prompts join the pool (their indices follow the existing ones). Cost: the policy's addArms. */
  addArms(features: Float64Array[]): void {
    this.policy.addArms(features);
    this.armCount += features.length;
    this.stale = true;
  }

  /** The votes the engine holds, in order. */
  votes(): readonly Duel[] {
    return this.history;
  }

  /**
   * Appends the new votes and refits when anything changed since the last fit (new votes, new arms, or none yet);
   * returns whether it refitted. An update that only hands out a pair changes the pending set, not the fit.
   * Cost: one policy fit when refitting. Throws on invalid votes (the policy's message).
   */
  refit(newDuels: readonly Duel[]): boolean {
    if (newDuels.length > 0) {
      this.history.push(...newDuels);
      this.stale = true;
    }
    if (!this.stale) return false;
    this.policy.fit(this.history);
    this.stale = false;
    return true;
  }

  /** The next batch for the current fit (see proposeBatch). Cost: batchSize selections. */
  propose({ pending, batchSize, stop }: Omit<ServedUpdate, "newDuels">): Pair[] {
    return proposeBatch(this.policy, this.armCount, { pending, batchSize, stop, random: this.selectionRandom });
  }

  /** refit, then propose: one engine update. */
  update(update: ServedUpdate): Proposals {
    const refitted = this.refit(update.newDuels);
    return { pairs: this.propose(update), voteCount: this.history.length, refitted };
  }

  /**
   * The policy's recommendation, utilities, uncertainties and the scores its recommendation ranks by, after the last
   * update (for snapshots; the simulator reads only the recommendation). Cost: O(n h^2) for duet.
   */
  estimates(): { recommended: number; utilities: Float64Array; uncertainties: Float64Array; recommendationScores: Float64Array } {
    const utilities = this.policy.utilities();
    return {
      recommended: this.policy.recommend(),
      utilities,
      uncertainties: this.policy.uncertainties(),
      recommendationScores: this.policy.recommendationScores?.() ?? utilities,
    };
  }
}
