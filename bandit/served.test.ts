import { describe, expect, it } from "vitest";
import { claimProposal } from "./served";

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
