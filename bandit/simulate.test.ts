import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { parseScenario } from "./scenario";
import { createAnnotator, simulate, simulateTrial } from "./simulate";
import { readSharedBenchFile } from "../scripts/lib-sim/scenario-file";

// Tests may read files; the library itself does not.
const linear = parseScenario(JSON.parse(readSharedBenchFile("scenarios/linear.json")));

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

  it("gives two policies asking the same pair in the same round the same annotator outcome (common random numbers)", () => {
    const options = { policy: "random" as const, trials: 1, votes: 60, scale: 1, seed: 4 };
    const annotate = createAnnotator(linear, options, 0);
    const again = createAnnotator(linear, options, 0);
    // Whatever was asked before, and in either orientation, (round, pair) fixes the outcome.
    for (let round = 0; round < 200; round++) {
      const a = (round * 7) % 200;
      const b = (round * 13 + 1) % 200;
      if (a === b) continue;
      const outcome = annotate(a, b, round);
      again(3, 4, round);
      expect(again(a, b, round)).toBe(outcome);
      expect(again(b, a, round)).toBe(outcome === 0.5 ? 0.5 : 1 - outcome);
    }
    // Two policies of one trial: wherever they ask the same pair in the same round, they get the same answer.
    const [champion, random] = (["champion", "random"] as const).map((policy) => simulateTrial(linear, { ...options, policy }, 0));
    let shared = 0;
    for (let round = 0; round < 60; round++) {
      const x = champion!.history[round]!;
      const y = random!.history[round]!;
      if (x.a === y.a && x.b === y.b) {
        shared += 1;
        expect(x.outcome).toBe(y.outcome);
      } else if (x.a === y.b && x.b === y.a) {
        shared += 1;
        expect(x.outcome).toBe(1 - y.outcome);
      }
    }
    // The 5 warm-up pairs at least.
    expect(shared).toBeGreaterThanOrEqual(5);
    // A noisy annotator at scale 1 is not deterministic: some duels go to the worse arm.
    const upsets = Array.from({ length: 400 }, (_, round) => annotate(0, 1, round)).filter((outcome) => outcome !== annotate(0, 1, 0)).length;
    expect(upsets).toBeGreaterThan(20);
  });

  it("the deterministic annotator always prefers the higher utility, and `app` finds the best prompt of a small study with it", () => {
    const scenario = parseScenario({
      name: "eight",
      utility: [0.2, 0.9, 0.4, 0.1, 0.7, 0.3, 0.8, 0.5],
      features: Array.from({ length: 8 }, (_, i) => [Math.cos(i), Math.sin(i)]),
    });
    const annotate = createAnnotator(scenario, { scale: 10, seed: 1, annotator: "deterministic" }, 0);
    expect(annotate(1, 6, 0)).toBe(1);
    expect(annotate(6, 1, 5)).toBe(0);
    for (let trial = 0; trial < 5; trial++) {
      const result = simulateTrial(scenario, { policy: "app", trials: 1, votes: 24, scale: 10, seed: 3, annotator: "deterministic" }, trial);
      expect(result.regret[23]).toBe(0);
    }
  });

  it("hands `app`'s coverage options to the served engine: cover first, every fourth pick (the default on large pools), or off", () => {
    // linear has 200 arms. After the 5 warm-up pairs, pick t (t = votes so far, one annotator) is a coverage pick,
    // which brings an arm never duelled before, when t % period == 0.
    const options = { policy: "app" as const, trials: 1, votes: 45, scale: 10, seed: 3 };
    const coverFirst = simulateTrial(linear, { ...options, coverage: { period: 1 } }, 0);
    const paced = simulateTrial(linear, options, 0);
    const uncovered = simulateTrial(linear, { ...options, coverage: { minDuelsPerArm: 0 } }, 0);
    expect(coverFirst.pairs.slice(0, 5)).toEqual(uncovered.pairs.slice(0, 5));
    const coveragePicks = (pairs: [number, number][], period: number) => {
      const seen = new Set(pairs.slice(0, 5).flat());
      let bringsNewArm = 0;
      let coverage = 0;
      pairs.slice(5).forEach(([a, b], offset) => {
        if ((5 + offset) % period === 0) {
          coverage++;
          if (!seen.has(a) || !seen.has(b)) bringsNewArm++;
        }
        seen.add(a).add(b);
      });
      return { coverage, bringsNewArm };
    };
    const first = coveragePicks(coverFirst.pairs, 1);
    expect(first.bringsNewArm).toBe(first.coverage);
    // Picks 8, 12, ..., 44.
    const everyFourth = coveragePicks(paced.pairs, 4);
    expect(everyFourth.coverage).toBe(10);
    expect(everyFourth.bringsNewArm).toBe(everyFourth.coverage);
    expect(coverFirst.armsDueled).toBeGreaterThanOrEqual(45);
    // Coverage brings arms the policy alone would not reach. Compared with the second duels of one-duel winners off
    // (docs/decisions/0055): those spend picks on arms already seen, in both runs but not equally.
    const noConfirmation = { ...options, policyOptions: { duet: { confirmContenders: false } } };
    const uncoveredAlone = simulateTrial(linear, { ...noConfirmation, coverage: { minDuelsPerArm: 0 } }, 0);
    expect(uncoveredAlone.armsDueled).toBeLessThan(simulateTrial(linear, noConfirmation, 0).armsDueled);
    // The policy's own picks bring new arms too while its leader keeps winning (it does not rematch an arm it beat,
    // docs/decisions/0050), so pacing can reach as many arms as covering first.
    expect(paced.armsDueled).toBeLessThanOrEqual(coverFirst.armsDueled);
  });

  it("serves concurrent annotators distinct pairs and scores every vote", () => {
    const pending: string[][] = [];
    const result = simulateTrial(
      linear,
      {
        policy: "app",
        trials: 1,
        votes: 40,
        scale: 3,
        seed: 5,
        annotators: 8,
        onEngineUpdate: ({ pending: open }) => pending.push(open.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`)),
      },
      0,
    );
    expect(result.pairs.length).toBe(40);
    expect(result.regret.every((value) => Number.isFinite(value))).toBe(true);
    expect(Math.max(...pending.map((open) => open.length))).toBe(8);
    // Every pending set holds distinct pairs: no two annotators were handed the same pair at once.
    for (const open of pending) expect(new Set(open).size).toBe(open.length);
    expect(result.chosenPairs + result.fallbackPairs).toBe(35);
  });

  it("with reliability scales and a single annotator (every scale 1) serves and recommends exactly as without (docs/decisions/0044)", () => {
    const options = { policy: "app" as const, trials: 1, votes: 40, scale: 10, seed: 3, annotators: 3 };
    const single = { annotatorCount: 1, shownVote: (duel: Duel) => ({ ...duel, annotator: 0 }) };
    const plain = simulateTrial(linear, options, 0);
    const scaled = simulateTrial(linear, { ...options, voteModel: single }, 0);
    expect(scaled.pairs).toEqual(plain.pairs);
    expect(scaled.history).toEqual(plain.history);
    expect(Array.from(scaled.regret)).toEqual(Array.from(plain.regret));
    expect(Array.from(scaled.annotatorScales!)).toEqual([1]);
    expect(plain.annotatorScales).toBeUndefined();
    expect(() => simulateTrial(linear, { ...options, policy: "duet", voteModel: single }, 0)).toThrow(/voteModel needs the served engine/);
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
