import type { Duel, Outcome, PolicyOptions } from "./policy";
import { isPendingPair } from "./pairs";
import type { RandomSource } from "./random";
import { deriveSeed, mulberry32, randomDistinctPair } from "./random";
import type { Pair } from "./served";
import { claimProposal, ServedEngine, servedBatchSize } from "./served";
import { rankLeaders } from "./neighbour-reveal";

export interface SimulatedStudyOptions {
  /** Seeds the served engine (what a study's id is in the app). */
  engineSeed: number;
  /** Seeds the warm-up pairs (stream 0) and the random fallback (stream 1). */
  seed: number;
  /** Uniformly random distinct pairs before the engine chooses (5 in the bench protocol). */
  warmupPairs: number;
  policyOptions?: PolicyOptions;
}

/**
 * A study of one annotator served by the served engine (bandit/served.ts, the simulator's `app`), over a pool that is
 * a growing subset of a scenario's arms: `arms[local]` is the scenario index of the study's local arm, in the order
 * the arms joined (the engine's indices). Each request claims the first usable proposal of the latest batch (else a
 * random pair that is not the annotator's last duel), each vote refits and proposes, and addArms joins new arms to the
 * running engine exactly as the app's engine worker does (ServedEngine.addArms, then a refit at the next update).
 * With one annotator the app's update after a hand-out is never read (the vote's update replaces it before the next
 * request), so it is skipped, and only the first two pairs of each batch can be served (see update). A class because it holds the engine and the open proposals between votes.
 */
export class SimulatedStudy {
  readonly engine: ServedEngine;
  readonly arms: number[];
  private readonly features: readonly Float64Array[];
  private readonly warmupRandom: RandomSource;
  private readonly fallbackRandom: RandomSource;
  private readonly warmupPairs: number;
  private proposals: Pair[] = [];
  private retired = new Set<number>();
  private lastPair: Pair | undefined;
  private handedOut = 0;
  private decisive = 0;

  constructor(features: readonly Float64Array[], initialArms: readonly number[], options: SimulatedStudyOptions) {
    if (initialArms.length < 2) throw new Error("SimulatedStudy requires at least two initial arms");
    this.features = features;
    this.arms = [...initialArms];
    this.engine = new ServedEngine(
      this.arms.map((arm) => features[arm]!),
      { policy: "default", seed: options.engineSeed, policyOptions: options.policyOptions },
    );
    this.warmupRandom = mulberry32(deriveSeed(options.seed, 0));
    this.fallbackRandom = mulberry32(deriveSeed(options.seed, 1));
    this.warmupPairs = options.warmupPairs;
    this.update([]);
  }

  /** Votes the engine holds and how many of them were decisive (not ties). */
  get voteCount(): number {
    return this.engine.votes().length;
  }
  get decisiveCount(): number {
    return this.decisive;
  }

  /**
   * The next pair to show, in scenario indices: a warm-up pair (random, distinct from the earlier warm-up pairs)
   * while fewer than warmupPairs have been handed out, else the first usable proposal (not the last duel), else a
   * random pair that is not the last duel. Cost: O(batch) plus the warm-up's rejection draws.
   */
  nextPair(): { pair: Pair; chosen: boolean } {
    const armCount = this.arms.length;
    let local: Pair;
    let chosen = true;
    if (this.handedOut < Math.min(this.warmupPairs, (armCount * (armCount - 1)) / 2)) {
      const earlier = this.engine.votes().map(({ a, b }): Pair => [a, b]);
      local = randomDistinctPair(this.warmupRandom, armCount);
      for (let attempt = 0; attempt < 100 && isPendingPair(local[0], local[1], earlier); attempt++)
        local = randomDistinctPair(this.warmupRandom, armCount);
    } else {
      const claimed = claimProposal(
        (function* (proposals: Pair[], retired: Set<number>) {
          for (let index = 0; index < proposals.length; index++) if (!retired.has(index)) yield { index, pair: proposals[index]! };
        })(this.proposals, this.retired),
        {
          isOwnLastPair: (pair) => this.isLastPair(pair),
          isUsable: () => true,
          retire: (index) => this.retired.add(index),
        },
      );
      if (claimed) {
        local = claimed.pair;
      } else {
        chosen = false;
        local = randomDistinctPair(this.fallbackRandom, armCount);
        for (let attempt = 0; attempt < 100 && this.isLastPair(local); attempt++) local = randomDistinctPair(this.fallbackRandom, armCount);
      }
    }
    this.handedOut += 1;
    this.lastPair = local;
    return { pair: [this.arms[local[0]]!, this.arms[local[1]]!], chosen };
  }

  /** The vote on the pair nextPair() handed out last (outcome for its first arm); refits and proposes. Cost: one engine update. */
  vote(outcome: Outcome): void {
    if (!this.lastPair) throw new Error("SimulatedStudy.vote: no pair was handed out");
    if (outcome !== 0.5) this.decisive += 1;
    this.update([{ a: this.lastPair[0], b: this.lastPair[1], outcome }]);
  }

  /** New arms (scenario indices) join the running engine; the engine refits and proposes. Cost: one engine update. */
  addArms(scenarioArms: readonly number[]): void {
    if (scenarioArms.length === 0) return;
    this.engine.addArms(scenarioArms.map((arm) => this.features[arm]!));
    this.arms.push(...scenarioArms);
    this.update([]);
  }

  /** The engine's recommendation, as a scenario index. */
  recommended(): number {
    return this.arms[this.engine.policy.recommend()]!;
  }

  /** The study's arms (scenario indices) as its leaderboard ranks them (rankLeaders of the engine's estimates). */
  leaders(): number[] {
    const { utilities, recommendationScores } = this.engine.estimates();
    return rankLeaders(recommendationScores, utilities).map((local) => this.arms[local]!);
  }

  private isLastPair(pair: Pair): boolean {
    const last = this.lastPair;
    return last !== undefined && ((pair[0] === last[0] && pair[1] === last[1]) || (pair[0] === last[1] && pair[1] === last[0]));
  }

  private update(newDuels: Duel[]): void {
    // With one annotator and nothing pending, a request takes the first proposal unless it is the last duel, and then
    // the second (which counts the first as pending, so it differs): the first two picks of the app's batch, drawn
    // from the same stream, are all that can be served, so the rest of the batch is not computed.
    this.proposals = this.engine.update({ newDuels, pending: [], batchSize: Math.min(2, servedBatchSize(0)) }).pairs;
    this.retired = new Set();
  }
}
