import { describe, expect, it } from "vitest";
import { countPairs, fitBradleyTerry } from "./bradley-terry";
import type { Duel, Outcome } from "./policy";

function votes(list: [number, number, Outcome, number][]): Duel[] {
  return list.flatMap(([a, b, outcome, times]) => Array.from({ length: times }, () => ({ a, b, outcome })));
}

/**
 * Independent check: Newton's method on the same penalised log-likelihood, written from scratch here:
 *   l(beta) = sum_pairs [w_ij beta_i + w_ji beta_j - n_ij ln(e^beta_i + e^beta_j)]
 *           + sum_i [g/2 beta_i - g ln(e^beta_i + 1)]           (g virtual ties against a score-0 arm)
 * with the Hessian solved by Gaussian elimination.
 */
function newtonBradleyTerry(armCount: number, data: Duel[], priorGames: number): number[] {
  const beta = new Array<number>(armCount).fill(0);
  for (let iteration = 0; iteration < 100; iteration++) {
    const gradient = new Array<number>(armCount).fill(0);
    const hessian = Array.from({ length: armCount }, () => new Array<number>(armCount).fill(0));
    for (let i = 0; i < armCount; i++) {
      const p = 1 / (1 + Math.exp(-beta[i]!));
      gradient[i]! += priorGames / 2 - priorGames * p;
      hessian[i]![i]! -= priorGames * p * (1 - p);
    }
    for (const { a, b, outcome } of data) {
      const p = 1 / (1 + Math.exp(-(beta[a]! - beta[b]!)));
      gradient[a]! += outcome - p;
      gradient[b]! -= outcome - p;
      const curvature = p * (1 - p);
      hessian[a]![a]! -= curvature;
      hessian[b]![b]! -= curvature;
      hessian[a]![b]! += curvature;
      hessian[b]![a]! += curvature;
    }
    // Solve hessian * step = gradient, then beta -= step.
    const matrix = hessian.map((row, i) => [...row, gradient[i]!]);
    for (let col = 0; col < armCount; col++) {
      let pivot = col;
      for (let row = col + 1; row < armCount; row++) if (Math.abs(matrix[row]![col]!) > Math.abs(matrix[pivot]![col]!)) pivot = row;
      [matrix[col], matrix[pivot]] = [matrix[pivot]!, matrix[col]!];
      for (let row = 0; row < armCount; row++) {
        if (row === col) continue;
        const factor = matrix[row]![col]! / matrix[col]![col]!;
        for (let k = col; k <= armCount; k++) matrix[row]![k]! -= factor * matrix[col]![k]!;
      }
    }
    for (let i = 0; i < armCount; i++) beta[i]! -= matrix[i]![armCount]! / matrix[i]![i]!;
  }
  return beta;
}

describe("fitBradleyTerry", () => {
  it("matches the closed form for two arms without a prior: beta_a - beta_b = ln(W_a / W_b)", () => {
    // a beats b 7 times, loses 2 times, ties once -> W_a = 7.5, W_b = 2.5
    const scores = fitBradleyTerry(
      2,
      votes([
        [0, 1, 1, 7],
        [1, 0, 1, 2],
        [0, 1, 0.5, 1],
      ]),
      { priorGames: 0 },
    );
    expect(scores[0]! - scores[1]!).toBeCloseTo(Math.log(7.5 / 2.5), 8);
    expect(scores[0]! + scores[1]!).toBeCloseTo(0, 8); // centred when there is no anchor
  });

  it("agrees with an independent Newton iteration on the penalised likelihood (4 arms, ties, prior 1)", () => {
    const data = votes([
      [0, 1, 1, 3],
      [1, 0, 1, 1],
      [1, 2, 1, 2],
      [2, 3, 0.5, 2],
      [3, 0, 0, 4],
      [2, 0, 1, 1],
      [3, 1, 0, 1],
    ]);
    const expected = newtonBradleyTerry(4, data, 1);
    const scores = fitBradleyTerry(4, data, { priorGames: 1 });
    for (let i = 0; i < 4; i++) expect(scores[i]!).toBeCloseTo(expected[i]!, 6);
  });

  it("keeps an unbeaten arm finite thanks to the virtual ties, and leaves unplayed arms at 0", () => {
    const scores = fitBradleyTerry(3, votes([[0, 1, 1, 20]]));
    expect(Number.isFinite(scores[0]!)).toBe(true);
    expect(scores[0]!).toBeGreaterThan(scores[1]!);
    expect(scores[2]!).toBeCloseTo(0, 8);
  });

  it("aggregates votes per unordered pair with ties as half wins", () => {
    const counts = countPairs(
      3,
      votes([
        [2, 0, 1, 2],
        [0, 2, 0.5, 1],
      ]),
    );
    expect(Array.from(counts.first)).toEqual([0]);
    expect(Array.from(counts.second)).toEqual([2]);
    expect(counts.games[0]).toBe(3);
    expect(counts.firstWins[0]).toBe(0.5);
  });

  it("names the function on bad votes", () => {
    expect(() => fitBradleyTerry(2, [{ a: 0, b: 5, outcome: 1 }])).toThrow(/countPairs/);
    expect(() => fitBradleyTerry(0, [])).toThrow(/fitBradleyTerry/);
  });
});
