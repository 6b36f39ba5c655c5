import { describe, expect, it } from "vitest";
import { convergenceSegments, niceNumber, niceTicks } from "./chart-scale";

describe("chart scales", () => {
  it("rounds to Heckbert's nice numbers (Graphics Gems, 1990): 1, 2, 5, 10 times a power of ten", () => {
    expect([1.4, 1.6, 2.9, 3.1, 6.9, 7.1].map((value) => niceNumber(value, true))).toEqual([1, 2, 2, 5, 5, 10]);
    expect([1, 1.1, 2, 2.1, 5, 5.1].map((value) => niceNumber(value, false))).toEqual([1, 2, 2, 5, 5, 10]);
    expect(niceNumber(340, true)).toBe(500);
    expect(niceNumber(0.023, true)).toBe(0.02);
    expect(niceNumber(0, true)).toBe(1);
  });

  it("labels a vote axis with several nice ticks that cover the data", () => {
    expect(niceTicks(0, 464, 6, { integer: true })).toEqual([0, 100, 200, 300, 400, 500]);
    expect(niceTicks(0, 37, 6, { integer: true })).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0, 150, 6, { integer: true })).toEqual([0, 50, 100, 150]);
    // One vote: whole-vote steps, never 0.2 of a vote.
    expect(niceTicks(0, 1, 6, { integer: true })).toEqual([0, 1]);
    expect(niceTicks(0, 0, 6, { integer: true })).toEqual([0, 1]);
    expect(niceTicks(0, 3, 6, { integer: true })).toEqual([0, 1, 2, 3]);
    for (const max of [7, 19, 83, 999, 12_345]) {
      const ticks = niceTicks(0, max, 6, { integer: true });
      expect(ticks[0]).toBe(0);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      expect(ticks.length).toBeLessThanOrEqual(11);
    }
  });

  it("labels a probability axis without floating-point noise", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 1, 3)).toEqual([0, 0.5, 1]);
  });

  it("draws P(best) only where the recommended prompt has the leaderboard's 10 comparisons, breaking the line elsewhere", () => {
    const points = [
      { voteCount: 1, pBest: 1, recommendedComparisons: 1 },
      { voteCount: 8, pBest: 0.6, recommendedComparisons: 9 },
      { voteCount: 12, pBest: 0.5, recommendedComparisons: 10 },
      { voteCount: 20, pBest: 0.55, recommendedComparisons: 14 },
      // A new leader with few comparisons: a gap, not a jump.
      { voteCount: 25, pBest: 0.9, recommendedComparisons: 4 },
      { voteCount: 40, pBest: 0.7, recommendedComparisons: 18 },
      { voteCount: 44, pBest: null, recommendedComparisons: 20 },
      { voteCount: 50, pBest: 0.8, recommendedComparisons: null },
    ];
    const { segments, firstMeasuredVotes } = convergenceSegments(points);
    expect(firstMeasuredVotes).toBe(12);
    expect(segments.map((segment) => segment.map((point) => point.voteCount))).toEqual([[12, 20], [40]]);
    expect(convergenceSegments(points.slice(0, 2))).toEqual({ segments: [], firstMeasuredVotes: null });
  });
});
