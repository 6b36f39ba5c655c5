import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { mulberry32 } from "./random";
import type { AnnotatedDuel } from "./served";
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

describe("ServedEngine: the vote model, annotator scales (docs/decisions/0044)", () => {
  const scalesOnly = (annotatorScales: Map<number, number>) => ({ annotatorScales, sideTerm: 0 });
  const features = Array.from({ length: 10 }, (_, i) => {
    const row = Float64Array.from({ length: 4 }, (_, k) => Math.sin(1.3 * i + 0.7 * k + 0.2));
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
  const draws = mulberry32(21);

  it("with every scale 1 proposes and recommends exactly as the engine without annotators, vote after vote", () => {
    const plain = new ServedEngine(features, { policy: "default", seed: 5 });
    const annotated = new ServedEngine(features, { policy: "default", seed: 5, voteModel: scalesOnly(new Map([[1, 1]])) });
    plain.refit([]);
    annotated.refit([]);
    for (let t = 0; t < 40; t++) {
      const proposals = plain.propose({ pending: [[2, 3]], batchSize: 6 });
      expect(annotated.propose({ pending: [[2, 3]], batchSize: 6 })).toEqual(proposals);
      const [a, b] = proposals[0]!;
      const outcome = draws() < 0.5 + 0.4 * Math.sign(features[a]![0]! - features[b]![0]!) ? 1 : 0;
      plain.refit([{ a, b, outcome }]);
      annotated.refit([{ a, b, outcome, annotator: t % 3 }]);
      // Scales of 1, however many, are no scales: no refit, nothing moves.
      if (t === 20) annotated.setVoteModel(scalesOnly(new Map([0, 1, 2].map((k) => [k, 1]))));
      expect(annotated.estimates()).toEqual(plain.estimates());
    }
    expect(annotated.saveState()!.state).toEqual(plain.saveState()!.state);
  });

  // Arm 0 is best: the good annotator (0) says so; the adversary (9) says arm 7 is, often.
  const good: AnnotatedDuel[] = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((j) => ({ a: 0, b: j, outcome: 1, annotator: 0 }));
  const adversary: AnnotatedDuel[] = [
    ...Array.from({ length: 10 }, (): AnnotatedDuel => ({ a: 7, b: 0, outcome: 1, annotator: 9 })),
    ...[1, 2, 3, 4, 5, 6].map((j): AnnotatedDuel => ({ a: j, b: 7, outcome: 0, annotator: 9 })),
  ];
  const history = [...good, ...adversary];

  it("counts the votes of an annotator at scale -1 reversed: the adversary no longer moves the recommendation", () => {
    const unscaled = new ServedEngine(features, { policy: "default", seed: 2 });
    unscaled.refit(history);
    expect(unscaled.estimates().recommended).toBe(7);
    const scaled = new ServedEngine(features, { policy: "default", seed: 2, voteModel: scalesOnly(new Map([[9, -1]])) });
    scaled.refit(history);
    expect(scaled.estimates().recommended).toBe(0);
    // The same as the engine fed the adversary's votes reversed, up to rounding.
    const reversed = new ServedEngine(features, { policy: "default", seed: 2 });
    reversed.refit(history.map(({ a, b, outcome, annotator }) => ({ a, b, outcome: annotator === 9 ? ((1 - outcome) as 0 | 1) : outcome })));
    const expected = reversed.estimates();
    const actual = scaled.estimates();
    expect(actual.recommended).toBe(expected.recommended);
    actual.utilities.forEach((u, arm) => expect(u).toBeCloseTo(expected.utilities[arm]!, 6));
    actual.uncertainties.forEach((sigma, arm) => expect(sigma).toBeCloseTo(expected.uncertainties[arm]!, 6));
  });

  it("refits when the scales change, past votes included, and resumes a saved state only under the same scales", () => {
    const engine = new ServedEngine(features, { policy: "default", seed: 3 });
    engine.refit(history);
    const gap = () => engine.estimates().utilities[0]! - engine.estimates().utilities[7]!;
    const before = gap();
    expect(before).toBeLessThan(0);
    engine.setVoteModel(scalesOnly(new Map([[9, -1]])));
    expect(engine.saveState()).toBeNull();
    // A warm-started refit (duet's refitSteps) on the votes weighed anew: arm 0 gains on arm 7.
    expect(engine.refit([])).toBe(true);
    expect(gap()).toBeGreaterThan(before + 0.1);
    engine.setVoteModel(
      scalesOnly(
        new Map([
          [9, -1],
          [0, 1],
        ]),
      ),
    );
    expect(engine.refit([])).toBe(false);
    const saved = engine.saveState()!;
    const resume = { state: saved.state, history: engine.votes().slice() };
    const same = new ServedEngine(features, { policy: "default", seed: 3, voteModel: scalesOnly(new Map([[9, -1]])), resume });
    expect(same.resumed).toBe(true);
    expect(same.propose({ pending: [], batchSize: 6 })).toEqual(engine.propose({ pending: [], batchSize: 6 }));
    expect(same.estimates()).toEqual(engine.estimates());
    expect(new ServedEngine(features, { policy: "default", seed: 3, resume }).resumed).toBe(false);
    expect(new ServedEngine(features, { policy: "default", seed: 3, voteModel: scalesOnly(new Map([[9, -0.5]])), resume }).resumed).toBe(false);
    expect(() => engine.setVoteModel(scalesOnly(new Map([[4, Number.NaN]])))).toThrow(/finite scales: annotator 4/);
  });
});

describe("ServedEngine: the vote model, the side term (docs/decisions/0048)", () => {
  const features = Array.from({ length: 10 }, (_, i) => {
    const row = Float64Array.from({ length: 4 }, (_, k) => Math.cos(0.9 * i + 1.1 * k + 0.4));
    const norm = Math.hypot(...row);
    return row.map((x) => x / norm);
  });
  const noSides = { annotatorScales: new Map<number, number>(), sideTerm: 0 };
  // Arms 0 and 7 meet 20 times before a crowd that favours the left response: 7 is shown left 14 times and wins 10 of
  // them; 0 is shown left 6 times and wins all 6. The raw tally is 10-10, but 7 wins less often on the left than the lean
  // alone would give it, and 0 more: read with the side, 0 is the better prompt.
  const duels: AnnotatedDuel[] = [
    ...Array.from({ length: 14 }, (_, k): AnnotatedDuel => ({ a: 7, b: 0, outcome: k < 10 ? 1 : 0, aShownLeft: true })),
    ...Array.from({ length: 6 }, (): AnnotatedDuel => ({ a: 0, b: 7, outcome: 1, aShownLeft: true })),
    // The rest of the pool, once each, the sides alternating.
    ...[1, 2, 3, 4, 5, 6, 8, 9].map((j, k): AnnotatedDuel => ({ a: j, b: (j + 3) % 10, outcome: 1, aShownLeft: k % 2 === 0 })),
  ];
  const gap = (engine: ServedEngine) => engine.estimates().utilities[0]! - engine.estimates().utilities[7]!;

  it("with gamma 0 is the engine without a vote model, bit for bit, whatever the sides", () => {
    const plain = new ServedEngine(features, { policy: "default", seed: 4 });
    const sided = new ServedEngine(features, { policy: "default", seed: 4, voteModel: noSides });
    plain.refit(duels.map(({ a, b, outcome }) => ({ a, b, outcome })));
    sided.refit(duels);
    sided.setVoteModel(noSides);
    expect(sided.refit([])).toBe(false);
    expect(sided.estimates()).toEqual(plain.estimates());
    expect(sided.propose({ pending: [[1, 2]], batchSize: 6 })).toEqual(plain.propose({ pending: [[1, 2]], batchSize: 6 }));
    expect(sided.saveState()!.state).toEqual(plain.saveState()!.state);
  });

  it("gives each duel the offset +gamma with a shown left and -gamma shown right: the same as duels carrying those offsets", () => {
    const gamma = 1.4;
    const sided = new ServedEngine(features, { policy: "default", seed: 4, voteModel: { annotatorScales: new Map(), sideTerm: gamma } });
    sided.refit(duels);
    const explicit = new ServedEngine(features, { policy: "default", seed: 4 });
    explicit.refit(duels.map(({ a, b, outcome, aShownLeft }) => ({ a, b, outcome, offset: aShownLeft === false ? -gamma : gamma })));
    expect(sided.estimates()).toEqual(explicit.estimates());
    // An app duel carries no aShownLeft: its `a` is the left response.
    const app = new ServedEngine(features, { policy: "default", seed: 4, voteModel: { annotatorScales: new Map(), sideTerm: gamma } });
    app.refit(
      duels.map((duel) =>
        duel.aShownLeft ? { a: duel.a, b: duel.b, outcome: duel.outcome } : { a: duel.b, b: duel.a, outcome: (1 - duel.outcome) as 0 | 1 },
      ),
    );
    // The same likelihood with each duel's orientation flipped: the same reading (the optimiser's path differs a little).
    expect(app.estimates().recommended).toBe(sided.estimates().recommended);
    expect(gap(app)).toBeCloseTo(gap(sided), 1);
  });

  it("reads the left lean out of the votes: 0 gains on 7; a new gamma refits, and a saved state resumes only under the same", () => {
    const engine = new ServedEngine(features, { policy: "default", seed: 6 });
    engine.refit(duels);
    const before = gap(engine);
    engine.setVoteModel({ annotatorScales: new Map(), sideTerm: 1.4 });
    expect(engine.saveState()).toBeNull();
    expect(engine.refit([])).toBe(true);
    const fresh = new ServedEngine(features, { policy: "default", seed: 6, voteModel: { annotatorScales: new Map(), sideTerm: 1.4 } });
    fresh.refit(duels);
    expect(gap(fresh)).toBeGreaterThan(before + 0.1);
    expect(gap(engine)).toBeGreaterThan(before);
    expect(fresh.estimates().utilities[0]!).toBeGreaterThan(fresh.estimates().utilities[7]!);
    const saved = fresh.saveState()!;
    const resume = { state: saved.state, history: fresh.votes().slice() };
    const same = new ServedEngine(features, { policy: "default", seed: 6, voteModel: { annotatorScales: new Map(), sideTerm: 1.4 }, resume });
    expect(same.resumed).toBe(true);
    expect(same.estimates()).toEqual(fresh.estimates());
    expect(new ServedEngine(features, { policy: "default", seed: 6, resume }).resumed).toBe(false);
    expect(new ServedEngine(features, { policy: "default", seed: 6, voteModel: { annotatorScales: new Map(), sideTerm: 1 }, resume }).resumed).toBe(
      false,
    );
    expect(() => engine.setVoteModel({ annotatorScales: new Map(), sideTerm: Number.POSITIVE_INFINITY })).toThrow(/finite side term/);
  });
});
