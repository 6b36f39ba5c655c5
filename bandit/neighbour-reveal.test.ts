import { describe, expect, it } from "vitest";
import { rankLeaders, revealNeighbour } from "./neighbour-reveal";
import { mulberry32 } from "./random";

// Six unit vectors on a circle in 2-D: arm k at angle k * 10 degrees, so arm k's nearest neighbours are k +- 1.
const features = Array.from({ length: 6 }, (_, k) => Float64Array.from([Math.cos((k * Math.PI) / 18), Math.sin((k * Math.PI) / 18)]));

describe("revealNeighbour", () => {
  it("without noise reveals the nearest hidden arm, never a visible one, and -1 when nothing is hidden", () => {
    const visible = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    expect(revealNeighbour(features, visible, 0, 0, mulberry32(1))).toBe(1);
    visible[1] = 1;
    expect(revealNeighbour(features, visible, 0, 0, mulberry32(1))).toBe(2);
    expect(revealNeighbour(features, Uint8Array.from([1, 1, 1, 1, 1, 1]), 3, 0, mulberry32(1))).toBe(-1);
  });

  it("is deterministic given the seed, and its noise reaches beyond the nearest neighbour", () => {
    const visible = Uint8Array.from([1, 0, 0, 0, 0, 0]);
    const draws = (seed: number) => {
      const random = mulberry32(seed);
      return Array.from({ length: 200 }, () => revealNeighbour(features, visible, 0, 0.4, random));
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(8)).not.toEqual(draws(7));
    const children = draws(7);
    expect(children.every((child) => child >= 1)).toBe(true);
    // Mostly a close neighbour, sometimes a farther one (noise 0.4 is about two neighbour spacings of 0.17).
    expect(children.filter((child) => child === 1).length).toBeGreaterThan(60);
    expect(children.some((child) => child >= 3)).toBe(true);
  });

  it("rejects a parent out of range and a negative noise", () => {
    const visible = new Uint8Array(6);
    expect(() => revealNeighbour(features, visible, 6, 0, mulberry32(1))).toThrow(/parent 6/);
    expect(() => revealNeighbour(features, visible, 0, -1, mulberry32(1))).toThrow(/noise/);
  });
});

describe("rankLeaders", () => {
  it("orders by the recommendation score, then utility (also for unscored arms), then index", () => {
    const scores = Float64Array.from([0.1, -Infinity, 0.5, -Infinity, 0.1]);
    const utilities = Float64Array.from([0.3, 0.9, 0.2, 0.4, 0.3]);
    expect(rankLeaders(scores, utilities)).toEqual([2, 0, 4, 1, 3]);
  });
});
