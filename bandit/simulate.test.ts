import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseScenario } from "./scenario";
import { simulate, simulateTrial } from "./simulate";

// Tests may read files; the library itself does not.
const linear = parseScenario(JSON.parse(readFileSync(new URL("../../shared/bench/scenarios/linear.json", import.meta.url), "utf8")));

describe("simulate", () => {
  it("is deterministic: the same seed gives the same pairs and regrets, another seed does not", () => {
    const options = { policy: "duet" as const, trials: 1, votes: 30, scale: 10, seed: 11 };
    const first = simulateTrial(linear, options, 0);
    const again = simulateTrial(linear, options, 0);
    expect(again.pairs).toEqual(first.pairs);
    expect(Array.from(again.regret)).toEqual(Array.from(first.regret));
    const other = simulateTrial(linear, { ...options, seed: 12 }, 0);
    expect(other.pairs).not.toEqual(first.pairs);
  });

  it("shares the 5 warm-up pairs across policies and scores regret in [0, max]", () => {
    const options = { trials: 1, votes: 20, scale: 3, seed: 2 };
    const duet = simulateTrial(linear, { ...options, policy: "duet" }, 0);
    const champion = simulateTrial(linear, { ...options, policy: "champion" }, 0);
    expect(duet.pairs.slice(0, 5)).toEqual(champion.pairs.slice(0, 5));
    const maxRegret =
      (Math.max(...linear.utility) - Math.min(...linear.utility)) /
      (Math.max(...linear.utility) - linear.utility.reduce((s, u) => s + u, 0) / linear.utility.length);
    for (const value of duet.regret) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(maxRegret);
    }
    expect(duet.secondsPerVote.length).toBe(15);
  });

  it("summarises trials in the CLI's JSON shape", () => {
    const summary = simulate(linear, { policy: "default", trials: 2, votes: 30, scale: 10, seed: 1 });
    expect(summary.policy).toBe("duet");
    expect(summary.regretCurve.length).toBe(30);
    expect(summary.regretAt["25"]).toBeCloseTo(summary.regretCurve[24]!, 12);
    expect(summary.regretAt["50"]).toBeNull();
    expect(summary.secondsPerVote.p90).toBeGreaterThanOrEqual(summary.secondsPerVote.median);
  });

  it("names the function on bad options and explains bad scenario files", () => {
    expect(() => simulate(linear, { policy: "duet", trials: 0, votes: 10, scale: 1, seed: 1 })).toThrow(/simulate requires trials/);
    expect(() => parseScenario({ name: "x", utility: [1, 2], features: [[1, 0], [1]] })).toThrow(/features\.1: has 1 dimensions, expected 2/);
    expect(() => parseScenario({ name: "x", utility: [1, 2] })).toThrow(/needs `features` or `texts`/);
  });

  it("embeds texts when a scenario has no features", () => {
    const scenario = parseScenario({ name: "t", utility: [0, 1, 2], texts: ["be brief", "be very brief", "write a poem"] });
    expect(scenario.features[0]!.length).toBe(256);
    expect(scenario.featureSource).toBe("lexical");
  });
});
