import { describe, expect, it } from "vitest";
import { withCoverage } from "./coverage";
import { normaliseInPlace } from "./features";
import type { CoverageOptions } from "./coverage";
import type { Duel, DuelingPolicy, PolicyOptions } from "./policy";
import { createPolicy } from "./policy";
import { mulberry32, standardNormal } from "./random";

// saveState / restoreState: a policy stopped after a fit and rebuilt from the same features, the same
// seed and the saved state must behave exactly as the one that never stopped (issue 14).

function unitFeatures(count: number, dimension: number, seed: number): Float64Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random))));
}

function duels(count: number, arms: number, seed: number, utility: (arm: number) => number): Duel[] {
  const draws = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const a = Math.floor(draws() * arms);
    const b = (a + 1 + Math.floor(draws() * (arms - 1))) % arms;
    return { a, b, outcome: utility(a) > utility(b) ? 1 : 0 };
  });
}

function observe(policy: DuelingPolicy, seed: number) {
  const random = mulberry32(seed);
  const pairs: [number, number][] = [];
  for (let k = 0; k < 6; k++) pairs.push(policy.selectPair({ pending: [...pairs], random }));
  return { utilities: [...policy.utilities()], uncertainties: [...policy.uncertainties()], recommended: policy.recommend(), pairs };
}

describe("duet saveState / restoreState", () => {
  const features = unitFeatures(30, 80, 4);
  const utility = (arm: number) => features[arm]![0]!;
  const history = duels(60, 20, 7, utility);
  const build = (arms: Float64Array[]) => withCoverage(createPolicy("duet", { features: arms, random: mulberry32(11) }));

  it("resumes exactly: same estimates and pairs now, and the same after later votes and a new arm", () => {
    const live = build(features.slice(0, 20));
    live.fit(history.slice(0, 30));
    live.fit(history.slice(0, 45));
    const saved = live.saveState!();

    const resumed = build(features.slice(0, 20));
    resumed.restoreState!(saved, history.slice(0, 45));
    expect(observe(resumed, 3)).toEqual(observe(live, 3));

    for (const policy of [live, resumed]) {
      policy.addArms(features.slice(20));
      policy.fit(history);
    }
    expect(observe(resumed, 5)).toEqual(observe(live, 5));
  });

  it("resumes exactly with the refit schedule between network refits, the vote guard, no rematch and paced coverage", () => {
    // networkRefitGrowth 0.5: after the network fit at 20 votes, the fits at 24 and 27 are offsets-only, so the state
    // is saved between network refits; coverage every second pick with arms still uncovered at the save.
    const policyOptions: PolicyOptions = { duet: { networkRefitGrowth: 0.5, voteGuard: true, rematch: "unless-beaten" } };
    const coverage: Partial<CoverageOptions> = { period: 2 };
    const buildWith = (arms: Float64Array[]) =>
      withCoverage(createPolicy("duet", { features: arms, random: mulberry32(11) }, policyOptions), coverage);
    const live = buildWith(features);
    for (const length of [20, 24, 27]) live.fit(history.slice(0, length));
    const saved = live.saveState!();

    const resumed = buildWith(features);
    resumed.restoreState!(saved, history.slice(0, 27));
    expect(observe(resumed, 3)).toEqual(observe(live, 3));
    // The next fits follow the same schedule: offsets-only at 29, the network at 42 (grown by half since 20), offsets-only at 60.
    for (const length of [29, 42, 60]) {
      for (const policy of [live, resumed]) policy.fit(history.slice(0, length));
      expect(observe(resumed, length)).toEqual(observe(live, length));
    }
  });

  it("keeps its state apart from the policy's own arrays (a copy), and refuses a state of another shape", () => {
    const policy = build(features.slice(0, 20));
    policy.fit(history);
    const saved = policy.saveState!();
    const before = Float64Array.from(saved.params as Float64Array);
    policy.fit([...history, ...history]);
    expect(saved.params).toEqual(before);
    expect(() => build(features.slice(0, 10)).restoreState!(saved, [])).toThrow(/duet.restoreState requires offsets of length 10/);
  });
});
