import { describe, expect, it } from "vitest";
import { crossedThreshold, exhaustedBudget, largestFitting, leaderIsStable, leaderRun } from "./auto-round-rules";

describe("automatic-round rules", () => {
  it("names the largest multiple of N crossed, 0 before the first", () => {
    expect(crossedThreshold(0, 25)).toBe(0);
    expect(crossedThreshold(24, 25)).toBe(0);
    expect(crossedThreshold(25, 25)).toBe(25);
    expect(crossedThreshold(74, 25)).toBe(50);
    expect(crossedThreshold(75, 25)).toBe(75);
    expect(crossedThreshold(10, 0)).toBe(0);
  });

  it("finds since when the newest leader leads, over its unbroken run of snapshots", () => {
    expect(leaderRun([])).toBeNull();
    expect(leaderRun([{ voteCount: 3, recommendedPromptId: null }])).toBeNull();
    const series = [
      { voteCount: 40, recommendedPromptId: 7 },
      { voteCount: 33, recommendedPromptId: 7 },
      { voteCount: 30, recommendedPromptId: 7 },
      { voteCount: 28, recommendedPromptId: 2 },
      { voteCount: 10, recommendedPromptId: 7 },
    ];
    expect(leaderRun(series)).toEqual({ leaderPromptId: 7, sinceVotes: 30 });
    expect(leaderRun(series.slice(3))).toEqual({ leaderPromptId: 2, sinceVotes: 28 });
  });

  it("calls a leader stable after S votes in the lead and the leaderboard's 10 comparisons", () => {
    const run = { sinceVotes: 30 };
    expect(leaderIsStable(run, 40, 12, 10)).toBe(true);
    expect(leaderIsStable(run, 39, 12, 10)).toBe(false);
    expect(leaderIsStable(run, 40, 9, 10)).toBe(false);
    expect(leaderIsStable(run, 40, null, 0)).toBe(false);
    expect(leaderIsStable(null, 40, 12, 0)).toBe(false);
  });

  it("says which budget is spent, rounds first", () => {
    const budgets = { maxRounds: 3, maxPrompts: 10, maxCostUsd: 2 };
    expect(exhaustedBudget(budgets, { rounds: 2, prompts: 9, costUsd: 1.99 })).toBeNull();
    expect(exhaustedBudget(budgets, { rounds: 3, prompts: 10, costUsd: 2 })).toBe("its budget of 3 rounds is spent");
    expect(exhaustedBudget(budgets, { rounds: 1, prompts: 10, costUsd: 0 })).toBe("its budget of 10 prompts is spent");
    expect(exhaustedBudget(budgets, { rounds: 1, prompts: 1, costUsd: 2 })).toBe("its budget of $2.00 is spent");
    expect(exhaustedBudget({ maxRounds: 1, maxPrompts: null, maxCostUsd: null }, { rounds: 0, prompts: 99, costUsd: 99 })).toBeNull();
  });

  it("shrinks K to the largest size that fits, 0 when none does", () => {
    expect(largestFitting(5, (k) => k * 14 <= 50)).toBe(3);
    expect(largestFitting(5, () => true)).toBe(5);
    expect(largestFitting(5, () => false)).toBe(0);
  });
});
