import type { CoverageOptions } from "./coverage";
import { withCoverage } from "./coverage";
import type { Duel, DuelingPolicy, PolicyName, PolicyOptions, PolicyState } from "./policy";
import { createPolicy } from "./policy";
import type { RandomSource } from "./random";
import { deriveSeed, mulberry32 } from "./random";

/**
 * What a study serves (docs/decisions/0006, 0016): the configured policy wrapped by coverage, refitted on the
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
  /**
   * Usable by anyone now: not held by another annotator and answerable (in the app: both prompts enabled and a query
   * where both responses are ready). An unusable proposal is retired.
   */
  isUsable(pair: P): boolean;
  /**
   * Optional: this annotator has already answered the pair on every usable query (the app's fresh-pairs rule): skipped
   * for them and left for others. The simulator has no queries, so every pair is fresh to every annotator there.
   */
  isAnsweredBy?(pair: P): boolean;
  /** Marks a proposal handed out or found unusable, so that no later request looks at it again. */
  retire(index: number): void;
}

/**
 * The proposal a request gets (docs/decisions/0006): the first open one, in the policy's order, that is not this
 * annotator's last duel, is usable and is not already answered by them; it is retired (handed out), and so is every
 * unusable proposal looked at on the way, while those skipped for this annotator only stay open for others.
 * Null when none is left: the caller then falls back to a uniformly random pair (recorded as policy "random").
 * Cost: O(proposals) rule checks. Throws nothing itself.
 */
export function claimProposal<P>(open: Iterable<{ index: number; pair: P }>, rules: ClaimRules<P>): { index: number; pair: P } | null {
  for (const proposal of open) {
    if (rules.isOwnLastPair(proposal.pair)) continue;
    if (!rules.isUsable(proposal.pair)) {
      rules.retire(proposal.index);
      continue;
    }
    if (rules.isAnsweredBy?.(proposal.pair)) continue;
    rules.retire(proposal.index);
    return proposal;
  }
  return null;
}

export interface ServedEngineOptions {
  policy: PolicyName | "default";
  /**
   * Seeds the policy (stream 0) and its selection draws (stream 1, one per vote count); the app passes the study id.
   */
  seed: number;
  policyOptions?: PolicyOptions;
  coverage?: Partial<CoverageOptions>;
  /**
   * A state saved by saveState() with the duels it had been fitted on: the engine resumes exactly there. A state the
   * policy refuses (saved by another version of it) is dropped, and the next update learns again from the votes.
   */
  resume?: { state: PolicyState; history: readonly Duel[] };
}

/** What saveState() returns: the policy's state and how many duels and arms it covers. */
export interface SavedEngine {
  state: PolicyState;
  voteCount: number;
  armCount: number;
}

/**
 * A study's selection engine: withCoverage(policy), the vote history, and the update that refits (only when there
 * are new votes or new arms, or before the first fit) and proposes a batch. Each batch draws from its own random
 * stream, seeded by (seed, vote count), so the pairs depend on the votes and the pending pairs only: an engine
 * stopped and resumed (saveState / resume) proposes what the one that never stopped would have. A class because it
 * holds the policy state between updates.
 */
export class ServedEngine {
  readonly policy: DuelingPolicy;
  /** Whether the constructor put back a saved state (false without one or when the policy refused it). */
  readonly resumed: boolean;
  private readonly seed: number;
  private readonly history: Duel[];
  private armCount: number;
  private stale = true;

  constructor(features: Float64Array[], options: ServedEngineOptions) {
    // Every prompt is shown before the policy alone decides (bandit/coverage.ts; docs/decisions/0005).
    const build = () =>
      withCoverage(
        createPolicy(options.policy, { features, random: mulberry32(deriveSeed(options.seed, 0)) }, options.policyOptions),
        options.coverage,
      );
    let policy = build();
    let resumed = false;
    if (options.resume && policy.restoreState) {
      try {
        policy.restoreState(options.resume.state, options.resume.history);
        resumed = true;
      } catch {
        policy = build();
      }
    }
    this.policy = policy;
    this.resumed = resumed;
    this.stale = !resumed;
    this.seed = options.seed;
    this.history = options.resume ? [...options.resume.history] : [];
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

  /** The next batch for the current fit (see proposeBatch), drawn from the stream of this vote count. Cost: batchSize selections. */
  propose({ pending, batchSize, stop }: Omit<ServedUpdate, "newDuels">): Pair[] {
    const random = mulberry32(deriveSeed(this.seed, 1, this.history.length));
    return proposeBatch(this.policy, this.armCount, { pending, batchSize, stop, random });
  }

  /** refit, then propose: one engine update. */
  update(update: ServedUpdate): Proposals {
    const refitted = this.refit(update.newDuels);
    return { pairs: this.propose(update), voteCount: this.history.length, refitted };
  }

  /**
   * The policy's state after its last fit, to resume from later (ServedEngineOptions.resume with votes().slice()); null
   * when the policy cannot save or has not been fitted on everything it holds (votes or arms since). Cost: O(state).
   */
  saveState(): SavedEngine | null {
    if (this.stale || !this.policy.saveState) return null;
    return { state: this.policy.saveState(), voteCount: this.history.length, armCount: this.armCount };
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
