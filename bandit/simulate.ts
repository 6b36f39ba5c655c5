import { mean, quantile, standardDeviation } from "simple-statistics";
import { sigmoid } from "./btl-loss";
import type { Duel, DuelingPolicy, PolicyName, PolicyOptions } from "./policy";
import { createPolicy, DEFAULT_POLICY } from "./policy";
import { isPendingPair } from "./pairs";
import { deriveSeed, mulberry32, randomDistinctPair } from "./random";
import type { Scenario } from "./scenario";

/** The simulation protocol of shared/bench/README.md (APOHF's experiments; DESIGN §6). */
export interface SimulationOptions {
  policy: PolicyName | "default";
  trials: number;
  votes: number;
  /** Annotator consistency: s_i = scale * (u_i - mean u) / std u. */
  scale: number;
  seed: number;
  /** Uniformly random distinct pairs before the policy chooses (5 in the protocol). */
  warmupPairs?: number;
  policyOptions?: PolicyOptions;
  /** Wraps the policy before the trial starts (e.g. withCoverage), so decorators are measured under the same protocol. */
  decorate?: (policy: DuelingPolicy) => DuelingPolicy;
  /** Called after every vote with the refitted policy (e.g. to evaluate a stopping rule); `regret` is r_t. */
  onVote?: (vote: { votes: number; regret: number; policy: DuelingPolicy; history: readonly Duel[] }) => void;
}

export interface TrialResult {
  /** Normalised simple regret after each vote. */
  regret: Float64Array;
  /** Seconds of fit + selectPair per vote chosen by the policy. */
  secondsPerVote: number[];
  pairs: [number, number][];
}

export const REGRET_CHECKPOINTS = [25, 50, 100, 150] as const;

export interface SimulationSummary {
  scenario: string;
  policy: string;
  trials: number;
  votes: number;
  scale: number;
  regretAt: Record<"25" | "50" | "100" | "150", number | null>;
  regretStdErr: Record<"25" | "50" | "100" | "150", number | null>;
  regretCurve: number[];
  secondsPerVote: { median: number; p90: number };
}

function checkOptions(options: SimulationOptions, scenario: Scenario): void {
  if (scenario.utility.length < 2) throw new Error("simulate requires a scenario with at least two arms");
  if (scenario.features.length !== scenario.utility.length) throw new Error("simulate requires one feature row per utility");
  if (!Number.isInteger(options.trials) || options.trials < 1) throw new Error("simulate requires trials >= 1");
  if (!Number.isInteger(options.votes) || options.votes < 1) throw new Error("simulate requires votes >= 1");
  if (!(options.scale > 0)) throw new Error("simulate requires scale > 0");
}

/**
 * Runs one seeded trial: warm-up pairs, then the policy's pairs; a simulated annotator prefers a over b with
 * probability sigmoid(s_a - s_b); after every vote the policy is refitted on the full history and its recommendation
 * scored as r_t = (max u - u_rec) / (max u - mean u).
 * Streams (derived from seed and trial): 0 warm-up pairs (shared by all policies), 1 annotator, 2 policy, 3 selection.
 * Cost: O(votes * (fit + select)). Throws on invalid options.
 */
export function simulateTrial(scenario: Scenario, options: SimulationOptions, trial: number): TrialResult {
  checkOptions(options, scenario);
  const utility = scenario.utility;
  const armCount = utility.length;
  const utilityList = Array.from(utility);
  const utilityMean = mean(utilityList);
  const utilitySpread = standardDeviation(utilityList);
  const utilityMax = Math.max(...utilityList);
  const strength = Float64Array.from(utility, (u) => (options.scale * (u - utilityMean)) / utilitySpread);
  const warmupRandom = mulberry32(deriveSeed(options.seed, trial, 0));
  const annotatorRandom = mulberry32(deriveSeed(options.seed, trial, 1));
  const policyRandom = mulberry32(deriveSeed(options.seed, trial, 2));
  const selectionRandom = mulberry32(deriveSeed(options.seed, trial, 3));
  const created = createPolicy(options.policy, { features: scenario.features, random: policyRandom }, options.policyOptions);
  const policy = options.decorate ? options.decorate(created) : created;
  const warmupPairs: [number, number][] = [];
  const warmupCount = Math.min(options.warmupPairs ?? 5, options.votes, (armCount * (armCount - 1)) / 2);
  while (warmupPairs.length < warmupCount) {
    const [a, b] = randomDistinctPair(warmupRandom, armCount);
    if (!isPendingPair(a, b, warmupPairs)) warmupPairs.push([a, b]);
  }
  const history: Duel[] = [];
  const regret = new Float64Array(options.votes);
  const secondsPerVote: number[] = [];
  const pairs: [number, number][] = [];
  for (let t = 0; t < options.votes; t++) {
    let selectSeconds = 0;
    let pair: [number, number];
    if (t < warmupPairs.length) {
      pair = warmupPairs[t]!;
    } else {
      const start = performance.now();
      pair = policy.selectPair({ random: selectionRandom });
      selectSeconds = (performance.now() - start) / 1000;
    }
    pairs.push(pair);
    const [a, b] = pair;
    const outcome = annotatorRandom() < sigmoid(strength[a]! - strength[b]!) ? 1 : 0;
    history.push({ a, b, outcome });
    const fitStart = performance.now();
    policy.fit(history);
    const fitSeconds = (performance.now() - fitStart) / 1000;
    if (t >= warmupPairs.length) secondsPerVote.push(selectSeconds + fitSeconds);
    const recommended = policy.recommend();
    regret[t] = (utilityMax - utility[recommended]!) / (utilityMax - utilityMean);
    options.onVote?.({ votes: t + 1, regret: regret[t]!, policy, history });
  }
  return { regret, secondsPerVote, pairs };
}

/**
 * Runs `trials` seeded trials and summarises them: mean regret curve, mean (and standard error) at 25/50/100/150
 * votes, median and 90th-percentile seconds per vote. `onTrial` sees each trial as it finishes (for progress output).
 * Cost: trials x simulateTrial. Throws on invalid options.
 */
export function simulate(scenario: Scenario, options: SimulationOptions, onTrial?: (trial: number, result: TrialResult) => void): SimulationSummary {
  checkOptions(options, scenario);
  const curves: Float64Array[] = [];
  const seconds: number[] = [];
  for (let trial = 0; trial < options.trials; trial++) {
    const result = simulateTrial(scenario, options, trial);
    curves.push(result.regret);
    seconds.push(...result.secondsPerVote);
    onTrial?.(trial, result);
  }
  const regretCurve = Array.from({ length: options.votes }, (_, t) => mean(curves.map((curve) => curve[t]!)));
  const regretAt = {} as SimulationSummary["regretAt"];
  const regretStdErr = {} as SimulationSummary["regretStdErr"];
  for (const checkpoint of REGRET_CHECKPOINTS) {
    const key = String(checkpoint) as keyof SimulationSummary["regretAt"];
    if (checkpoint > options.votes) {
      regretAt[key] = null;
      regretStdErr[key] = null;
      continue;
    }
    const values = curves.map((curve) => curve[checkpoint - 1]!);
    regretAt[key] = mean(values);
    regretStdErr[key] = values.length > 1 ? standardDeviation(values) / Math.sqrt(values.length - 1) : null;
  }
  return {
    scenario: scenario.name,
    policy: options.policy === "default" ? DEFAULT_POLICY : options.policy,
    trials: options.trials,
    votes: options.votes,
    scale: options.scale,
    regretAt,
    regretStdErr,
    regretCurve,
    secondsPerVote: {
      median: seconds.length > 0 ? quantile(seconds, 0.5) : 0,
      p90: seconds.length > 0 ? quantile(seconds, 0.9) : 0,
    },
  };
}
