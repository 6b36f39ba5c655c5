import { describe, expect, it } from "vitest";
import { withCoverage } from "./coverage";
import { createPolicy } from "./policy";
import { mulberry32 } from "./random";

const features = Array.from({ length: 5 }, (_, i) => Float64Array.from({ length: 4 }, (_, k) => (k === i % 4 ? 1 : 0)));

describe("withCoverage", () => {
  it("makes every arm duel the recommendation before the inner policy chooses, counting pending pairs", () => {
    const policy = withCoverage(createPolicy("champion", { features, random: mulberry32(1) }));
    policy.fit([
      { a: 0, b: 1, outcome: 1 },
      { a: 0, b: 2, outcome: 1 },
    ]);
    const random = mulberry32(2);
    const first = policy.selectPair({ random });
    expect(first).toEqual([policy.recommend(), 3]);
    // Arm 3 is now pending: the next under-covered arm is 4.
    expect(policy.selectPair({ random, pending: [first] })).toEqual([policy.recommend(), 4]);
    // Every arm covered: the inner policy alone decides, exactly as it would unwrapped.
    const history = [
      { a: 0, b: 1, outcome: 1 as const },
      { a: 0, b: 2, outcome: 1 as const },
      { a: 0, b: 3, outcome: 1 as const },
      { a: 0, b: 4, outcome: 1 as const },
    ];
    const wrapped = withCoverage(createPolicy("champion", { features, random: mulberry32(1) }));
    const alone = createPolicy("champion", { features, random: mulberry32(1) });
    wrapped.fit(history);
    alone.fit(history);
    expect(wrapped.selectPair({ random: mulberry32(9) })).toEqual(alone.selectPair({ random: mulberry32(9) }));
  });

  it("lets an arm added mid-study be shown next", () => {
    const policy = withCoverage(createPolicy("champion", { features: features.slice(0, 2), random: mulberry32(1) }));
    policy.fit([{ a: 0, b: 1, outcome: 1 }]);
    policy.addArms([features[2]!]);
    policy.fit([{ a: 0, b: 1, outcome: 1 }]);
    expect(policy.selectPair({ random: mulberry32(3) })).toEqual([0, 2]);
  });

  it("paces coverage every period-th pick on studies above smallStudyArms, and asks the policy which uncovered arm", () => {
    const many = Array.from({ length: 12 }, (_, i) => Float64Array.from({ length: 4 }, (_, k) => (k === i % 4 ? 1 : 0.1 * (i + 1))));
    for (const row of many) {
      const norm = Math.hypot(...row);
      for (let k = 0; k < row.length; k++) row[k] = row[k]! / norm;
    }
    const history = [
      { a: 0, b: 1, outcome: 1 as const },
      { a: 0, b: 2, outcome: 1 as const },
    ];
    // 12 arms > smallStudyArms 8: with period 3, picks 3, 6, ... (answered + pending) are coverage pairs.
    const paced = withCoverage(createPolicy("duet", { features: many, random: mulberry32(1) }), { period: 3, smallStudyArms: 8, order: "policy" });
    paced.fit(history);
    const alone = createPolicy("duet", { features: many, random: mulberry32(1) });
    alone.fit(history);
    // Pick 2 (two answered, none pending): not a coverage pick, so exactly the inner policy's.
    expect(paced.selectPair({ random: mulberry32(4) })).toEqual(alone.selectPair({ random: mulberry32(4) }));
    // Pick 3: a coverage pick, the recommendation against an arm in no duel yet, chosen by the policy.
    const pending: [number, number][] = [[5, 6]];
    const [leader, challenger] = paced.selectPair({ random: mulberry32(4), pending });
    expect(leader).toBe(paced.recommend());
    expect([0, 1, 2, 5, 6]).not.toContain(challenger);
    // A study of at most smallStudyArms arms covers first whatever the period.
    const small = withCoverage(createPolicy("champion", { features, random: mulberry32(1) }), { period: 3, smallStudyArms: 8 });
    small.fit(history);
    expect(small.selectPair({ random: mulberry32(2) })).toEqual([small.recommend(), 3]);
  });

  it("names itself when misconfigured", () => {
    expect(() => withCoverage(createPolicy("random", { features, random: mulberry32(1) }), { minDuelsPerArm: -1 })).toThrow(
      /withCoverage requires minDuelsPerArm >= 0/,
    );
    expect(() => withCoverage(createPolicy("random", { features, random: mulberry32(1) }), { period: 0 })).toThrow(/integer period >= 1/);
  });
});
