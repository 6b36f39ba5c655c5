import { describe, expect, it } from "vitest";
import { btlLoss, sigmoid, softplus } from "./btl-loss";

describe("btlLoss", () => {
  const utilities = Float64Array.from([0.3, -1.2, 2.5, 0.0]);
  const armA = Int32Array.from([0, 2, 1, 3]);
  const armB = Int32Array.from([1, 0, 3, 2]);
  const labels = Float64Array.from([1, 0, 0.5, 1]);

  it("equals the cross-entropy -y ln s(d) - (1-y) ln(1 - s(d)) averaged over duels", () => {
    let expected = 0;
    for (let l = 0; l < 4; l++) {
      const p = 1 / (1 + Math.exp(-(utilities[armA[l]!]! - utilities[armB[l]!]!)));
      expected += -(labels[l]! * Math.log(p) + (1 - labels[l]!) * Math.log(1 - p));
    }
    expect(btlLoss(utilities, armA, armB, labels, 4)).toBeCloseTo(expected / 4, 12);
  });

  it("gives ln 2 for equal utilities whatever the label (a tie's loss is minimal there)", () => {
    const equal = Float64Array.from([1, 1]);
    for (const label of [1, 0, 0.5]) {
      expect(btlLoss(equal, Int32Array.of(0), Int32Array.of(1), Float64Array.of(label), 1)).toBeCloseTo(Math.LN2, 12);
    }
  });

  it("matches central finite differences for dloss/du with labels 1, 0 and 0.5", () => {
    const gradient = new Float64Array(4);
    btlLoss(utilities, armA, armB, labels, 4, gradient);
    const step = 1e-6;
    for (let i = 0; i < 4; i++) {
      const probe = Float64Array.from(utilities);
      probe[i] = utilities[i]! + step;
      const plus = btlLoss(probe, armA, armB, labels, 4);
      probe[i] = utilities[i]! - step;
      const minus = btlLoss(probe, armA, armB, labels, 4);
      expect(gradient[i]!).toBeCloseTo((plus - minus) / (2 * step), 7);
    }
  });

  describe("with a logit scale per duel (docs/decisions/0044)", () => {
    const scales = Float64Array.from([0.3, -1, 0, 1]);

    it("equals the cross-entropy of sigmoid(c delta), and is the unweighted loss bit for bit when every scale is 1", () => {
      let expected = 0;
      for (let l = 0; l < 4; l++) {
        const p = 1 / (1 + Math.exp(-scales[l]! * (utilities[armA[l]!]! - utilities[armB[l]!]!)));
        expected += -(labels[l]! * Math.log(p) + (1 - labels[l]!) * Math.log(1 - p));
      }
      expect(btlLoss(utilities, armA, armB, labels, 4, undefined, scales)).toBeCloseTo(expected / 4, 12);
      const plainGradient = new Float64Array(4);
      const onesGradient = new Float64Array(4);
      const plain = btlLoss(utilities, armA, armB, labels, 4, plainGradient);
      expect(btlLoss(utilities, armA, armB, labels, 4, onesGradient, new Float64Array(4).fill(1))).toBe(plain);
      expect(Array.from(onesGradient)).toEqual(Array.from(plainGradient));
    });

    it("counts a duel at scale -1 as the same duel with the label reversed, and one at scale 0 as ln 2 with no gradient", () => {
      const one = (label: number, scale: number, gradient?: Float64Array) =>
        btlLoss(utilities, Int32Array.of(0), Int32Array.of(2), Float64Array.of(label), 1, gradient, Float64Array.of(scale));
      for (const label of [1, 0, 0.5]) {
        expect(one(label, -1)).toBeCloseTo(one(1 - label, 1), 12);
        const gradient = new Float64Array(4);
        expect(one(label, 0, gradient)).toBeCloseTo(Math.LN2, 12);
        expect(Array.from(gradient)).toEqual([0, 0, 0, 0]);
      }
    });

    it("matches central finite differences for dloss/du = c (sigmoid(c delta) - y) / L", () => {
      const gradient = new Float64Array(4);
      btlLoss(utilities, armA, armB, labels, 4, gradient, scales);
      const step = 1e-6;
      for (let i = 0; i < 4; i++) {
        const probe = Float64Array.from(utilities);
        probe[i] = utilities[i]! + step;
        const plus = btlLoss(probe, armA, armB, labels, 4, undefined, scales);
        probe[i] = utilities[i]! - step;
        const minus = btlLoss(probe, armA, armB, labels, 4, undefined, scales);
        expect(gradient[i]!).toBeCloseTo((plus - minus) / (2 * step), 7);
      }
    });
  });

  describe("with a logit offset per duel, the side term (docs/decisions/0048)", () => {
    const scales = Float64Array.from([0.3, -1, 0, 1]);
    const offsets = Float64Array.from([0.8, -0.8, 0.8, 0]);

    it("equals the cross-entropy of sigmoid(c delta + o), and is the plain loss bit for bit when every offset is 0", () => {
      let expected = 0;
      for (let l = 0; l < 4; l++) {
        const p = 1 / (1 + Math.exp(-(scales[l]! * (utilities[armA[l]!]! - utilities[armB[l]!]!) + offsets[l]!)));
        expected += -(labels[l]! * Math.log(p) + (1 - labels[l]!) * Math.log(1 - p));
      }
      expect(btlLoss(utilities, armA, armB, labels, 4, undefined, scales, offsets)).toBeCloseTo(expected / 4, 12);
      const plainGradient = new Float64Array(4);
      const zerosGradient = new Float64Array(4);
      const plain = btlLoss(utilities, armA, armB, labels, 4, plainGradient, scales);
      expect(btlLoss(utilities, armA, armB, labels, 4, zerosGradient, scales, new Float64Array(4))).toBe(plain);
      expect(Array.from(zerosGradient)).toEqual(Array.from(plainGradient));
    });

    it("reads a win on the favoured side as weaker evidence: the same duel won against the lean moves u more", () => {
      const gradientOf = (offset: number) => {
        const gradient = new Float64Array(2);
        btlLoss(Float64Array.of(0, 0), Int32Array.of(0), Int32Array.of(1), Float64Array.of(1), 1, gradient, null, Float64Array.of(offset));
        return gradient[0]!;
      };
      // a won; shown on the left with the crowd leaning left (o = +1) it pushes u_a up less than shown on the right (o = -1).
      expect(gradientOf(1)).toBeLessThan(0);
      expect(Math.abs(gradientOf(1))).toBeLessThan(Math.abs(gradientOf(0)));
      expect(Math.abs(gradientOf(-1))).toBeGreaterThan(Math.abs(gradientOf(0)));
      expect(gradientOf(1)).toBeCloseTo(sigmoid(1) - 1, 12);
    });

    it("matches central finite differences for dloss/du = c (sigmoid(c delta + o) - y) / L", () => {
      const gradient = new Float64Array(4);
      btlLoss(utilities, armA, armB, labels, 4, gradient, scales, offsets);
      const step = 1e-6;
      for (let i = 0; i < 4; i++) {
        const probe = Float64Array.from(utilities);
        probe[i] = utilities[i]! + step;
        const plus = btlLoss(probe, armA, armB, labels, 4, undefined, scales, offsets);
        probe[i] = utilities[i]! - step;
        const minus = btlLoss(probe, armA, armB, labels, 4, undefined, scales, offsets);
        expect(gradient[i]!).toBeCloseTo((plus - minus) / (2 * step), 7);
      }
    });
  });

  it("stays finite for extreme utility gaps", () => {
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(sigmoid(-1000)).toBe(0);
    expect(Number.isFinite(btlLoss(Float64Array.of(500, -500), Int32Array.of(0), Int32Array.of(1), Float64Array.of(0), 1))).toBe(true);
  });

  it("names the function on bad input", () => {
    expect(() => btlLoss(utilities, armA, armB, labels, 0)).toThrow(/btlLoss requires at least one duel/);
    expect(() => btlLoss(utilities, Int32Array.of(9), Int32Array.of(0), labels, 1)).toThrow(/btlLoss/);
  });
});
