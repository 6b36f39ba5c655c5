import { describe, expect, it } from "vitest";
import { recordsByQuery, rivalsOnQuery, summarize, verdict, winShareInterval, type CountedVote } from "./leader-results";

// A fixed vote log, counted by hand. Prompt 1 is the leader, 2 and 3 its rivals; queries 10 and 11 are
// tagged billing (11 also refunds), 12 setup, 13 nothing. Each row is `votes` identical votes.
const LOG: CountedVote[] = [
  { queryId: 10, promptAId: 1, promptBId: 2, leftIsA: true, choice: "left", votes: 3 }, // 1 on the left wins: 1 beats 2 ×3
  { queryId: 10, promptAId: 2, promptBId: 1, leftIsA: true, choice: "left", votes: 1 }, // 2 on the left wins: 1 loses to 2
  { queryId: 10, promptAId: 1, promptBId: 3, leftIsA: false, choice: "left", votes: 2 }, // 3 on the left wins: 1 loses to 3 ×2
  { queryId: 11, promptAId: 3, promptBId: 1, leftIsA: false, choice: "right", votes: 4 }, // 3 on the right wins: 1 loses ×4
  { queryId: 11, promptAId: 1, promptBId: 2, leftIsA: true, choice: "tie", votes: 2 }, // drawn ×2
  { queryId: 12, promptAId: 1, promptBId: 2, leftIsA: false, choice: "right", votes: 5 }, // 1 on the right wins ×5
  { queryId: 12, promptAId: 1, promptBId: 3, leftIsA: true, choice: "both_bad", votes: 1 }, // drawn
  { queryId: 12, promptAId: 1, promptBId: 3, leftIsA: true, choice: "skip", votes: 7 }, // no preference: not counted
  { queryId: 13, promptAId: 1, promptBId: 2, leftIsA: true, choice: "right", votes: 1 }, // 2 on the right wins: 1 loses
  { queryId: 13, promptAId: 2, promptBId: 3, leftIsA: true, choice: "left", votes: 9 }, // without the leader: not counted
];
const TAGS = new Map<number, string[]>([
  [10, ["billing"]],
  [11, ["billing", "refunds"]],
  [12, ["setup"]],
]);

describe("the leader's record per query and per tag", () => {
  const byQuery = recordsByQuery(1, LOG);

  it("resolves each vote's side to prompts and counts the leader's wins, losses and draws per query and rival", () => {
    expect(rivalsOnQuery(byQuery, 10)).toEqual([
      { rivalId: 2, record: { wins: 3, losses: 1, draws: 0 } },
      { rivalId: 3, record: { wins: 0, losses: 2, draws: 0 } },
    ]);
    expect(rivalsOnQuery(byQuery, 11)).toEqual([
      { rivalId: 3, record: { wins: 0, losses: 4, draws: 0 } },
      { rivalId: 2, record: { wins: 0, losses: 0, draws: 2 } },
    ]);
    expect(rivalsOnQuery(byQuery, 12)).toEqual([
      { rivalId: 2, record: { wins: 5, losses: 0, draws: 0 } },
      { rivalId: 3, record: { wins: 0, losses: 0, draws: 1 } },
    ]);
    expect(rivalsOnQuery(byQuery, 13)).toEqual([{ rivalId: 2, record: { wins: 0, losses: 1, draws: 0 } }]);
    expect(rivalsOnQuery(byQuery, 99)).toEqual([]);
  });

  it("against every rival: per rival, per tag (worst first), and the queries it loses (worst first)", () => {
    const summary = summarize(byQuery, TAGS, null);
    expect(summary.overall).toEqual({ wins: 8, losses: 8, draws: 3 });
    expect(summary.queriesWithVotes).toBe(4);
    expect(summary.rivals).toEqual(
      expect.arrayContaining([
        { rivalId: 2, record: { wins: 8, losses: 2, draws: 2 } },
        { rivalId: 3, record: { wins: 0, losses: 6, draws: 1 } },
      ]),
    );
    // billing: q10 (3–3) + q11 (0–4, 2 drawn); refunds: q11; setup: q12 (5–0, 1 drawn). Equal margins by name.
    expect(summary.tags).toEqual([
      { tag: "billing", queriesWithVotes: 2, record: { wins: 3, losses: 7, draws: 2 } },
      { tag: "refunds", queriesWithVotes: 1, record: { wins: 0, losses: 4, draws: 2 } },
      { tag: "setup", queriesWithVotes: 1, record: { wins: 5, losses: 0, draws: 1 } },
    ]);
    // q10 is even (3–3), so only q11 (by 4) and q13 (by 1) are lost.
    expect(summary.losingQueries).toEqual([
      { queryId: 11, record: { wins: 0, losses: 4, draws: 2 } },
      { queryId: 13, record: { wins: 0, losses: 1, draws: 0 } },
    ]);
  });

  it("against one rival: only that rival's votes count, and queries without them drop out", () => {
    const summary = summarize(byQuery, TAGS, 3);
    expect(summary.overall).toEqual({ wins: 0, losses: 6, draws: 1 });
    expect(summary.queriesWithVotes).toBe(3);
    expect(summary.tags).toEqual([
      { tag: "billing", queriesWithVotes: 2, record: { wins: 0, losses: 6, draws: 0 } },
      { tag: "refunds", queriesWithVotes: 1, record: { wins: 0, losses: 4, draws: 0 } },
      { tag: "setup", queriesWithVotes: 1, record: { wins: 0, losses: 0, draws: 1 } },
    ]);
    expect(summary.losingQueries.map((result) => result.queryId)).toEqual([11, 10]);
  });

  it("seen from a rival, the same log is the mirror image", () => {
    const fromTwo = recordsByQuery(2, LOG);
    expect(rivalsOnQuery(fromTwo, 10)).toEqual([{ rivalId: 1, record: { wins: 1, losses: 3, draws: 0 } }]);
    expect(rivalsOnQuery(fromTwo, 13)).toEqual([
      { rivalId: 3, record: { wins: 9, losses: 0, draws: 0 } },
      { rivalId: 1, record: { wins: 1, losses: 0, draws: 0 } },
    ]);
  });
});

describe("the win share interval and the verdict", () => {
  it("matches the Wilson score interval computed by hand", () => {
    // 3 of 10: centre (0.3 + 1.9208/10) / 1.38415 = 0.35551, half-width 1.96·sqrt(0.021 + 0.0096036) / 1.38415 = 0.24771.
    const interval = winShareInterval({ wins: 3, losses: 7, draws: 2 })!;
    expect(interval.share).toBeCloseTo(0.3, 10);
    expect(interval.lower).toBeCloseTo(0.1078, 4);
    expect(interval.upper).toBeCloseTo(0.6032, 4);
    // 0 of 4: centre = half-width = (3.8415/8) / 1.96037 = 0.24495.
    const none = winShareInterval({ wins: 0, losses: 4, draws: 0 })!;
    expect(none.lower).toBe(0);
    expect(none.upper).toBeCloseTo(0.4899, 4);
    expect(winShareInterval({ wins: 0, losses: 0, draws: 5 })).toBeNull();
  });

  it("says 'loses clearly' only when the interval lies below one half", () => {
    expect(verdict({ wins: 3, losses: 7, draws: 0 })).toBe("loses");
    expect(verdict({ wins: 0, losses: 4, draws: 0 })).toBe("loses clearly");
    expect(verdict({ wins: 0, losses: 3, draws: 0 })).toBe("loses");
    expect(verdict({ wins: 2, losses: 2, draws: 1 })).toBe("even");
    expect(verdict({ wins: 5, losses: 0, draws: 0 })).toBe("wins");
  });
});
