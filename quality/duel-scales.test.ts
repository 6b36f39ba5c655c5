import { describe, expect, it } from "vitest";
import { sigmoid } from "../bandit/btl-loss";
import { CROWDS, createCrowdAnnotator } from "../bandit/crowd";
import { mulberry32, randomDistinctPair } from "../bandit/random";
import type { Scenario } from "../bandit/scenario";
import type { CrowdVote } from "./crowd-bt";
import { fitCrowdBradleyTerry, flagAnnotators, jointStandardErrors } from "./crowd-bt";
import { CROWD_FIT_MAX_SWEEPS, RELIABILITY_FLAG_SHARE, duelScales, fitCrowdWithFlags, fitVoteModel, servedSideTerm } from "./duel-scales";

const annotators = (reliability: number[], votes: number[], flagged: boolean[]) =>
  reliability.map((beta, k) => ({ reliability: beta, votes: votes[k]!, flagged: flagged[k]! }));

describe("duelScales", () => {
  it("gives 1 exactly to every annotator who is not flagged, whatever their reliability", () => {
    expect(Array.from(duelScales(annotators([1.937, 0.3, 4.2], [5, 9, 2], [false, false, false])))).toEqual([1, 1, 1]);
    expect(Array.from(duelScales(annotators([0.4172], [150], [false])))).toEqual([1]);
  });

  it("scales a flagged annotator by the median positive reliability of those with votes, clamped to [-1, 1]", () => {
    // Annotators with votes and beta > 0: 2, 4, 1 -> median 2; the one without votes and the negative ones are not in it.
    const scales = duelScales(annotators([2, 4, 1, -3, 0.5, 0, -1], [10, 10, 10, 10, 0, 10, 10], [false, true, true, true, true, true, true]));
    expect(Array.from(scales)).toEqual([1, 1, 0.5, -1, 1, 0, -0.5]);
    // An even count: the mean of the middle two (2 and 3 -> 2.5).
    expect(Array.from(duelScales(annotators([1, 2, 3, 4, -1], [1, 1, 1, 1, 1], [true, false, false, false, true])))).toEqual([0.4, 1, 1, 1, -0.4]);
  });

  it("leaves every vote at 1 when no annotator has a positive reliability", () => {
    expect(Array.from(duelScales(annotators([-1, 0], [3, 3], [true, true])))).toEqual([1, 1]);
    expect(Array.from(duelScales([]))).toEqual([]);
  });
});

describe("servedSideTerm", () => {
  it("passes gamma only when its interval at z = 1.96 excludes 0, and 0 for figures that are not finite", () => {
    expect(servedSideTerm(0.9, 0.3)).toBe(0.9);
    expect(servedSideTerm(-0.9, 0.3)).toBe(-0.9);
    expect(servedSideTerm(0.5, 0.3)).toBe(0);
    expect(servedSideTerm(0.588, 0.3)).toBe(0);
    expect(servedSideTerm(0.589, 0.3)).toBe(0.589);
    expect(servedSideTerm(Number.NaN, 0.3)).toBe(0);
    expect(servedSideTerm(1, Number.POSITIVE_INFINITY)).toBe(0);
  });
});

describe("fitCrowdWithFlags and fitVoteModel", () => {
  const utility = [0, 1, 2, 3, 4, 5, 6, 7];
  const scenario: Scenario = {
    name: "eight",
    utility: Float64Array.from(utility),
    features: utility.map((u) => Float64Array.from([u / 7, 1 - u / 7])),
    featureSource: "file",
  };

  it("reverses a flagged adversary's votes and leaves the good members' at 1", () => {
    const crowd = CROWDS.adversarial!;
    const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, 3, 0);
    const random = mulberry32(7);
    const votes = Array.from({ length: 600 }, (_, round) => {
      const [a, b] = randomDistinctPair(random, utility.length);
      return shownVote({ a, b, outcome: annotate(a, b, round) }, round);
    });
    const { fit, flags } = fitCrowdWithFlags(utility.length, crowd.members.length, votes);
    // The adversary's beta is negative, so the mirrored restart runs, and loses: the fit is the one the app stored before
    // ADR 0047 (the default fit, joint standard errors) with its flags.
    const plain = fitCrowdBradleyTerry(utility.length, crowd.members.length, votes, { maxSweeps: CROWD_FIT_MAX_SWEEPS });
    expect(Array.from(fit.reliability)).toEqual(Array.from(plain.reliability));
    expect(flags).toEqual(flagAnnotators(plain, votes, RELIABILITY_FLAG_SHARE));
    const { scales, sideTerm } = fitVoteModel(utility.length, crowd.members.length, votes);
    expect(Array.from(scales)).toEqual(Array.from(duelScales(flags)));
    expect(sideTerm).toBe(servedSideTerm(fit.side, fit.sideStdErr));
    crowd.members.forEach((member, k) => {
      if (member.scale < 0) {
        expect(flags[k]!.flagged).toBe(true);
        expect(scales[k]!).toBeLessThan(-0.5);
      } else expect(scales[k]).toBe(1);
    });
  });

  it("leaves the mirrored mode a heavy early adversary pulls the fit into: the fit with the higher posterior is kept", () => {
    // Six prompts; three good annotators cast 30 % of 200 votes, one adversary (reversed, as strong) the other 70 %.
    const random = mulberry32(11);
    const votes: CrowdVote[] = Array.from({ length: 200 }, () => {
      const [a, b] = randomDistinctPair(random, 6);
      const adversary = random() < 0.7;
      const annotator = adversary ? 3 : Math.floor(random() * 3);
      const win = sigmoid(((adversary ? -3 : 3) * (a - b)) / 2.5);
      return { a, b, outcome: random() < win ? 1 : 0, annotator };
    });
    // From beta = 1 the scores first follow the majority of votes, the adversary's: the good annotators end reversed.
    const single = fitCrowdBradleyTerry(6, 4, votes, { maxSweeps: CROWD_FIT_MAX_SWEEPS, standardErrors: "conditional" });
    expect(Array.from(single.reliability.slice(0, 3)).every((beta) => beta < 0)).toBe(true);
    expect(single.reliability[3]!).toBeGreaterThan(0);
    const { fit, flags } = fitCrowdWithFlags(6, 4, votes);
    expect(fit.logPosterior).toBeGreaterThan(single.logPosterior);
    expect(Array.from(fit.reliability.slice(0, 3)).every((beta) => beta > 0)).toBe(true);
    expect(fit.reliability[3]!).toBeLessThan(0);
    // The prompts in their true order (higher index, higher utility for the good annotators).
    for (let arm = 1; arm < 6; arm++) expect(fit.scores[arm]!).toBeGreaterThan(fit.scores[arm - 1]!);
    // The standard errors are the joint ones of the kept fit, and only the adversary is flagged (reversed).
    expect(Array.from(fit.reliabilityStdErr)).toEqual(Array.from(jointStandardErrors(fit, votes).reliabilityStdErr));
    expect(flags.map((flag) => [flag.flagged, flag.reversed])).toEqual([
      [false, false],
      [false, false],
      [false, false],
      [true, true],
    ]);
    expect(Array.from(duelScales(flags).slice(0, 3))).toEqual([1, 1, 1]);
    expect(duelScales(flags)[3]!).toBeLessThan(-0.5);
  });

  it("gives the engine the crowd's left lean and no side term to a crowd without one", () => {
    // Two clusters of close prompts: within a cluster the lean decides many votes (at scale 10 on eight evenly spread
    // prompts nearly every vote is decided by the utilities, and the lean cannot be seen).
    const clustered: Scenario = { ...scenario, utility: Float64Array.from([0, 0.05, 0.1, 0.15, 1, 1.05, 1.1, 1.15]) };
    const votesOf = (crowdName: "left" | "good") => {
      const { annotate, shownVote } = createCrowdAnnotator(clustered, CROWDS[crowdName]!, 5, 0);
      const random = mulberry32(9);
      return Array.from({ length: 300 }, (_, round) => {
        const [a, b] = randomDistinctPair(random, utility.length);
        return shownVote({ a, b, outcome: annotate(a, b, round) }, round);
      });
    };
    const left = fitVoteModel(utility.length, CROWDS.left!.members.length, votesOf("left"));
    const { fit } = fitCrowdWithFlags(utility.length, CROWDS.left!.members.length, votesOf("left"));
    expect(left.sideTerm).toBe(fit.side);
    expect(left.sideTerm).toBeGreaterThan(0.5);
    expect(Array.from(left.scales).every((scale) => scale === 1)).toBe(true);
    expect(fitVoteModel(utility.length, CROWDS.good!.members.length, votesOf("good")).sideTerm).toBe(0);
  });
});
