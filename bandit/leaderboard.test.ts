import { describe, expect, it } from "vitest";
import { computeLeaderboard, leftWinRate, winMatrix } from "./leaderboard";
import type { Duel } from "./policy";
import { mulberry32 } from "./random";

const votes: Duel[] = [
  ...Array.from({ length: 8 }, (): Duel => ({ a: 0, b: 1, outcome: 1 })),
  ...Array.from({ length: 2 }, (): Duel => ({ a: 1, b: 0, outcome: 1 })),
  ...Array.from({ length: 6 }, (): Duel => ({ a: 1, b: 2, outcome: 1 })),
  ...Array.from({ length: 3 }, (): Duel => ({ a: 2, b: 0, outcome: 0 })),
  { a: 2, b: 1, outcome: 0.5 },
];

describe("leaderboard", () => {
  it("counts the win matrix with ties as half wins", () => {
    const matrix = winMatrix(3, votes);
    expect(matrix[0]![1]).toBe(8);
    expect(matrix[1]![0]).toBe(2);
    expect(matrix[1]![2]).toBe(6.5);
    expect(matrix[2]![1]).toBe(0.5);
    expect(matrix[0]![2]).toBe(3);
  });

  it("reports the left-side win rate over decisive votes", () => {
    // left (a) won 8 + 2 + 6 = 16 of 19 decisive votes
    expect(leftWinRate(votes)).toEqual({ leftWins: 16, decisive: 19, rate: 16 / 19 });
    expect(leftWinRate([]).rate).toBeNull();
  });

  it("ranks arms, brackets each score with its bootstrap interval, and P(best) sums to 1", () => {
    const board = computeLeaderboard(3, votes, { random: mulberry32(1), samples: 300 });
    expect(board.rows.map((row) => row.arm)).toEqual([0, 1, 2]);
    for (const row of board.rows) {
      expect(row.lower).toBeLessThanOrEqual(row.score + 1e-9);
      expect(row.upper).toBeGreaterThanOrEqual(row.score - 1e-9);
    }
    const total = board.rows.reduce((sum, row) => sum + row.probabilityBest, 0);
    expect(total).toBeCloseTo(1, 9);
    expect(board.rows[0]!.probabilityBest).toBeGreaterThan(0.8);
    expect(board.rows[0]!.wins).toBe(11);
    expect(board.rows[2]!.ties).toBe(1);
  });

  it("is deterministic for a given seed", () => {
    const first = computeLeaderboard(3, votes, { random: mulberry32(42), samples: 50 });
    const second = computeLeaderboard(3, votes, { random: mulberry32(42), samples: 50 });
    expect(second).toEqual(first);
  });

  it("names the function on bad input", () => {
    expect(() => computeLeaderboard(0, [], { random: mulberry32(1) })).toThrow(/computeLeaderboard/);
    expect(() => computeLeaderboard(2, votes, { random: mulberry32(1) })).toThrow(/countPairs/);
  });
});
