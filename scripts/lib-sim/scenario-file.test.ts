import { describe, expect, it } from "vitest";
import { regretScorer } from "./scenario-file";

describe("regretScorer", () => {
  it("scores the best prompt 0 and a prompt of mean utility 1 (hand-computed: max 4, mean 2)", () => {
    const regretOf = regretScorer(Float64Array.from([4, 2, 0, 2]));
    expect(regretOf(0)).toBe(0);
    expect(regretOf(1)).toBe(1);
    expect(regretOf(2)).toBe(2);
  });
});
