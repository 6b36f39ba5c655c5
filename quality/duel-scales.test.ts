import { describe, expect, it } from "vitest";
import { CROWDS, createCrowdAnnotator } from "../bandit/crowd";
import { mulberry32, randomDistinctPair } from "../bandit/random";
import type { Scenario } from "../bandit/scenario";
import { fitCrowdBradleyTerry } from "./crowd-bt";
import { duelScales, fitDuelScales } from "./duel-scales";

describe("duelScales", () => {
  it("gives 1 exactly to a crowd of equal reliabilities and to a single annotator", () => {
    expect(Array.from(duelScales([1.937, 1.937, 1.937], [5, 9, 2]))).toEqual([1, 1, 1]);
    expect(Array.from(duelScales([0.4172], [150]))).toEqual([1]);
  });

  it("divides by the median positive reliability of the annotators with votes and clamps to [-1, 1]", () => {
    // Annotators with votes and beta > 0: 2, 4, 1 -> median 2; the one without votes and the negative one are not in it.
    const scales = duelScales([2, 4, 1, -3, 0.5, 0], [10, 10, 10, 10, 0, 10]);
    expect(Array.from(scales)).toEqual([1, 1, 0.5, -1, 1, 0]);
    // An even count: the mean of the middle two (2 and 3 -> 2.5).
    expect(Array.from(duelScales([1, 2, 3, 4, -1], [1, 1, 1, 1, 1]))).toEqual([0.4, 0.8, 1, 1, -0.4]);
  });

  it("leaves every vote at 1 when no annotator has a positive reliability, and names its requirement", () => {
    expect(Array.from(duelScales([-1, 0], [3, 3]))).toEqual([1, 1]);
    expect(() => duelScales([1, 2], [1])).toThrow(/duelScales requires one vote count per annotator/);
  });
});

describe("fitDuelScales", () => {
  const utility = [0, 1, 2, 3, 4, 5, 6, 7];
  const scenario: Scenario = {
    name: "eight",
    utility: Float64Array.from(utility),
    features: utility.map((u) => Float64Array.from([u / 7, 1 - u / 7])),
    featureSource: "file",
  };

  it("is the crowd fit's reliabilities mapped by duelScales: an adversary's votes reversed, the good members' positive", () => {
    const crowd = CROWDS.adversarial!;
    const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, 3, 0);
    const random = mulberry32(7);
    const votes = Array.from({ length: 600 }, (_, round) => {
      const [a, b] = randomDistinctPair(random, utility.length);
      return shownVote({ a, b, outcome: annotate(a, b, round) }, round);
    });
    const scales = fitDuelScales(utility.length, crowd.members.length, votes);
    const fit = fitCrowdBradleyTerry(utility.length, crowd.members.length, votes, { maxSweeps: 400 });
    const counts = crowd.members.map((_, k) => votes.filter((vote) => vote.annotator === k).length);
    expect(Array.from(scales)).toEqual(Array.from(duelScales(fit.reliability, counts)));
    crowd.members.forEach((member, k) => {
      // Near-deterministic votes (scale 10 on 8 prompts) pin a reliability down only loosely: the good members' scales
      // spread between about 0.6 and 1.
      if (member.scale < 0) expect(scales[k]!).toBeLessThan(-0.5);
      else expect(scales[k]!).toBeGreaterThan(0.4);
    });
  });
});
