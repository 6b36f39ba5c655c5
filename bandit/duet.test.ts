import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { createPolicy } from "./policy";
import { mulberry32, standardNormal } from "./random";
import { normaliseInPlace } from "./features";

function unitFeatures(count: number, dimension: number, seed: number): Float64Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random))));
}

describe("duet batch selection", () => {
  it("picks with a growing pending list (cached information) exactly as a fresh policy computing it from scratch", () => {
    const features = unitFeatures(40, 6, 3);
    const utility = (arm: number) => features[arm]![0]!;
    const history: Duel[] = [];
    const draws = mulberry32(9);
    for (let t = 0; t < 30; t++) {
      const a = Math.floor(draws() * 40);
      const b = (a + 1 + Math.floor(draws() * 39)) % 40;
      history.push({ a, b, outcome: utility(a) > utility(b) ? 1 : 0 });
    }
    // UCB with a large bonus: the challenger is the arm with the widest interval, so every pending
    // pair's information counts in the choice.
    const fitted = () => {
      const policy = createPolicy(
        "duet",
        { features, random: mulberry32(5) },
        { duet: { challengerRule: "ucb", explorationBonus: 100, laplaceWeights: false } },
      );
      policy.fit(history);
      return policy;
    };
    const constant = () => 0.3;
    const batch = fitted();
    const pending: [number, number][] = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const picks = new Set<string>();
    let changedByOthers = 0;
    let expected: number | null = null;
    for (let k = 0; k < 12; k++) {
      const cached = batch.selectPair({ pending: [...pending], random: constant });
      const fresh = fitted().selectPair({ pending: [...pending], random: constant });
      expect(cached).toEqual(fresh);
      if (expected !== null && cached[1] !== expected) changedByOthers++;
      picks.add(cached.join("-"));
      pending.push(cached);
      // Someone else is already asked about the arm that would come next: that must change the next pick.
      const next = fitted().selectPair({ pending: [...pending], random: constant })[1];
      pending.push([next, (next + 1) % 40]);
      expected = next;
    }
    expect(picks.size).toBe(12);
    expect(changedByOthers).toBeGreaterThan(0);
    // A pending list that is not an extension of the last one is counted afresh.
    expect(batch.selectPair({ pending: [[7, 8]], random: constant })).toEqual(fitted().selectPair({ pending: [[7, 8]], random: constant }));
  });

  it("never pairs the leader with an arm it is already pending against", () => {
    const features = unitFeatures(6, 4, 4);
    const policy = createPolicy("duet", { features, random: mulberry32(2) });
    policy.fit([
      { a: 0, b: 1, outcome: 1 },
      { a: 2, b: 3, outcome: 1 },
    ]);
    const leader = policy.recommend();
    const pending: [number, number][] = [];
    for (let k = 0; k < 4; k++) {
      const pair = policy.selectPair({ pending: [...pending], random: mulberry32(k) });
      expect(pending.some(([a, b]) => (a === pair[0] && b === pair[1]) || (a === pair[1] && b === pair[0]))).toBe(false);
      pending.push(pair);
    }
    expect(pending.filter(([a, b]) => a === leader || b === leader).length).toBeGreaterThan(0);
  });
});

describe("duet's network refit schedule", () => {
  it("refits the network only once the history grew by networkRefitGrowth, the offsets after every vote", () => {
    const features = unitFeatures(20, 4, 11);
    const policy = createPolicy("duet", { features, random: mulberry32(2) }, { duet: { networkRefitGrowth: 0.5 } });
    const history: Duel[] = [];
    const network = (p: typeof policy) => {
      // The network's part of the utilities: an arm in no duel has offset 0, so its utility is f(x).
      const unseen = 19;
      return p.utilities()[unseen]!;
    };
    const outputs: number[] = [];
    for (let t = 0; t < 12; t++) {
      history.push({ a: t % 10, b: (t + 3) % 10, outcome: t % 10 > (t + 3) % 10 ? 1 : 0 });
      policy.fit(history);
      outputs.push(network(policy));
    }
    // Network refits at 1, 2, 3, 5, 8 and 12 votes (growth >= max(1, 0.5 L)); f(x_19) changes only then.
    const changed = outputs.map((value, t) => t === 0 || value !== outputs[t - 1]);
    expect(changed).toEqual([true, true, true, false, true, false, false, true, false, false, false, true]);
  });
});
