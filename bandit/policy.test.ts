import { describe, expect, it } from "vitest";
import type { Duel, DuelingPolicy, PolicyName } from "./policy";
import { createPolicy, POLICY_NAMES } from "./policy";
import { mulberry32, standardNormal } from "./random";
import { normaliseInPlace } from "./features";

function unitFeatures(count: number, dimension: number, seed: number): Float64Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random))));
}

// Fast settings so every policy can be exercised in milliseconds; the faithful settings are tested in apohf.test.ts.
const quick = { apohf: { trainSteps: 20 }, linear: { trainSteps: 20 }, doublets: { trainSteps: 20 } };

function makePolicy(name: PolicyName | "default", features: Float64Array[], seed = 1): DuelingPolicy {
  return createPolicy(name, { features, random: mulberry32(seed) }, quick);
}

function playVotes(policy: DuelingPolicy, utility: (arm: number) => number, votes: number, seed: number): Duel[] {
  const random = mulberry32(seed);
  const history: Duel[] = [];
  for (let t = 0; t < votes; t++) {
    const [a, b] = policy.selectPair({ random });
    history.push({ a, b, outcome: utility(a) > utility(b) ? 1 : utility(a) < utility(b) ? 0 : 0.5 });
    policy.fit(history);
  }
  return history;
}

describe("createPolicy", () => {
  it("maps default to duet and lists every policy once", () => {
    expect(makePolicy("default", unitFeatures(4, 3, 1)).name).toBe("duet");
    expect(new Set(POLICY_NAMES).size).toBe(POLICY_NAMES.length);
    expect(() => createPolicy("nope" as PolicyName, { features: unitFeatures(3, 2, 1), random: mulberry32(1) })).toThrow(
      /createPolicy: unknown policy/,
    );
  });

  for (const name of POLICY_NAMES) {
    describe(name, () => {
      it("plays a short study: valid distinct pairs, a recommendation, one utility and sigma per arm", () => {
        const features = unitFeatures(12, 4, 2);
        const policy = makePolicy(name, features);
        const history = playVotes(policy, (arm) => features[arm]![0]!, 12, 3);
        for (const { a, b } of history) {
          expect(a).not.toBe(b);
          expect(a).toBeGreaterThanOrEqual(0);
          expect(b).toBeLessThan(12);
        }
        const recommended = policy.recommend();
        expect(recommended).toBeGreaterThanOrEqual(0);
        expect(recommended).toBeLessThan(12);
        expect(policy.utilities().length).toBe(12);
        expect(policy.uncertainties().length).toBe(12);
      });

      it("names the function for fewer than two arms, NaN features, mismatched dimensions and bad votes", () => {
        const single = makePolicy(name, unitFeatures(1, 3, 1));
        expect(() => single.selectPair({ random: mulberry32(1) })).toThrow(new RegExp(`${name}\\.selectPair requires at least two arms`));
        const broken = unitFeatures(3, 3, 1);
        broken[1]![2] = Number.NaN;
        expect(() => makePolicy(name, broken)).toThrow(/requires finite features: arm 1/);
        const policy = makePolicy(name, unitFeatures(3, 3, 1));
        expect(() => policy.addArms([new Float64Array(5)])).toThrow(new RegExp(`${name}\\.addArms requires feature rows of one dimension`));
        expect(() => policy.fit([{ a: 0, b: 7, outcome: 1 }])).toThrow(new RegExp(`${name}\\.fit requires duel arms`));
        expect(() => policy.fit([{ a: 1, b: 1, outcome: 1 }])).toThrow(/two distinct arms/);
      });

      it("accepts new arms mid-study (growing pool)", () => {
        const features = unitFeatures(6, 4, 4);
        const policy = makePolicy(name, features);
        const history = playVotes(policy, (arm) => arm, 6, 5);
        policy.addArms(unitFeatures(3, 4, 6));
        history.push({ a: 8, b: 0, outcome: 1 });
        policy.fit(history);
        expect(policy.utilities().length).toBe(9);
        const [a, b] = policy.selectPair({ random: mulberry32(2) });
        expect(Math.max(a, b)).toBeLessThan(9);
      });
    });
  }
});

describe("duet with pending pairs", () => {
  it("gives K concurrent annotators K distinct pairs", () => {
    const features = unitFeatures(40, 8, 7);
    const policy = makePolicy("duet", features);
    playVotes(policy, (arm) => features[arm]![0]!, 15, 8);
    const pending: [number, number][] = [];
    for (let k = 0; k < 8; k++) pending.push(policy.selectPair({ pending, random: mulberry32(k) }));
    const keys = new Set(pending.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`));
    expect(keys.size).toBe(8);
  });

  it("spreads the challengers: hallucinated variance moves later picks to other arms", () => {
    const features = unitFeatures(40, 8, 9);
    const policy = makePolicy("duet", features);
    playVotes(policy, (arm) => features[arm]![1]!, 15, 10);
    const pending: [number, number][] = [];
    for (let k = 0; k < 5; k++) pending.push(policy.selectPair({ pending, random: mulberry32(k) }));
    const arms = new Set(pending.flat());
    expect(arms.size).toBeGreaterThanOrEqual(5);
  });
});
