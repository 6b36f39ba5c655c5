import { describe, expect, it } from "vitest";
import { rankLeaderboard } from "./leaderboard-ranking";

describe("rankLeaderboard: ranks reflect how much each prompt was measured", () => {
  it("never ranks a prompt with 3 comparisons above one with 40 and a good record, whatever its score", () => {
    const ranked = rankLeaderboard([
      { promptId: 1, recommended: false, comparisons: 3, score: 2.5 },
      { promptId: 2, recommended: false, comparisons: 40, score: 1.1 },
      { promptId: 3, recommended: false, comparisons: 12, score: -0.4 },
      { promptId: 4, recommended: false, comparisons: 0, score: null },
    ]);
    expect(ranked.map(({ entry, measured }) => [entry.promptId, measured])).toEqual([
      [2, true],
      [3, true],
      [1, false],
      [4, false],
    ]);
  });

  it("keeps the engine's recommended prompt on top", () => {
    const ranked = rankLeaderboard([
      { promptId: 1, recommended: false, comparisons: 50, score: 1 },
      { promptId: 2, recommended: true, comparisons: 30, score: 0.9 },
    ]);
    expect(ranked[0]!.entry.promptId).toBe(2);
  });

  it("does not put an under-measured recommended prompt on top: the engine may back an unbeaten prompt on 3 wins", () => {
    const ranked = rankLeaderboard([
      { promptId: 1, recommended: true, comparisons: 3, score: 2.5 },
      { promptId: 2, recommended: false, comparisons: 40, score: 1.1 },
      { promptId: 3, recommended: false, comparisons: 5, score: 0 },
    ]);
    expect(ranked.map(({ entry, measured }) => [entry.promptId, measured])).toEqual([
      [2, true],
      [3, false],
      [1, false],
    ]);
  });
});
