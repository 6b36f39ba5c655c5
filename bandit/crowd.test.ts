import { describe, expect, it } from "vitest";
import type { Crowd } from "./crowd";
import { CROWDS, createCrowdAnnotator, crowdRecommendations, kendallTau, oracleBradleyTerry } from "./crowd";
import { fitCrowdBradleyTerry } from "../quality/crowd-bt";
import type { Duel } from "./policy";
import type { AnnotatedDuel } from "./served";
import { createPolicy } from "./policy";
import { mulberry32, randomDistinctPair } from "./random";
import type { Scenario } from "./scenario";
import { createAnnotator, simulateTrial } from "./simulate";

const utility = [0, 1, 2, 3, 4, 5, 6, 7];
const scenario: Scenario = {
  name: "eight",
  utility: Float64Array.from(utility),
  features: utility.map((u) => Float64Array.from([u / 7, 1 - u / 7])),
  featureSource: "file",
};

describe("createCrowdAnnotator", () => {
  it("answers as the bench protocol's annotator at scale 10 for the good crowd (same draws)", () => {
    const single = createAnnotator(scenario, { scale: 10, seed: 5 }, 2);
    const { annotate } = createCrowdAnnotator(scenario, CROWDS.good!, 5, 2);
    const random = mulberry32(1);
    for (let round = 0; round < 300; round++) {
      const [a, b] = randomDistinctPair(random, utility.length);
      expect(annotate(a, b, round)).toBe(single(a, b, round));
    }
  });

  it("draws members uniformly, and each kind answers as its scale and side say", () => {
    const crowd: Crowd = {
      name: "test",
      description: "",
      members: [
        { scale: 10, side: 0 },
        { scale: 0, side: 0 },
        { scale: -10, side: 0 },
        { scale: 0, side: 2 },
      ],
    };
    const { annotate, memberOf, shownVote } = createCrowdAnnotator(scenario, crowd, 9, 0);
    const votes = [0, 0, 0, 0];
    const higherWins = [0, 0, 0, 0];
    const shownLeftWins = [0, 0, 0, 0];
    const rounds = 8000;
    for (let round = 0; round < rounds; round++) {
      const member = memberOf(round);
      // Arm 6 against arm 1: a difference of 5 / sd(utility) = 2.18 standardised units.
      const outcome = annotate(6, 1, round);
      votes[member] = votes[member]! + 1;
      if (outcome === 1) higherWins[member] = higherWins[member]! + 1;
      const shown = shownVote({ a: 6, b: 1, outcome }, round);
      expect(shown.annotator).toBe(member);
      expect(shown.a === 6 ? shown.outcome : 1 - shown.outcome).toBe(outcome);
      if (shown.outcome === 1) shownLeftWins[member] = shownLeftWins[member]! + 1;
    }
    for (const count of votes) expect(Math.abs(count / rounds - 0.25)).toBeLessThan(0.03);
    const share = (wins: number[], k: number) => wins[k]! / votes[k]!;
    expect(share(higherWins, 0)).toBeGreaterThan(0.99);
    expect(Math.abs(share(higherWins, 1) - 0.5)).toBeLessThan(0.05);
    expect(share(higherWins, 2)).toBeLessThan(0.01);
    // The random clicker leaning left: sigmoid(2) = 0.881 of its votes go to the response shown on the left.
    expect(Math.abs(share(shownLeftWins, 3) - 0.881)).toBeLessThan(0.03);
    expect(Math.abs(share(higherWins, 3) - 0.5)).toBeLessThan(0.05);
  });
});

describe("crowdRecommendations", () => {
  it("flags the adversaries, flips their votes for the engine, and the crowd fit ranks by utility", () => {
    const crowd = CROWDS.adversarial!;
    const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, 3, 0);
    const random = mulberry32(7);
    const votes = Array.from({ length: 1200 }, (_, round) => {
      const [a, b] = randomDistinctPair(random, utility.length);
      return shownVote({ a, b, outcome: annotate(a, b, round) }, round);
    });
    // A policy that records what it is fitted on and recommends the arm with the most wins in it.
    let fitted: Duel[] = [];
    const policy = {
      ...createPolicy("champion", { features: scenario.features, random: mulberry32(1) }),
      fit: (history: readonly Duel[]) => {
        fitted = [...history];
      },
      recommend: () => {
        const wins = new Float64Array(utility.length);
        for (const { a, b, outcome } of fitted) {
          wins[a] = wins[a]! + outcome;
          wins[b] = wins[b]! + 1 - outcome;
        }
        return wins.indexOf(Math.max(...wins));
      },
    };
    policy.fit(votes.map(({ a, b, outcome }) => ({ a, b, outcome })));
    const engineBefore = policy.recommend();
    const result = crowdRecommendations(policy, utility.length, crowd.members.length, votes);
    crowd.members.forEach((member, k) => {
      if (member.scale < 0) expect(result.flags[k]).toMatchObject({ flagged: true, reversed: true });
      else expect(result.flags[k]!.flagged).toBe(false);
    });
    expect(result.crowdBradleyTerry).toBe(7);
    expect(result.engine).toBe(engineBefore);
    // Every vote kept (no weak annotator), the adversaries' flipped.
    expect(fitted).toEqual(
      votes.map(({ a, b, outcome, annotator }) => ({ a, b, outcome: crowd.members[annotator]!.scale < 0 ? 1 - outcome : outcome })),
    );
    expect(result.engineReliable).toBe(7);
    expect(kendallTau(result.scores.crowd, utility)).toBeGreaterThan(kendallTau(result.scores.plain, utility) - 1e-12);
    expect(Math.abs(result.side)).toBeLessThan(3 * result.sideStdErr);
  });

  it("feeds simulateTrial through its annotate option", () => {
    const { annotate } = createCrowdAnnotator(scenario, CROWDS.adversarial!, 1, 0);
    const result = simulateTrial(scenario, { policy: "champion", trials: 1, votes: 20, scale: 10, seed: 1, annotate }, 0);
    result.history.forEach((duel, round) => expect(duel.outcome).toBe(annotate(duel.a, duel.b, round)));
  });
});

describe("the served engine with reliability scales (simulateTrial's voteModel, docs/decisions/0044)", () => {
  it("fits the crowd after every vote and gives the adversary a negative scale, the good members a positive one", () => {
    const crowd = CROWDS.adversarial!;
    const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, 2, 0);
    const options = { policy: "app" as const, trials: 1, votes: 150, scale: 10, seed: 2, annotate };
    const scaled = simulateTrial(scenario, { ...options, voteModel: { annotatorCount: crowd.members.length, shownVote } }, 0);
    const again = simulateTrial(scenario, { ...options, voteModel: { annotatorCount: crowd.members.length, shownVote } }, 0);
    expect(again.pairs).toEqual(scaled.pairs);
    const scales = scaled.annotatorScales!;
    crowd.members.forEach((member, k) => {
      if (member.scale < 0) expect(scales[k]!).toBeLessThan(0);
      else expect(scales[k]!).toBeGreaterThan(0.5);
    });
    // The scales change what the engine serves.
    expect(simulateTrial(scenario, options, 0).pairs).not.toEqual(scaled.pairs);
  });

  it("gives the engine the left-leaning crowd's side term, each duel read by the side its a was shown on (docs/decisions/0048)", () => {
    // Two clusters of close prompts, so that the lean decides many votes (see quality/duel-scales.test.ts).
    const clustered: Scenario = { ...scenario, utility: Float64Array.from([0, 0.05, 0.1, 0.15, 1, 1.05, 1.1, 1.15]) };
    const crowd = CROWDS.left!;
    const { annotate, shownVote } = createCrowdAnnotator(clustered, crowd, 2, 0);
    const updates: (readonly Duel[])[] = [];
    const options = { policy: "app" as const, trials: 1, votes: 150, scale: 10, seed: 2, annotate };
    const sided = simulateTrial(
      clustered,
      { ...options, voteModel: { annotatorCount: crowd.members.length, shownVote }, onEngineUpdate: ({ newDuels }) => updates.push(newDuels) },
      0,
    );
    expect(sided.sideTerm!).toBeGreaterThan(0.3);
    // What the engine heard of each vote: its member and whether its a was the left response, as shownVote says.
    const heard = updates.flat() as AnnotatedDuel[];
    expect(heard.length).toBe(150);
    heard.forEach((duel, v) => {
      const shown = shownVote(sided.history[v]!, v);
      expect(duel.aShownLeft).toBe(shown.a === duel.a);
      expect(duel.annotator).toBe(shown.annotator);
    });
  });
});

describe("oracleBradleyTerry", () => {
  const crowdVotes = (crowd: Crowd, count: number) => {
    const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, 4, 0);
    const random = mulberry32(11);
    return Array.from({ length: count }, (_, round) => {
      const [a, b] = randomDistinctPair(random, utility.length);
      return shownVote({ a, b, outcome: annotate(a, b, round) }, round);
    });
  };

  it("is plain Bradley–Terry on a crowd of equal members", () => {
    const votes = crowdVotes(CROWDS.good!, 300);
    const plain = fitCrowdBradleyTerry(utility.length, 10, votes, { fitReliability: false, fitSide: false });
    const oracle = oracleBradleyTerry(utility.length, CROWDS.good!.members, votes);
    oracle.forEach((score, i) => expect(score).toBeCloseTo(plain.scores[i]!, 6));
  });

  it("ignores the random clicker's votes and weighs the careless ones by their scale", () => {
    const mixed = CROWDS.mixed!;
    const votes = crowdVotes(mixed, 600);
    const oracle = oracleBradleyTerry(utility.length, mixed.members, votes);
    // Flipping every vote of the random clicker (scale 0) changes nothing.
    const flipped = votes.map((vote) => (mixed.members[vote.annotator]!.scale === 0 ? { ...vote, outcome: (1 - vote.outcome) as 0 | 1 } : vote));
    oracleBradleyTerry(utility.length, mixed.members, flipped).forEach((score, i) => expect(score).toBeCloseTo(oracle[i]!, 9));
    // The same fit by hand: the scale-0 votes left out, reliabilities 1 and 0.1.
    const byHand = fitCrowdBradleyTerry(
      utility.length,
      mixed.members.length,
      votes.filter((vote) => mixed.members[vote.annotator]!.scale !== 0),
      { fitReliability: false, fitSide: false, reliability: mixed.members.map((member) => member.scale / 10) },
    );
    oracle.forEach((score, i) => expect(score).toBeCloseTo(byHand.scores[i]!, 9));
    expect(kendallTau(oracle, utility)).toBeGreaterThan(0.8);
  });
});

describe("kendallTau", () => {
  it("is 1 for the same order, -1 for the reverse, and counts ties as neither (by hand)", () => {
    expect(kendallTau([1, 2, 3], [10, 20, 30])).toBe(1);
    expect(kendallTau([3, 2, 1], [10, 20, 30])).toBe(-1);
    // pairs (0,1) tie, (0,2) concordant, (1,2) concordant: 2 / 3.
    expect(kendallTau([1, 1, 2], [1, 2, 3])).toBeCloseTo(2 / 3, 12);
    expect(kendallTau([5, 1, 9, 0], [0, 0, 1, 0], [0, 1, 2])).toBeCloseTo(2 / 3, 12);
  });
});
