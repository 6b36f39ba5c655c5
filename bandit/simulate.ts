import { mean, quantile, standardDeviation } from "simple-statistics";
import { sigmoid } from "./btl-loss";
import type { CoverageOptions } from "./coverage";
import type { Duel, DuelingPolicy, Outcome, PolicyName, PolicyOptions } from "./policy";
import { createPolicy, DEFAULT_POLICY } from "./policy";
import { isPendingPair } from "./pairs";
import type { RandomSource } from "./random";
import { deriveSeed, hashUniform, mulberry32, randomDistinctPair, randomInt } from "./random";
import type { CrowdVote } from "../quality/crowd-bt";
import { fitVoteModel } from "../quality/duel-scales";
import type { Scenario } from "./scenario";
import type { AnnotatedDuel, Pair } from "./served";
import { claimProposal, ServedEngine, servedBatchSize } from "./served";

/**
 * `app` is what a study serves (bandit/served.ts: coverage + the default policy + batches with pending pairs + the
 * assignment rules); every other name is the bare policy, asked for one pair per request.
 */
export type SimulatedPolicy = PolicyName | "default" | "app";
export const SIMULATED_POLICIES: readonly SimulatedPolicy[] = ["app", "duet", "apohf", "random", "linear", "doublets", "champion", "dts"];

/**
 * The simulated annotator: "bernoulli" prefers a over b with probability sigmoid(s_a - s_b) (the bench protocol),
 * "deterministic" always prefers the higher utility (a tie when equal).
 */
export type AnnotatorModel = "bernoulli" | "deterministic";

/** The simulation protocol of shared/bench/README.md (APOHF's experiments; DESIGN §6). */
export interface SimulationOptions {
  policy: SimulatedPolicy;
  trials: number;
  votes: number;
  /** Annotator consistency: s_i = scale * (u_i - mean u) / std u (unused by the deterministic annotator). */
  scale: number;
  seed: number;
  annotator?: AnnotatorModel;
  /** Replaces the annotator (e.g. a crowd: bandit/crowd.ts): the outcome for a of the pair (a, b) handed out in `round`. */
  annotate?: (a: number, b: number, round: number) => Outcome;
  /**
   * Annotators working at once (default 1). Each holds one assignment; the next vote to come back is drawn
   * uniformly among the open assignments, so votes return in random order while the others are pending.
   */
  annotators?: number;
  /** Uniformly random distinct pairs before the policy chooses (5 in the protocol). */
  warmupPairs?: number;
  policyOptions?: PolicyOptions;
  /**
   * `app` only: the crowd fit's vote model in the engine (docs/decisions/0044, 0047, 0048). `shownVote(duel, round)` is
   * the vote of `round` as the app stores it (left response first, with the member who cast it: bandit/crowd.ts); after
   * every vote the crowd model is fitted on the votes so far and each duel read at its member's scale and with the side
   * term for the side its `a` was shown on (fitVoteModel), before the engine's refit. The app fits after each snapshot
   * and the engine applies the fit at its next refit; an engine caught up (as this simulator's is before every request)
   * has then refitted on the votes with the fit of the same votes.
   */
  voteModel?: { annotatorCount: number; shownVote: (duel: Duel, round: number) => CrowdVote };
  /** `app` only: coverage settings (experiments; the default is what a study serves). */
  coverage?: Partial<CoverageOptions>;
  /** `app` only: called after every engine update with what the app's selection worker would receive and propose. */
  onEngineUpdate?: (update: { newDuels: readonly Duel[]; pending: Pair[]; batchSize: number; pairs: Pair[] }) => void;
  /** Called after every vote with the refitted policy (e.g. to evaluate a stopping rule); `regret` is r_t. */
  onVote?: (vote: { votes: number; regret: number; policy: DuelingPolicy; history: readonly Duel[] }) => void;
}

export interface TrialResult {
  /** Normalised simple regret after each vote. */
  regret: Float64Array;
  /** Seconds of engine work per vote after the warm-up (fit + selection; for `app` every update it triggers). */
  secondsPerVote: number[];
  /** Pairs in the order they were handed out. */
  pairs: Pair[];
  /** The votes in the order they came back (with one annotator, the order of `pairs`). */
  history: Duel[];
  /** `voteModel` only: each member's scale and the side term after the last vote (fitVoteModel). */
  annotatorScales?: Float64Array;
  sideTerm?: number;
  /** Pairs handed out by the policy or the engine (not warm-up pairs, not random fallbacks). */
  chosenPairs: number;
  /** Pairs handed out as the random fallback (`app` only: no usable proposal). */
  fallbackPairs: number;
  /** Distinct arms in at least one duel by the end. */
  armsDueled: number;
}

export const REGRET_CHECKPOINTS = [25, 50, 100, 150] as const;
export type Checkpoint = "25" | "50" | "100" | "150";

export interface SimulationSummary {
  scenario: string;
  policy: string;
  trials: number;
  votes: number;
  scale: number;
  annotator: AnnotatorModel;
  annotators: number;
  regretAt: Record<Checkpoint, number | null>;
  regretStdErr: Record<Checkpoint, number | null>;
  /** Each trial's regret at each checkpoint (trial order), for paired comparisons. */
  regretPerTrial: Record<Checkpoint, number[] | null>;
  regretCurve: number[];
  secondsPerVote: { median: number; p90: number };
  /** Means over trials. */
  armsDueled: number;
  chosenShare: number;
}

function checkOptions(options: SimulationOptions, scenario: Scenario): void {
  if (scenario.utility.length < 2) throw new Error("simulate requires a scenario with at least two arms");
  if (scenario.features.length !== scenario.utility.length) throw new Error("simulate requires one feature row per utility");
  if (!Number.isInteger(options.trials) || options.trials < 1) throw new Error("simulate requires trials >= 1");
  if (!Number.isInteger(options.votes) || options.votes < 1) throw new Error("simulate requires votes >= 1");
  if (!(options.scale > 0)) throw new Error("simulate requires scale > 0");
  const annotators = options.annotators ?? 1;
  if (!Number.isInteger(annotators) || annotators < 1) throw new Error("simulate requires annotators >= 1");
  if (options.voteModel && options.policy !== "app") throw new Error("simulate: voteModel needs the served engine (policy app)");
}

/**
 * The simulated annotator with common random numbers: the outcome of a pair depends only on (seed, trial, round,
 * the unordered pair), never on what else a policy asked before, so two policies that ask the same pair in the
 * same round get the same answer. Round = the index of the hand-out (0-based). With lo < hi the pair's arms,
 * lo wins when hashUniform(seed, trial, 1, round, lo, hi) < sigmoid(s_lo - s_hi).
 * Cost: O(1) per vote. Throws nothing.
 */
export function createAnnotator(scenario: Scenario, options: Pick<SimulationOptions, "scale" | "seed" | "annotator">, trial: number) {
  const utility = scenario.utility;
  const utilityList = Array.from(utility);
  const utilityMean = mean(utilityList);
  const utilitySpread = standardDeviation(utilityList);
  const strength = Float64Array.from(utility, (u) => (options.scale * (u - utilityMean)) / utilitySpread);
  const deterministic = options.annotator === "deterministic";
  return (a: number, b: number, round: number): Outcome => {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    let loWins: Outcome;
    if (deterministic) loWins = utility[lo]! > utility[hi]! ? 1 : utility[lo]! < utility[hi]! ? 0 : 0.5;
    else loWins = hashUniform(options.seed, trial, 1, round, lo, hi) < sigmoid(strength[lo]! - strength[hi]!) ? 1 : 0;
    if (a === lo) return loWins;
    return loWins === 0.5 ? 0.5 : loWins === 1 ? 0 : 1;
  };
}

/** Hands out pairs and hears of votes: a bare policy, or the served engine. */
interface Server {
  readonly policy: DuelingPolicy;
  /** A pair for this annotator, with `open` the pairs held by others; chosen = not a random fallback. */
  request(annotator: number, open: readonly Pair[], lastPair: Pair | undefined): { pair: Pair; chosen: boolean };
  /** A pair was handed out (the app's engine updates its proposals for the new pending set). */
  handedOut(open: readonly Pair[]): void;
  /** A vote came back; `rounds[v]` is the round whose pair vote v answers. */
  voted(history: readonly Duel[], open: readonly Pair[], rounds: readonly number[]): void;
  /** The vote model the engine last applied (voteModel only). */
  readonly voteModel?: () => { scales: Float64Array; sideTerm: number } | undefined;
}

function policyServer(policy: DuelingPolicy, selectionRandom: RandomSource): Server {
  return {
    policy,
    request: (_annotator, open) => ({ pair: policy.selectPair({ pending: open, random: selectionRandom }), chosen: true }),
    handedOut: () => {},
    voted: (history) => policy.fit(history),
  };
}

/**
 * The served engine as the app runs it (study-engine.server.ts + assign.server.ts) with the engine caught up: it updates
 * once when it starts, after every vote and after every hand-out (refit when there are new votes, then a batch for
 * the current pending set), and each request claims from the latest batch. A batch is capped by count only; the app
 * also stops one after a time budget and, under load, coalesces updates and falls behind (its share of random
 * fallbacks is measured by bench:server, not here).
 */
function appServer(scenario: Scenario, options: SimulationOptions, trial: number): Server {
  const armCount = scenario.utility.length;
  const engine = new ServedEngine(scenario.features, {
    policy: "default",
    seed: appEngineSeed(options.seed, trial),
    policyOptions: options.policyOptions,
    coverage: options.coverage,
  });
  const fallbackRandom = mulberry32(deriveSeed(options.seed, trial, 5));
  let proposals: Pair[] = [];
  let retired = new Set<number>();
  let seenVotes = 0;
  const crowd = options.voteModel;
  let voteModel: { scales: Float64Array; sideTerm: number } | undefined;
  let rounds: readonly number[] = [];
  const update = (history: readonly Duel[], open: readonly Pair[]) => {
    const newDuels: AnnotatedDuel[] = crowd
      ? history.slice(seenVotes).map((duel, k) => {
          const shown = crowd.shownVote(duel, rounds[seenVotes + k]!);
          return { ...duel, annotator: shown.annotator, aShownLeft: shown.a === duel.a };
        })
      : history.slice(seenVotes);
    seenVotes = history.length;
    const batchSize = servedBatchSize(open.length);
    proposals = engine.update({ newDuels, pending: open, batchSize }).pairs;
    retired = new Set();
    options.onEngineUpdate?.({ newDuels, pending: open.map(([a, b]): Pair => [a, b]), batchSize, pairs: proposals });
  };
  update([], []);
  const samePair = (x: Pair, y: Pair | undefined) => y !== undefined && ((x[0] === y[0] && x[1] === y[1]) || (x[0] === y[1] && x[1] === y[0]));
  return {
    policy: engine.policy,
    request(_annotator, open, lastPair) {
      const claimed = claimProposal(
        (function* () {
          for (let index = 0; index < proposals.length; index++) if (!retired.has(index)) yield { index, pair: proposals[index]! };
        })(),
        {
          isOwnLastPair: (pair) => samePair(pair, lastPair),
          isUsable: (pair) => !isPendingPair(pair[0], pair[1], open),
          retire: (index) => retired.add(index),
        },
      );
      if (claimed) return { pair: claimed.pair, chosen: true };
      // The app's fallback: a uniformly random pair not held by anyone and not this annotator's last duel.
      let pair = randomDistinctPair(fallbackRandom, armCount);
      for (let attempt = 0; attempt < 100 && (isPendingPair(pair[0], pair[1], open) || samePair(pair, lastPair)); attempt++) {
        pair = randomDistinctPair(fallbackRandom, armCount);
      }
      return { pair, chosen: false };
    },
    handedOut: (open) => update(engine.votes(), open),
    voted(history, open, voteRounds) {
      rounds = voteRounds;
      if (crowd) {
        const votes = history.map((duel, v) => crowd.shownVote(duel, voteRounds[v]!));
        voteModel = fitVoteModel(armCount, crowd.annotatorCount, votes);
        engine.setVoteModel({
          annotatorScales: new Map(Array.from(voteModel.scales, (scale, member) => [member, scale])),
          sideTerm: voteModel.sideTerm,
        });
      }
      update(history, open);
    },
    voteModel: () => voteModel,
  };
}

/** The seed of the served engine in trial `trial` (what a study's id is in the app). */
export function appEngineSeed(seed: number, trial: number): number {
  return deriveSeed(seed, trial, 2);
}

/**
 * Runs one seeded trial: warm-up pairs, then the policy's (or the served engine's) pairs, with `annotators`
 * annotators holding one assignment each and votes coming back in random order; after every vote the policy is
 * refitted on the full history and its recommendation scored as r_t = (max u - u_rec) / (max u - mean u).
 * Streams (derived from seed and trial): 0 warm-up pairs, 1 annotator (counter-based, see createAnnotator),
 * 2 policy, 3 selection, 4 which vote returns next, 5 the app's random fallback. The warm-up pairs, the annotator
 * and the return order are common to every policy of a trial, so their differences are paired.
 * Cost: O(votes * (fit + select)). Throws on invalid options.
 */
export function simulateTrial(scenario: Scenario, options: SimulationOptions, trial: number): TrialResult {
  checkOptions(options, scenario);
  const utility = scenario.utility;
  const armCount = utility.length;
  const utilityList = Array.from(utility);
  const utilityMean = mean(utilityList);
  const utilityMax = Math.max(...utilityList);
  const annotate = options.annotate ?? createAnnotator(scenario, options, trial);
  const warmupRandom = mulberry32(deriveSeed(options.seed, trial, 0));
  const orderRandom = mulberry32(deriveSeed(options.seed, trial, 4));
  const server =
    options.policy === "app"
      ? appServer(scenario, options, trial)
      : policyServer(
          createPolicy(
            options.policy,
            { features: scenario.features, random: mulberry32(deriveSeed(options.seed, trial, 2)) },
            options.policyOptions,
          ),
          mulberry32(deriveSeed(options.seed, trial, 3)),
        );
  const warmupPairs: Pair[] = [];
  const warmupCount = Math.min(options.warmupPairs ?? 5, options.votes, (armCount * (armCount - 1)) / 2);
  while (warmupPairs.length < warmupCount) {
    const [a, b] = randomDistinctPair(warmupRandom, armCount);
    if (!isPendingPair(a, b, warmupPairs)) warmupPairs.push([a, b]);
  }
  const annotatorCount = options.annotators ?? 1;
  const open: { annotator: number; pair: Pair; round: number }[] = [];
  const lastPair: (Pair | undefined)[] = new Array<Pair | undefined>(annotatorCount);
  const history: Duel[] = [];
  const historyRounds: number[] = [];
  const regret = new Float64Array(options.votes);
  const secondsPerVote: number[] = [];
  const pairs: Pair[] = [];
  let chosenPairs = 0;
  let fallbackPairs = 0;
  let requestSeconds = 0;
  const openPairs = () => open.map((assignment) => assignment.pair);
  const handOut = (annotator: number) => {
    const round = pairs.length;
    const started = performance.now();
    let pair: Pair;
    if (round < warmupPairs.length) {
      pair = warmupPairs[round]!;
    } else {
      const answer = server.request(annotator, openPairs(), lastPair[annotator]);
      pair = answer.pair;
      if (answer.chosen) chosenPairs += 1;
      else fallbackPairs += 1;
    }
    open.push({ annotator, pair, round });
    pairs.push(pair);
    server.handedOut(openPairs());
    requestSeconds = (performance.now() - started) / 1000;
  };
  for (let annotator = 0; annotator < annotatorCount && pairs.length < options.votes; annotator++) handOut(annotator);
  for (let t = 0; t < options.votes; t++) {
    const returning = open.length === 1 ? 0 : randomInt(orderRandom, open.length);
    const [{ annotator, pair, round }] = open.splice(returning, 1) as [(typeof open)[number]];
    history.push({ a: pair[0], b: pair[1], outcome: annotate(pair[0], pair[1], round) });
    historyRounds.push(round);
    lastPair[annotator] = pair;
    const started = performance.now();
    server.voted(history, openPairs(), historyRounds);
    const voteSeconds = (performance.now() - started) / 1000;
    const recommended = server.policy.recommend();
    regret[t] = (utilityMax - utility[recommended]!) / (utilityMax - utilityMean);
    options.onVote?.({ votes: t + 1, regret: regret[t]!, policy: server.policy, history });
    requestSeconds = 0;
    if (pairs.length < options.votes) handOut(annotator);
    if (t >= warmupPairs.length) secondsPerVote.push(voteSeconds + requestSeconds);
  }
  const voteModel = server.voteModel?.();
  return {
    regret,
    secondsPerVote,
    pairs,
    history,
    chosenPairs,
    fallbackPairs,
    armsDueled: new Set(pairs.flat()).size,
    ...(voteModel ? { annotatorScales: voteModel.scales, sideTerm: voteModel.sideTerm } : {}),
  };
}

/**
 * Runs `trials` seeded trials and summarises them: mean regret curve, mean (and standard error) and the per-trial
 * values at 25/50/100/150 votes, median and 90th-percentile seconds per vote. `onTrial` sees each trial as it
 * finishes (for progress output). Cost: trials x simulateTrial. Throws on invalid options.
 */
export function simulate(scenario: Scenario, options: SimulationOptions, onTrial?: (trial: number, result: TrialResult) => void): SimulationSummary {
  checkOptions(options, scenario);
  const curves: Float64Array[] = [];
  const seconds: number[] = [];
  let armsDueled = 0;
  let chosen = 0;
  for (let trial = 0; trial < options.trials; trial++) {
    const result = simulateTrial(scenario, options, trial);
    curves.push(result.regret);
    seconds.push(...result.secondsPerVote);
    armsDueled += result.armsDueled / options.trials;
    chosen += result.chosenPairs / Math.max(1, result.chosenPairs + result.fallbackPairs) / options.trials;
    onTrial?.(trial, result);
  }
  const regretCurve = Array.from({ length: options.votes }, (_, t) => mean(curves.map((curve) => curve[t]!)));
  const regretAt = {} as SimulationSummary["regretAt"];
  const regretStdErr = {} as SimulationSummary["regretStdErr"];
  const regretPerTrial = {} as SimulationSummary["regretPerTrial"];
  for (const checkpoint of REGRET_CHECKPOINTS) {
    const key = String(checkpoint) as Checkpoint;
    if (checkpoint > options.votes) {
      regretAt[key] = null;
      regretStdErr[key] = null;
      regretPerTrial[key] = null;
      continue;
    }
    const values = curves.map((curve) => curve[checkpoint - 1]!);
    regretAt[key] = mean(values);
    regretStdErr[key] = values.length > 1 ? standardDeviation(values) / Math.sqrt(values.length - 1) : null;
    regretPerTrial[key] = values;
  }
  return {
    scenario: scenario.name,
    policy: options.policy === "default" ? DEFAULT_POLICY : options.policy,
    trials: options.trials,
    votes: options.votes,
    scale: options.scale,
    annotator: options.annotator ?? "bernoulli",
    annotators: options.annotators ?? 1,
    regretAt,
    regretStdErr,
    regretPerTrial,
    regretCurve,
    secondsPerVote: {
      median: seconds.length > 0 ? quantile(seconds, 0.5) : 0,
      p90: seconds.length > 0 ? quantile(seconds, 0.9) : 0,
    },
    armsDueled,
    chosenShare: chosen,
  };
}
