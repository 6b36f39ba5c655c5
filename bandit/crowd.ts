import { mean, standardDeviation } from "simple-statistics";
import type { CrowdVote, ReliabilityFlag } from "../quality/crowd-bt";
import { fitCrowdBradleyTerry } from "../quality/crowd-bt";
import { fitCrowdWithFlags } from "../quality/duel-scales";
import { sigmoid } from "./btl-loss";
import type { Duel, DuelingPolicy, Outcome } from "./policy";
import { hashUniform } from "./random";
import type { Scenario } from "./scenario";

/**
 * Simulated crowds for issue 18's benchmark: every vote is cast by a member drawn at random, who prefers the left
 * response with probability sigmoid(scale (z_left - z_right) + side), z = the standardised utility of the bench
 * protocol. scale 10 = a good annotator, 1 = a careless one, 0 = a random clicker, -10 = an adversary (prefers the
 * lower utility); side > 0 leans left.
 */
export interface CrowdMember {
  scale: number;
  side: number;
}

export interface Crowd {
  name: string;
  description: string;
  members: CrowdMember[];
}

const members = (count: number, scale: number, side = 0): CrowdMember[] => Array.from({ length: count }, () => ({ scale, side }));

/** The crowds of issue 18's "Measured in the simulator", 10 members each (about 15 of 150 votes per member). */
export const CROWDS: Record<string, Crowd> = {
  good: { name: "good", description: "10 annotators at scale 10 (the bench protocol)", members: members(10, 10) },
  mixed: {
    name: "mixed",
    description: "7 at scale 10 (70 %), 2 at scale 1 (20 %), 1 random clicker (10 %)",
    members: [...members(7, 10), ...members(2, 1), ...members(1, 0)],
  },
  adversarial: {
    name: "adversarial",
    description: "9 at scale 10, 1 adversarial at scale -10 (10 %: prefers the lower utility)",
    members: [...members(9, 10), ...members(1, -10)],
  },
  left: {
    name: "left",
    description: "10 at scale 10 leaning left by 2 logits (P(left) = 0.88 at equal utility)",
    members: members(10, 10, 2),
  },
};

/**
 * The crowd's annotator with common random numbers, U = hashUniform: the member of round r is
 * floor(U(seed, trial, 7, r) * m); the response shown on the left is `a` when U(seed, trial, 8, r) < 1/2 (the app draws
 * the sides at random: assign.server.ts), else `b`; with lo < hi the pair's arms, lo wins when
 * U(seed, trial, 1, r, lo, hi) < sigmoid(scale (z_lo - z_hi) + side) when lo is shown left, - side when it is shown
 * right. The win draw is the one of createAnnotator (bandit/simulate.ts), so the `good` crowd answers exactly as the
 * bench protocol's single annotator at scale 10, and every crowd of a trial sees the same draws. `annotate` returns
 * the outcome for `a` (what the simulator records); `shownVote` turns a recorded vote into the vote as the app stores
 * it (left response first) with its member. Cost: O(1) per vote. Throws if the crowd has no members.
 */
export function createCrowdAnnotator(scenario: Scenario, crowd: Crowd, seed: number, trial: number) {
  if (crowd.members.length === 0) throw new Error("createCrowdAnnotator requires at least one member");
  const utility = Array.from(scenario.utility);
  const utilityMean = mean(utility);
  const utilitySpread = standardDeviation(utility);
  const z = Float64Array.from(utility, (u) => (u - utilityMean) / utilitySpread);
  const memberOf = (round: number) => Math.min(crowd.members.length - 1, Math.floor(hashUniform(seed, trial, 7, round) * crowd.members.length));
  const leftIsA = (round: number) => hashUniform(seed, trial, 8, round) < 0.5;
  const annotate = (a: number, b: number, round: number): Outcome => {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const { scale, side } = crowd.members[memberOf(round)]!;
    const loShownLeft = (a === lo) === leftIsA(round);
    const loWins = hashUniform(seed, trial, 1, round, lo, hi) < sigmoid(scale * (z[lo]! - z[hi]!) + (loShownLeft ? side : -side));
    return (a === lo) === loWins ? 1 : 0;
  };
  const shownVote = (duel: Duel, round: number): CrowdVote =>
    leftIsA(round)
      ? { a: duel.a, b: duel.b, outcome: duel.outcome, annotator: memberOf(round) }
      : { a: duel.b, b: duel.a, outcome: (1 - duel.outcome) as Outcome, annotator: memberOf(round) };
  return { annotate, memberOf, leftIsA, shownVote };
}

export interface CrowdRecommendations {
  /** The served engine's recommendation (reliability modelling off). */
  engine: number;
  /** The engine refitted without the votes of flagged annotators, reversed annotators' votes flipped. */
  engineReliable: number;
  /** argmax of plain Bradley–Terry (every beta 1, no side term). */
  bradleyTerry: number;
  /** argmax of Bradley–Terry with reliabilities and the side term (quality/crowd-bt.ts). */
  crowdBradleyTerry: number;
  /** argmax of the oracle's Bradley–Terry, which knows every member's true scale (oracleBradleyTerry); null without `members`. */
  oracleBradleyTerry: number | null;
  flags: ReliabilityFlag[];
  side: number;
  sideStdErr: number;
  scores: { plain: Float64Array; crowd: Float64Array };
}

const argmax = (values: Float64Array) => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
};

/**
 * The recommendations with reliability modelling on and off from one history of votes as the app stores them (left
 * response first, with the member who cast each: createCrowdAnnotator's shownVote). Fits quality/crowd-bt.ts plain, and
 * full with its flags as the app stores them (fitCrowdWithFlags, quality/duel-scales.ts), then refits
 * `policy` on the history with flagged members' votes dropped and reversed members' votes flipped — so call it last:
 * the policy is left fitted on that history. Cost: two crowd fits + one policy fit. Throws on invalid votes.
 */
export function crowdRecommendations(
  policy: DuelingPolicy,
  armCount: number,
  memberCount: number,
  votes: readonly CrowdVote[],
  members?: readonly CrowdMember[],
): CrowdRecommendations {
  const oracle = members ? argmax(oracleBradleyTerry(armCount, members, votes)) : null;
  const plain = fitCrowdBradleyTerry(armCount, memberCount, votes, { fitReliability: false, fitSide: false });
  const { fit: crowd, flags } = fitCrowdWithFlags(armCount, memberCount, votes);
  const engine = policy.recommend();
  const kept: Duel[] = [];
  for (const vote of votes) {
    const flag = flags[vote.annotator]!;
    if (flag.reversed) kept.push({ a: vote.a, b: vote.b, outcome: (1 - vote.outcome) as Outcome });
    else if (!flag.flagged) kept.push({ a: vote.a, b: vote.b, outcome: vote.outcome });
  }
  let engineReliable = engine;
  if (kept.length !== votes.length || flags.some((flag) => flag.reversed)) {
    policy.fit(kept);
    engineReliable = policy.recommend();
  }
  return {
    engine,
    engineReliable,
    bradleyTerry: argmax(plain.scores),
    crowdBradleyTerry: argmax(crowd.scores),
    oracleBradleyTerry: oracle,
    flags,
    side: crowd.side,
    sideStdErr: crowd.sideStdErr,
    scores: { plain: plain.scores, crowd: crowd.scores },
  };
}

/**
 * The scores an oracle fits, knowing what no real study knows: each member's true scale and side. It drops the votes
 * of members at scale 0 (random clickers), weighs every other vote by its member's scale relative to the largest
 * (reliability fixed at scale / max |scale|, so an adversary's votes count reversed and a careless member's a tenth)
 * and fits a side term only when somebody leans. The model and prior are quality/crowd-bt.ts's with the reliabilities fixed,
 * so on a crowd of equal members it is plain Bradley–Terry. The upper bound of what reliability modelling of the
 * recommendation can reach on the same votes (issue 18's mixed-crowd target). Cost: one crowd fit. Throws on invalid
 * votes or an empty crowd.
 */
export function oracleBradleyTerry(armCount: number, members: readonly CrowdMember[], votes: readonly CrowdVote[]): Float64Array {
  const largest = Math.max(...members.map((member) => Math.abs(member.scale)));
  if (!(largest > 0)) throw new Error("oracleBradleyTerry requires a member with a nonzero scale");
  const informative = votes.filter((vote) => members[vote.annotator]!.scale !== 0);
  return fitCrowdBradleyTerry(armCount, members.length, informative, {
    fitReliability: false,
    reliability: members.map((member) => member.scale / largest),
    // A leaning crowd: the oracle fits the side term (one for all, in the fitted model's units); otherwise none.
    fitSide: members.some((member) => member.side !== 0),
  }).scores;
}

/**
 * Kendall's tau-a between `scores` and `truth` over the arms in `arms` (all when absent):
 * (concordant - discordant) / (m (m - 1) / 2), pairs tied in either counted as neither (Kendall 1938).
 * Cost: O(m^2). Throws if the lengths differ.
 */
export function kendallTau(scores: ArrayLike<number>, truth: ArrayLike<number>, arms?: readonly number[]): number {
  if (scores.length !== truth.length) throw new Error("kendallTau requires vectors of one length");
  const index = arms ?? Array.from({ length: scores.length }, (_, i) => i);
  const m = index.length;
  if (m < 2) return 1;
  let balance = 0;
  for (let x = 0; x < m; x++)
    for (let y = x + 1; y < m; y++) {
      const i = index[x]!;
      const j = index[y]!;
      balance += Math.sign((scores[i]! - scores[j]!) * (truth[i]! - truth[j]!));
    }
  return balance / ((m * (m - 1)) / 2);
}
