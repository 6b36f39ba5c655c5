import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { evaluateStoppingRule, STOPPING_RULE_DEFAULTS } from "./stopping-rule";

/** `rounds` round robins in which arm `winner` beats everyone and the others split evenly. */
function dominantHistory(armCount: number, winner: number, rounds: number): Duel[] {
  const history: Duel[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < armCount; i++) {
      for (let j = i + 1; j < armCount; j++) {
        if (i === winner || j === winner) history.push({ a: i, b: j, outcome: i === winner ? 1 : 0 });
        else history.push({ a: i, b: j, outcome: (r + i + j) % 2 === 0 ? 1 : 0 });
      }
    }
  }
  return history;
}

describe("evaluateStoppingRule", () => {
  it("fires for a leader that beat every arm many times", () => {
    const decision = evaluateStoppingRule(6, dominantHistory(6, 2, 6), 2);
    expect(decision.leader).toBe(2);
    expect(decision.unseenArms).toBe(0);
    expect(decision.margin).toBeGreaterThan(2.5);
    expect(decision.converged).toBe(true);
    expect(decision.votesStillNeeded).toBeNull();
  });

  it("does not fire while the policy recommends another arm than the votes' leader", () => {
    const decision = evaluateStoppingRule(6, dominantHistory(6, 2, 4), 3);
    expect(decision.converged).toBe(false);
    expect(decision.votesStillNeeded).toBeNull();
  });

  it("does not vouch for arms nobody has seen, and counts them in the estimate", () => {
    const history = dominantHistory(6, 2, 4);
    const decision = evaluateStoppingRule(8, history, 2);
    expect(decision.unseenArms).toBe(2);
    expect(decision.converged).toBe(false);
    expect(decision.votesStillNeeded).toBeGreaterThanOrEqual(1);
  });

  it("on a coin-flip record: never separates the two arms, but declares them tied once the tie is established", () => {
    const coinFlips = (votes: number) => Array.from({ length: votes }, (_, r): Duel => ({ a: r % 2, b: 1 - (r % 2), outcome: 1 }));
    const strict = { ...STOPPING_RULE_DEFAULTS, indifference: 0 };
    const long = evaluateStoppingRule(2, coinFlips(2000), 0, strict);
    expect(Math.abs(long.margin)).toBeLessThan(0.1);
    expect(long.converged).toBe(false);
    // With the default indifference zone (0.25 BT points), 40 votes cannot tell a tie from a gap...
    expect(evaluateStoppingRule(2, coinFlips(40), 0).converged).toBe(false);
    // ...but 2,000 can: either arm is within the zone of the best, so the study may stop.
    expect(evaluateStoppingRule(2, coinFlips(2000), 0).converged).toBe(true);
  });

  it("needs fewer further votes as the same evidence accumulates", () => {
    const early = evaluateStoppingRule(6, dominantHistory(6, 2, 1), 2);
    const later = evaluateStoppingRule(6, dominantHistory(6, 2, 2), 2);
    expect(early.converged).toBe(false);
    expect(later.margin).toBeGreaterThan(early.margin);
    expect(early.votesStillNeeded).toBeGreaterThan(0);
    if (!later.converged) expect(later.votesStillNeeded!).toBeLessThan(early.votesStillNeeded!);
  });

  it("never fires before minVotes", () => {
    const history = dominantHistory(3, 0, 5);
    expect(evaluateStoppingRule(3, history, 0, { minVotes: history.length + 1, confidence: 0.1, indifference: 0, priorGames: 1 }).converged).toBe(
      false,
    );
    expect(evaluateStoppingRule(3, history, 0, { minVotes: history.length, confidence: 0.1, indifference: 0, priorGames: 1 }).converged).toBe(true);
  });

  it("names the function when recommended is out of range", () => {
    expect(() => evaluateStoppingRule(3, [], 3)).toThrow(/evaluateStoppingRule requires recommended in \[0, 3\)/);
  });
});
