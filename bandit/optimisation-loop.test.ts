import { describe, expect, it } from "vitest";
import { GROWTH_DEFAULTS, initialPool, simulateGrowingPoolTrial, simulateScreeningTrial, votesToReach } from "./optimisation-loop";
import { mulberry32 } from "./random";
import { parseScenario, randomSubset } from "./scenario";
import { SimulatedStudy } from "./served-study";
import { readSharedBenchFile } from "../scripts/lib-sim/scenario-file";

// Tests may read files; the library itself does not.
const linear = parseScenario(JSON.parse(readSharedBenchFile("scenarios/linear.json")));
const base = { initialArms: 10, votes: 60, scale: 10, seed: 3 };

describe("SimulatedStudy", () => {
  it("lets new arms join the running served engine, which then serves them (coverage first)", () => {
    const study = new SimulatedStudy(linear.features, [4, 8, 15, 16], { engineSeed: 1, seed: 2, warmupPairs: 2 });
    for (let t = 0; t < 8; t++) {
      const { pair } = study.nextPair();
      expect(pair.every((arm) => [4, 8, 15, 16].includes(arm))).toBe(true);
      study.vote(linear.utility[pair[0]]! > linear.utility[pair[1]]! ? 1 : 0);
    }
    study.addArms([23, 42]);
    expect(study.arms).toEqual([4, 8, 15, 16, 23, 42]);
    expect(study.engine.policy.utilities().length).toBe(6);
    const served = new Set<number>();
    for (let t = 0; t < 2; t++) {
      const { pair, chosen } = study.nextPair();
      expect(chosen).toBe(true);
      pair.forEach((arm) => served.add(arm));
      study.vote(linear.utility[pair[0]]! > linear.utility[pair[1]]! ? 1 : 0);
    }
    expect(served.has(23) && served.has(42)).toBe(true);
    expect(study.voteCount).toBe(10);
    expect(study.leaders().sort((x, y) => x - y)).toEqual([4, 8, 15, 16, 23, 42]);
  });
});

describe("simulateGrowingPoolTrial", () => {
  const growth = { ...GROWTH_DEFAULTS, everyDecisive: 20 };
  const grown = simulateGrowingPoolTrial(linear, { ...base, growth }, 0);

  it("reveals perRound children of the leaders every everyDecisive votes, never a visible prompt, deterministically", () => {
    expect(grown.rounds.map((round) => round.afterVotes)).toEqual([20, 40]);
    const children = grown.rounds.flatMap((round) => round.children);
    expect(children.length).toBe(10);
    expect(new Set([...grown.initial, ...children]).size).toBe(20);
    for (const round of grown.rounds) expect(new Set(round.parents).size).toBe(5);
    const again = simulateGrowingPoolTrial(linear, { ...base, growth }, 0);
    expect(again.rounds).toEqual(grown.rounds);
    expect(Array.from(again.regret)).toEqual(Array.from(grown.regret));
    const otherSeed = simulateGrowingPoolTrial(linear, { ...base, seed: 4, growth }, 0);
    expect(otherSeed.rounds.flatMap((round) => round.children)).not.toEqual(children);
  });

  it("shares the initial pool and every vote before the first round with the fixed pool (common random numbers)", () => {
    const fixed = simulateGrowingPoolTrial(linear, { ...base, growth: null }, 0);
    expect(fixed.rounds).toEqual([]);
    expect(fixed.initial).toEqual(grown.initial);
    expect(fixed.initialBestRegret).toBe(grown.initialBestRegret);
    expect(fixed.visibleBestRegret).toBe(fixed.initialBestRegret);
    expect(Array.from(fixed.regret.slice(0, 20))).toEqual(Array.from(grown.regret.slice(0, 20)));
    expect(grown.visibleBestRegret).toBeLessThanOrEqual(grown.initialBestRegret);
  });

  it("without noise reveals each parent's nearest hidden prompt", () => {
    const exact = simulateGrowingPoolTrial(linear, { ...base, votes: 25, growth: { ...growth, noise: 0, parents: 5 } }, 1);
    const visible = new Set(exact.initial);
    const [round] = exact.rounds;
    round!.children.forEach((child, k) => {
      const parent = round!.parents[k]!;
      const distance = (j: number) => linear.features[j]!.reduce((sum, value, d) => sum + (value - linear.features[parent]![d]!) ** 2, 0);
      let nearest = -1;
      for (let j = 0; j < linear.features.length; j++) if (!visible.has(j) && (nearest < 0 || distance(j) < distance(nearest))) nearest = j;
      expect(child).toBe(nearest);
      visible.add(child);
    });
  });

  it("draws the initial pool uniformly without repeats and rejects invalid options", () => {
    expect(new Set(initialPool(200, 10, 1, 0)).size).toBe(10);
    expect(initialPool(200, 10, 1, 0)).toEqual(initialPool(200, 10, 1, 0));
    expect(initialPool(200, 10, 1, 1)).not.toEqual(initialPool(200, 10, 1, 0));
    expect(() => initialPool(5, 6, 1, 0)).toThrow(/size/);
    expect(() => simulateGrowingPoolTrial(linear, { ...base, growth: { ...growth, perRound: 0 } }, 0)).toThrow(/perRound/);
  });
});

describe("simulateScreeningTrial", () => {
  it("runs the judge phase, then the humans on the same study and on the judge's shortlist", () => {
    const pool = randomSubset(linear, 14, mulberry32(5));
    const options = { judgeVotes: 30, agreement: 0.8, positionBias: 0.3, shortlistSize: 5, humanVotes: 12, scale: 10, seed: 1 };
    const result = simulateScreeningTrial(pool, options, 0);
    expect(result.judgeRegret.length).toBe(30);
    expect(result.countedRegret.length).toBe(12);
    expect(result.shortlistRegret!.length).toBe(12);
    expect(result.judgeTieShare).toBeGreaterThan(0);
    expect(result.judgeTieShare).toBeLessThan(1);
    expect(result.shortlistBestRegret).toBeGreaterThanOrEqual(0);
    expect(simulateScreeningTrial(pool, options, 0)).toEqual(result);
    const humansOnly = simulateScreeningTrial(pool, { ...options, judgeVotes: 0 }, 0);
    expect(humansOnly.shortlistRegret).toBeNull();
    expect(humansOnly.judgeAgreement).toBeNull();
  });
});

describe("votesToReach", () => {
  it("is the first vote from which regret stays at or below the threshold, null when the last is above it", () => {
    expect(votesToReach(Float64Array.from([0.5, 0.01, 0.2, 0.04, 0]), 0.05)).toBe(4);
    expect(votesToReach(Float64Array.from([0, 0, 0]), 0.05)).toBe(1);
    expect(votesToReach(Float64Array.from([0, 0.3]), 0.05)).toBeNull();
  });
});
