import { describe, expect, it } from "vitest";
import type { Duel } from "./policy";
import { voteRecord, voteSupportedChoice } from "./vote-support";

describe("voteSupportedChoice", () => {
  // Arm 2 is unbeaten (3 wins) and beat arm 1; arm 1 beat arm 0; arm 3 beat arm 1 once but lost to arm 0.
  const history: Duel[] = [
    { a: 2, b: 1, outcome: 1 },
    { a: 0, b: 2, outcome: 0 },
    { a: 2, b: 3, outcome: 1 },
    { a: 1, b: 0, outcome: 1 },
    { a: 3, b: 1, outcome: 1 },
    { a: 0, b: 3, outcome: 1 },
    { a: 1, b: 0, outcome: 0.5 },
  ];
  const record = voteRecord(history, 4);
  const score = (arm: number) => [0.1, 0.9, 0.2, 0.3][arm]!;

  it("counts decisive records and head-to-head facts (ties count for neither)", () => {
    expect(Array.from(record.wins)).toEqual([1, 1, 3, 1]);
    expect(Array.from(record.losses)).toEqual([2, 2, 0, 2]);
    expect(record.beatenBy(1).sort()).toEqual([2, 3]);
    expect(record.beaten(2).sort()).toEqual([0, 1, 3]);
  });

  it("replaces the model's pick by an unbeaten arm that beat it, and only by such an arm", () => {
    expect(voteSupportedChoice(record, 1, score)).toEqual({ arm: 2, overridden: true });
    // Arm 3 also beat arm 1 but has lost elsewhere: it does not count. Arm 2's pick stands: nobody beat it.
    expect(voteSupportedChoice(record, 2, score)).toEqual({ arm: 2, overridden: false });
    // Arm 0 was beaten by arm 2 (unbeaten) and by arm 1 (not unbeaten).
    expect(voteSupportedChoice(record, 0, score)).toEqual({ arm: 2, overridden: true });
  });

  it("reads a duel at a negative scale reversed and one at scale 0 not at all, as the likelihood does (docs/decisions/0044)", () => {
    const scaled: Duel[] = [...history, { a: 3, b: 2, outcome: 0, scale: -0.5 }, { a: 1, b: 2, outcome: 1, scale: 0 }];
    const weighed = voteRecord(scaled, 4);
    expect(Array.from(weighed.wins)).toEqual([1, 1, 3, 2]);
    expect(Array.from(weighed.losses)).toEqual([2, 2, 1, 2]);
    expect(weighed.beatenBy(2)).toEqual([]);
    expect(weighed.beaten(2).sort()).toEqual([0, 1]);
  });

  it("asks for at least minWins wins before a record counts as plain", () => {
    expect(voteSupportedChoice(record, 1, score, 4)).toEqual({ arm: 1, overridden: false });
    expect(voteSupportedChoice(record, 1, score, 3)).toEqual({ arm: 2, overridden: true });
  });
});
