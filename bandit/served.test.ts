import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { claimProposal, ServedEngine } from "./served";

// claimProposal is the serving rule shared by assign.server.ts and the simulator's `app` (ADR 0016).
describe("claimProposal", () => {
  const open = (pairs: string[]) => pairs.map((pair, index) => ({ index, pair }));

  it("takes the first usable proposal, retiring it and the unusable ones before it, and skips the own last duel for others", () => {
    const retired: number[] = [];
    const claimed = claimProposal(open(["last", "held", "free", "later"]), {
      isOwnLastPair: (pair) => pair === "last",
      isUsable: (pair) => pair !== "held",
      retire: (index) => retired.push(index),
    });
    expect(claimed).toEqual({ index: 2, pair: "free" });
    expect(retired).toEqual([1, 2]);
  });

  it("leaves a pair this annotator has answered on every query open for others (fresh pairs first), and says null when none is left", () => {
    const retired: number[] = [];
    const rules = {
      isOwnLastPair: () => false,
      isUsable: (pair: string) => pair !== "unusable",
      isAnsweredBy: (pair: string) => pair.startsWith("answered"),
      retire: (index: number) => retired.push(index),
    };
    expect(claimProposal(open(["answered-1", "unusable", "answered-2", "fresh"]), rules)).toEqual({ index: 3, pair: "fresh" });
    expect(retired).toEqual([1, 3]);
    retired.length = 0;
    expect(claimProposal(open(["answered-1", "unusable"]), rules)).toBeNull();
    expect(retired).toEqual([1]);
  });
});

describe("ServedEngine: arms out of selection (disabled or retired; docs/decisions/0023)", () => {
  // 8 unit-norm arms of dimension 4, and a history in which arm 0 beats everyone.
  const features = Array.from({ length: 8 }, (_, i) => {
    const row = Float64Array.from({ length: 4 }, (_, k) => Math.cos(i + 1.7 * k));
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
  const history: Duel[] = [];
  for (let round = 0; round < 3; round++) for (let j = 1; j < 8; j++) history.push({ a: 0, b: j, outcome: 1 });

  it("never proposes nor recommends an arm out of selection, keeps its votes, and takes it back when it returns", () => {
    const engine = new ServedEngine(features, { policy: "default", seed: 7 });
    engine.refit(history);
    expect(engine.estimates().recommended).toBe(0);
    const out = Uint8Array.from({ length: 8 }, (_, arm) => (arm === 0 || arm === 3 ? 0 : 1));
    engine.setInSelection(out);
    engine.refit([]);
    expect(engine.votes()).toHaveLength(history.length);
    for (let k = 0; k < 5; k++) {
      const pairs = engine.propose({ pending: [[0, 1]], batchSize: 12 });
      expect(pairs.length).toBeGreaterThan(0);
      for (const [a, b] of pairs) expect([a, b].some((arm) => out[arm] === 0)).toBe(false);
      engine.refit([{ a: pairs[0]![0], b: pairs[0]![1], outcome: 1 }]);
    }
    const estimates = engine.estimates();
    expect([0, 3]).not.toContain(estimates.recommended);
    expect(estimates.recommendationScores[0]).toBe(-Infinity);
    expect(estimates.recommendationScores[3]).toBe(-Infinity);
    engine.setInSelection(new Uint8Array(8).fill(1));
    engine.refit([]);
    expect(engine.estimates().recommended).toBe(0);
  });

  it("behaves exactly as before when every arm is in selection, and resumes only on the selection it saved", () => {
    const plain = new ServedEngine(features, { policy: "default", seed: 3 });
    const flagged = new ServedEngine(features, { policy: "default", seed: 3, inSelection: new Uint8Array(8).fill(1) });
    plain.refit(history);
    flagged.refit(history);
    expect(flagged.propose({ pending: [], batchSize: 6 })).toEqual(plain.propose({ pending: [], batchSize: 6 }));
    const out = Uint8Array.from({ length: 8 }, (_, arm) => (arm === 5 ? 0 : 1));
    flagged.setInSelection(out);
    flagged.refit([]);
    const saved = flagged.saveState()!;
    const resumed = new ServedEngine(features, { policy: "default", seed: 3, inSelection: out, resume: { state: saved.state, history } });
    expect(resumed.resumed).toBe(true);
    expect(resumed.propose({ pending: [], batchSize: 6 })).toEqual(flagged.propose({ pending: [], batchSize: 6 }));
    const elsewhere = new ServedEngine(features, { policy: "default", seed: 3, resume: { state: saved.state, history } });
    expect(elsewhere.resumed).toBe(false);
  });

  it("lets new arms join in or out of selection, and proposes nothing with fewer than two arms in selection", () => {
    const engine = new ServedEngine(features.slice(0, 3), { policy: "default", seed: 1, inSelection: Uint8Array.from([1, 0, 0]) });
    engine.refit([{ a: 0, b: 1, outcome: 1 }]);
    expect(engine.propose({ pending: [], batchSize: 4 })).toEqual([]);
    expect(engine.estimates().recommended).toBe(0);
    engine.addArms([features[3]!, features[4]!], Uint8Array.from([1, 0]));
    engine.refit([]);
    const pairs = engine.propose({ pending: [], batchSize: 4 });
    expect(pairs.length).toBeGreaterThan(0);
    for (const pair of pairs) expect([...pair].sort()).toEqual([0, 3]);
  });
});
