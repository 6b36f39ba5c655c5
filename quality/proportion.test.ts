import { describe, expect, it } from "vitest";
import { isStrongSideBias, wilsonInterval } from "./proportion";

describe("wilsonInterval", () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857-872,
  // Table II, method 3 (score interval without continuity correction), 95%.
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])("gives Newcombe's interval for %i / %i", (successes, trials, lower, upper) => {
    const interval = wilsonInterval(successes, trials);
    expect(interval.lower).toBeCloseTo(lower, 4);
    expect(interval.upper).toBeCloseTo(upper, 4);
    expect(interval.rate).toBe(successes / trials);
  });

  it("knows nothing without trials and names its requirement on bad counts", () => {
    expect(wilsonInterval(0, 0)).toEqual({ successes: 0, trials: 0, rate: null, lower: 0, upper: 1 });
    expect(() => wilsonInterval(3, 2)).toThrow(/wilsonInterval requires/);
    expect(() => wilsonInterval(1.5, 2)).toThrow(/wilsonInterval requires/);
  });
});

describe("isStrongSideBias", () => {
  it("flags an interval beyond the margin on either side, not one that touches it", () => {
    expect(isStrongSideBias({ lower: 0.66, upper: 0.9 }, 0.15)).toBe(true);
    expect(isStrongSideBias({ lower: 0.1, upper: 0.34 }, 0.15)).toBe(true);
    expect(isStrongSideBias({ lower: 0.6, upper: 0.9 }, 0.15)).toBe(false);
    expect(isStrongSideBias({ lower: 0.51, upper: 0.9 }, 0)).toBe(true);
    expect(() => isStrongSideBias({ lower: 0, upper: 1 }, 0.5)).toThrow(/isStrongSideBias requires/);
  });
});
