import { describe, expect, it } from "vitest";
import { adamStep, createAdamState } from "./adam";

describe("adamStep", () => {
  it("minimises the quadratic 0.5 * sum_k c_k (theta_k - t_k)^2 to its known minimum t", () => {
    const curvature = Float64Array.of(1, 10, 0.1);
    const target = Float64Array.of(3, -2, 0.5);
    const params = new Float64Array(3);
    const gradient = new Float64Array(3);
    const state = createAdamState(3);
    for (let step = 0; step < 5000; step++) {
      for (let k = 0; k < 3; k++) gradient[k] = curvature[k]! * (params[k]! - target[k]!);
      adamStep(params, gradient, state, { learningRate: 0.05 });
    }
    for (let k = 0; k < 3; k++) expect(params[k]).toBeCloseTo(target[k]!, 3);
  });

  it("moves each parameter by lr * sign(g) on the first step (bias correction, Kingma & Ba 2015 §2)", () => {
    const params = Float64Array.of(1, 1);
    adamStep(params, Float64Array.of(0.3, -40), createAdamState(2), { learningRate: 0.01 });
    expect(params[0]).toBeCloseTo(0.99, 6);
    expect(params[1]).toBeCloseTo(1.01, 6);
  });

  it("adds coupled weight decay to the gradient: the minimum of 0.5 (theta - 2)^2 + 0.5 wd theta^2 is 2 / (1 + wd)", () => {
    const params = new Float64Array(1);
    const state = createAdamState(1);
    for (let step = 0; step < 5000; step++) adamStep(params, Float64Array.of(params[0]! - 2), state, { learningRate: 0.02, weightDecay: 1 });
    expect(params[0]).toBeCloseTo(1, 3);
  });

  it("names the function when lengths differ", () => {
    expect(() => adamStep(new Float64Array(2), new Float64Array(3), createAdamState(2), { learningRate: 1 })).toThrow(/adamStep/);
  });
});
