import { describe, expect, it } from "vitest";
import { createSimulatedJudge } from "./judge";
import type { Outcome } from "./policy";
import { hashUniform } from "./random";

// A reference human who prefers the lower index 70% of the time (counter-based, like the simulator's annotator).
const human = (a: number, b: number, round: number): Outcome => {
  const loWins = hashUniform(99, round, a + b) < 0.7;
  return a < b === loWins ? 1 : 0;
};
const sample = 20_000;
// Binomial standard error at 20,000 draws is at most 0.0036; 0.015 is four of them.
const tolerance = 0.015;

function judgeMany(agreement: number, positionBias: number, seed = 5) {
  const judge = createSimulatedJudge({ agreement, positionBias, seed }, human);
  return Array.from({ length: sample }, (_, round) => {
    const a = round % 7;
    const b = 7 + (round % 5);
    // Half the questions show the lower index first.
    return round % 2 === 0 ? judge(a, b, round) : judge(b, a, round);
  });
}

describe("createSimulatedJudge", () => {
  it.each([0.6, 0.7, 0.8, 0.9])("agrees with the human's vote on the question at rate p = %s (no position bias: never a tie)", (p) => {
    const verdicts = judgeMany(p, 0);
    const agreeing = verdicts.filter((verdict) => verdict.outcome === verdict.human).length / sample;
    expect(Math.abs(agreeing - p)).toBeLessThan(tolerance);
    expect(verdicts.every((verdict) => verdict.outcome !== 0.5)).toBe(true);
  });

  it("with position bias beta picks the first-shown response in a beta share of the orders where it thinks otherwise; the two orders then tie", () => {
    const beta = 0.25;
    const verdicts = judgeMany(0.8, beta);
    // Order 1 shows a first: where the considered verdict is b, the order says a (1) with probability beta.
    const firstAgainst = verdicts.filter((verdict) => verdict.considered === 0);
    const firstBiased = firstAgainst.filter((verdict) => verdict.orders[0] === 1).length / firstAgainst.length;
    expect(Math.abs(firstBiased - beta)).toBeLessThan(2 * tolerance);
    // Order 2 shows b first: where the considered verdict is a, it says b (0) with probability beta.
    const secondAgainst = verdicts.filter((verdict) => verdict.considered === 1);
    const secondBiased = secondAgainst.filter((verdict) => verdict.orders[1] === 0).length / secondAgainst.length;
    expect(Math.abs(secondBiased - beta)).toBeLessThan(2 * tolerance);
    // A bias toward the considered winner changes nothing, so the orders disagree exactly when it favoured the loser.
    const ties = verdicts.filter((verdict) => verdict.outcome === 0.5).length / sample;
    expect(Math.abs(ties - beta)).toBeLessThan(tolerance);
    for (const verdict of verdicts) {
      if (verdict.outcome !== 0.5) expect(verdict.outcome).toBe(verdict.considered);
    }
    // The decisive votes still agree with the human at rate p.
    const decisive = verdicts.filter((verdict) => verdict.outcome !== 0.5);
    const agreeing = decisive.filter((verdict) => verdict.outcome === verdict.human).length / decisive.length;
    expect(Math.abs(agreeing - 0.8)).toBeLessThan(2 * tolerance);
  });

  it("is deterministic given the seed, and the verdict depends on the pair, not on which side is shown first", () => {
    const judge = createSimulatedJudge({ agreement: 0.7, positionBias: 0.3, seed: 3 }, human);
    const again = createSimulatedJudge({ agreement: 0.7, positionBias: 0.3, seed: 3 }, human);
    for (let round = 0; round < 100; round++) {
      const verdict = judge(2, 9, round);
      expect(again(2, 9, round)).toEqual(verdict);
      const swapped = again(9, 2, round);
      expect(swapped.considered).toBe(verdict.considered === 1 ? 0 : 1);
      expect(swapped.outcome).toBe(verdict.outcome === 0.5 ? 0.5 : 1 - verdict.outcome);
    }
  });

  it("rejects p or beta outside [0, 1]", () => {
    expect(() => createSimulatedJudge({ agreement: 1.2, positionBias: 0, seed: 1 }, human)).toThrow(/agreement/);
    expect(() => createSimulatedJudge({ agreement: 0.8, positionBias: -0.1, seed: 1 }, human)).toThrow(/positionBias/);
  });
});
