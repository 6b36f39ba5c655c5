import { describe, expect, it } from "vitest";
import { armGradient, ntkSigma, uncertaintyDiagonal } from "./ntk-ucb";
import { LinearUtilityModel } from "./utility-model";

describe("NTK-UCB diagonal", () => {
  // For f(x) = theta . x the gradient g_i is x_i itself, so U and sigma have hand-computable values.
  const model = new LinearUtilityModel(2);
  const params = Float64Array.of(0.5, -1);
  const features = [Float64Array.of(1, 0), Float64Array.of(0, 1), Float64Array.of(0.6, 0.8)];

  it("returns g = x and f = theta . x for the linear model", () => {
    const gradient = new Float64Array(2);
    expect(armGradient(model, params, features[2]!, gradient)).toBeCloseTo(0.3 - 0.8, 12);
    expect(Array.from(gradient)).toEqual([0.6, 0.8]);
  });

  it("accumulates U = lambda + sum (g_a - g_b)^2 and sigma = sqrt(nu sum (g_i - g_ref)^2 / U)", () => {
    const precision = new Float64Array(2);
    // duels (0,1) and (0,1) again: (1,-1)^2 twice -> U = 0.1 + 2 on both coordinates
    uncertaintyDiagonal(model, params, features, [0, 1], [1, 0], 2, 0.1, precision);
    expect(precision[0]).toBeCloseTo(2.1, 12);
    expect(precision[1]).toBeCloseTo(2.1, 12);
    // sigma of arm 2 against arm 0: (0.6-1, 0.8-0) = (-0.4, 0.8) -> sqrt(2 * (0.16 + 0.64) / 2.1)
    expect(ntkSigma(features[2]!, features[0]!, precision, 2)).toBeCloseTo(Math.sqrt((2 * 0.8) / 2.1), 12);
  });

  it("names the function when lambda is not positive", () => {
    expect(() => uncertaintyDiagonal(model, params, features, [], [], 0, 0, new Float64Array(2))).toThrow(/uncertaintyDiagonal/);
  });
});
