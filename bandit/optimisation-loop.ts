import { mean } from "simple-statistics";
import type { Outcome, PolicyOptions } from "./policy";
import type { JudgeVerdict } from "./judge";
import { createSimulatedJudge } from "./judge";
import { revealNeighbour } from "./neighbour-reveal";
import { deriveSeed, mulberry32, randomInt } from "./random";
import type { Scenario } from "./scenario";
import { SimulatedStudy } from "./served-study";
import { appEngineSeed, createAnnotator } from "./simulate";

/**
 * The optimisation loop in the simulator (issue 17 §5, docs/decisions/0031): a growing pool (a study that starts
 * from a few prompts of a scenario and reveals noisy nearest neighbours of its leaders as stand-ins for LLM
 * mutations) and judge pre-screening (a simulated LLM judge votes first, then humans continue). Every study is the
 * served engine (bandit/served-study.ts), so the figures are those of what a study serves.
 */

/** Growth rounds: every `everyDecisive` decisive votes, `perRound` children of the top `parents` leaders. */
export interface GrowthOptions {
  perRound: number;
  /** Children go to the top `parents` leaders in turn (leader 1, 2, ..., parents, 1, ...). */
  parents: number;
  everyDecisive: number;
  /** revealNeighbour's noise (features are unit norm). */
  noise: number;
}

export const GROWTH_DEFAULTS: GrowthOptions = { perRound: 5, parents: 5, everyDecisive: 25, noise: 0.5 };

export interface GrowingPoolOptions {
  /** Prompts visible when the study starts (a uniformly random subset of the scenario). */
  initialArms: number;
  votes: number;
  /** Annotator consistency, as in the bench protocol (bandit/simulate.ts createAnnotator). */
  scale: number;
  seed: number;
  /** null: the fixed-pool study on the initial prompts. */
  growth: GrowthOptions | null;
  warmupPairs?: number;
  policyOptions?: PolicyOptions;
}

export interface GrowthRound {
  /** Votes answered when the round ran. */
  afterVotes: number;
  parents: number[];
  children: number[];
}

export interface GrowingPoolTrial {
  /** Normalised regret against the whole scenario, r_t = (max u - u_rec) / (max u - mean u), after each vote. */
  regret: Float64Array;
  /** r of the best of the initial prompts (an oracle pick: what choosing among them perfectly would give). */
  initialBestRegret: number;
  /** r of the best prompt visible at the end (an oracle pick among everything revealed). */
  visibleBestRegret: number;
  initial: number[];
  rounds: GrowthRound[];
  /** Pairs that were the random fallback (no usable proposal). */
  fallbackPairs: number;
}

/** The simulated study's regret scale: max u, mean u and r(arm). Cost: O(n). */
function regretScale(utility: Float64Array) {
  const list = Array.from(utility);
  const max = Math.max(...list);
  const average = mean(list);
  return (arm: number) => (max - utility[arm]!) / (max - average);
}

/**
 * The initial prompts of trial `trial`: `size` distinct arms, uniformly at random (partial Fisher–Yates on stream
 * (seed, trial, 10)); the same for every configuration of the trial (common random numbers).
 * Cost: O(n). Throws when size is not in [2, n].
 */
export function initialPool(armCount: number, size: number, seed: number, trial: number): number[] {
  if (!Number.isInteger(size) || size < 2 || size > armCount) throw new Error(`initialPool requires 2 <= size <= ${armCount}`);
  const random = mulberry32(deriveSeed(seed, trial, 10));
  const indices = Array.from({ length: armCount }, (_, i) => i);
  for (let k = 0; k < size; k++) {
    const j = k + randomInt(random, armCount - k);
    [indices[k], indices[j]] = [indices[j]!, indices[k]!];
  }
  return indices.slice(0, size);
}

function checkGrowth(growth: GrowthOptions): void {
  for (const key of ["perRound", "parents", "everyDecisive"] as const) {
    if (!Number.isInteger(growth[key]) || growth[key] < 1) throw new Error(`simulateGrowingPool requires growth.${key} >= 1`);
  }
  if (!(growth.noise >= 0)) throw new Error("simulateGrowingPool requires growth.noise >= 0");
}

/**
 * One seeded trial of the growing-pool protocol: the served engine on `initialArms` random prompts, one annotator
 * (bandit/simulate.ts createAnnotator over scenario indices, round = vote index, so a configuration without growth
 * sees the same answers to the same questions), `warmupPairs` random pairs, then the engine's pairs; after every
 * `everyDecisive` decisive votes (not after the last vote) a growth round ranks the study's prompts (rankLeaders),
 * and reveals for child k = 0..perRound-1 revealNeighbour(parent = leader k mod parents) with the round's stream
 * (seed, trial, 11, round); the children join the running engine (ServedEngine.addArms). Regret is recorded after
 * each vote, before that vote's growth round.
 * Streams: 10 initial pool, 11 reveals, the study's (seed, trial, 12) warm-up and fallback, appEngineSeed the engine.
 * Cost: votes x (engine update) + rounds x perRound x O(n d). Throws on invalid options.
 */
export function simulateGrowingPoolTrial(scenario: Scenario, options: GrowingPoolOptions, trial: number): GrowingPoolTrial {
  if (!Number.isInteger(options.votes) || options.votes < 1) throw new Error("simulateGrowingPool requires votes >= 1");
  if (!(options.scale > 0)) throw new Error("simulateGrowingPool requires scale > 0");
  if (options.growth) checkGrowth(options.growth);
  const armCount = scenario.utility.length;
  const regretOf = regretScale(scenario.utility);
  const initial = initialPool(armCount, options.initialArms, options.seed, trial);
  const annotate = createAnnotator(scenario, { scale: options.scale, seed: options.seed }, trial);
  const study = new SimulatedStudy(scenario.features, initial, {
    engineSeed: appEngineSeed(options.seed, trial),
    seed: deriveSeed(options.seed, trial, 12),
    warmupPairs: options.warmupPairs ?? 5,
    policyOptions: options.policyOptions,
  });
  const visible = new Uint8Array(armCount);
  for (const arm of initial) visible[arm] = 1;
  const regret = new Float64Array(options.votes);
  const rounds: GrowthRound[] = [];
  let fallbackPairs = 0;
  let lastRoundAt = 0;
  for (let t = 0; t < options.votes; t++) {
    const { pair, chosen } = study.nextPair();
    if (!chosen) fallbackPairs += 1;
    study.vote(annotate(pair[0], pair[1], t));
    regret[t] = regretOf(study.recommended());
    const growth = options.growth;
    if (!growth || t + 1 >= options.votes || study.decisiveCount - lastRoundAt < growth.everyDecisive) continue;
    lastRoundAt = study.decisiveCount;
    const random = mulberry32(deriveSeed(options.seed, trial, 11, rounds.length));
    const parents = study.leaders().slice(0, growth.parents);
    const children: number[] = [];
    const childParents: number[] = [];
    for (let k = 0; k < growth.perRound; k++) {
      const parent = parents[k % parents.length]!;
      const child = revealNeighbour(scenario.features, visible, parent, growth.noise, random);
      if (child < 0) break;
      visible[child] = 1;
      children.push(child);
      childParents.push(parent);
    }
    study.addArms(children);
    rounds.push({ afterVotes: t + 1, parents: childParents, children });
  }
  let visibleBest = Infinity;
  for (const arm of study.arms) visibleBest = Math.min(visibleBest, regretOf(arm));
  return {
    regret,
    initialBestRegret: Math.min(...initial.map(regretOf)),
    visibleBestRegret: visibleBest,
    initial,
    rounds,
    fallbackPairs,
  };
}

/** Judge pre-screening, then humans (issue 17 §4: a judge-only phase that pre-screens a large pool). */
export interface ScreeningOptions {
  /** Two-order judge verdicts before the humans start (0: humans only). */
  judgeVotes: number;
  agreement: number;
  positionBias: number;
  /** Prompts the judge's shortlist keeps (rankLeaders after the judge phase). */
  shortlistSize: number;
  humanVotes: number;
  scale: number;
  seed: number;
  warmupPairs?: number;
  policyOptions?: PolicyOptions;
}

export interface ScreeningTrial {
  /** Regret (against the pool's best) after each judge vote. */
  judgeRegret: Float64Array;
  /** After each human vote: the judge's votes stay in the engine and the humans continue the same study. */
  countedRegret: Float64Array;
  /**
   * After each human vote: the judge's votes only chose the shortlist, which a new study of the humans starts from,
   * without the judge's votes (null without judge votes).
   */
  shortlistRegret: Float64Array | null;
  /** r of the best shortlisted prompt (an oracle pick; null without judge votes). */
  shortlistBestRegret: number | null;
  /** Share of judge verdicts recorded as ties (the two orders disagreed). */
  judgeTieShare: number;
  /** Share of decisive judge verdicts that agree with the simulated human's vote on the question. */
  judgeAgreement: number | null;
}

/**
 * One seeded trial of judge pre-screening on the pool `scenario` (the study's whole pool): the served engine serves
 * `judgeVotes` pairs to the simulated judge (createSimulatedJudge; its reference human is createAnnotator with seed
 * (seed, 13), so it is not the humans' own draws), then `humanVotes` pairs to one human (createAnnotator(seed), round =
 * human vote index, the same answers to the same questions in every configuration), both in the same study
 * ("counted") and in a new study on the judge's top `shortlistSize` ("shortlist"). Each study starts with
 * `warmupPairs` random pairs. With judgeVotes = 0, counted is the humans-only study.
 * Streams: (seed, trial, 12) and (seed, trial, 15) the studies' warm-up and fallback, (seed, trial, 14) the judge.
 * Cost: (judgeVotes + humanVotes) + humanVotes engine updates. Throws on invalid options.
 */
export function simulateScreeningTrial(scenario: Scenario, options: ScreeningOptions, trial: number): ScreeningTrial {
  if (!Number.isInteger(options.judgeVotes) || options.judgeVotes < 0) throw new Error("simulateScreening requires judgeVotes >= 0");
  if (!Number.isInteger(options.humanVotes) || options.humanVotes < 1) throw new Error("simulateScreening requires humanVotes >= 1");
  if (!(options.scale > 0)) throw new Error("simulateScreening requires scale > 0");
  const armCount = scenario.utility.length;
  if (!Number.isInteger(options.shortlistSize) || options.shortlistSize < 2 || options.shortlistSize > armCount) {
    throw new Error(`simulateScreening requires 2 <= shortlistSize <= ${armCount}`);
  }
  const regretOf = regretScale(scenario.utility);
  const studyOptions = (stream: number) => ({
    engineSeed: appEngineSeed(options.seed, trial),
    seed: deriveSeed(options.seed, trial, stream),
    warmupPairs: options.warmupPairs ?? 5,
    policyOptions: options.policyOptions,
  });
  const study = new SimulatedStudy(
    scenario.features,
    Array.from({ length: armCount }, (_, i) => i),
    studyOptions(12),
  );
  const judgeHuman = createAnnotator(scenario, { scale: options.scale, seed: deriveSeed(options.seed, 13) }, trial);
  const judge = createSimulatedJudge(
    { agreement: options.agreement, positionBias: options.positionBias, seed: deriveSeed(options.seed, trial, 14) },
    judgeHuman,
  );
  const judgeRegret = new Float64Array(options.judgeVotes);
  let ties = 0;
  let decisive = 0;
  let agreeing = 0;
  for (let t = 0; t < options.judgeVotes; t++) {
    const { pair } = study.nextPair();
    const verdict: JudgeVerdict = judge(pair[0], pair[1], t);
    if (verdict.outcome === 0.5) ties += 1;
    else {
      decisive += 1;
      if (verdict.outcome === verdict.human) agreeing += 1;
    }
    study.vote(verdict.outcome);
    judgeRegret[t] = regretOf(study.recommended());
  }
  const human = createAnnotator(scenario, { scale: options.scale, seed: options.seed }, trial);
  const humanPhase = (humans: SimulatedStudy) => {
    const regret = new Float64Array(options.humanVotes);
    for (let t = 0; t < options.humanVotes; t++) {
      const { pair } = humans.nextPair();
      const outcome: Outcome = human(pair[0], pair[1], t);
      humans.vote(outcome);
      regret[t] = regretOf(humans.recommended());
    }
    return regret;
  };
  let shortlistRegret: Float64Array | null = null;
  let shortlistBestRegret: number | null = null;
  if (options.judgeVotes > 0) {
    const shortlist = study.leaders().slice(0, options.shortlistSize);
    shortlistBestRegret = Math.min(...shortlist.map(regretOf));
    shortlistRegret = humanPhase(new SimulatedStudy(scenario.features, shortlist, studyOptions(15)));
  }
  return {
    judgeRegret,
    countedRegret: humanPhase(study),
    shortlistRegret,
    shortlistBestRegret,
    judgeTieShare: options.judgeVotes > 0 ? ties / options.judgeVotes : 0,
    judgeAgreement: decisive > 0 ? agreeing / decisive : null,
  };
}

/**
 * Votes needed to reach regret <= threshold for good: the smallest t such that r_s <= threshold for every s >= t
 * (1-based), or null when the last value is above it. Cost: O(T). Throws nothing.
 */
export function votesToReach(regret: Float64Array, threshold: number): number | null {
  let t = regret.length;
  while (t > 0 && regret[t - 1]! <= threshold) t -= 1;
  return t === regret.length ? null : t + 1;
}
