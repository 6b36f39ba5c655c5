import { describe, expect, it } from "vitest";
import { createMlpShape, createMlpWorkspace, initMlpParameters, mlpBackward, mlpForward } from "./mlp";
import { mulberry32, standardNormal } from "./random";

function randomVector(length: number, random: () => number): Float64Array {
  return Float64Array.from({ length }, () => standardNormal(random));
}

describe("mlp", () => {
  const shape = createMlpShape(5, 4);
  const random = mulberry32(7);
  const params = initMlpParameters(shape, random, new Float64Array(shape.parameterCount));
  const x = randomVector(5, random);
  const workspace = createMlpWorkspace(shape);

  it("lays out d*h + h + h*h + h + h + 1 parameters", () => {
    expect(shape.parameterCount).toBe(5 * 4 + 4 + 16 + 4 + 4 + 1);
    expect(createMlpShape(32).parameterCount).toBe(32 * 32 + 32 + 32 * 32 + 32 + 32 + 1);
  });

  it("computes f(x) as the written equation", () => {
    // Independent evaluation with plain arrays: w3 . relu(W2 relu(W1 x + b1) + b2) + b3.
    const h = 4;
    const d = 5;
    const layer1 = Array.from({ length: h }, (_, j) => {
      let sum = params[shape.offsetB1 + j]!;
      for (let k = 0; k < d; k++) sum += params[j * d + k]! * x[k]!;
      return Math.max(0, sum);
    });
    let expected = params[shape.offsetB3]!;
    for (let j = 0; j < h; j++) {
      let sum = params[shape.offsetB2 + j]!;
      for (let k = 0; k < h; k++) sum += params[shape.offsetW2 + j * h + k]! * layer1[k]!;
      expected += params[shape.offsetW3 + j]! * Math.max(0, sum);
    }
    expect(mlpForward(shape, params, x, workspace)).toBeCloseTo(expected, 12);
  });

  it("matches central finite differences for every parameter and every input (upstream 1.7)", () => {
    const upstream = 1.7;
    const gradient = new Float64Array(shape.parameterCount);
    const inputGradient = new Float64Array(5);
    mlpForward(shape, params, x, workspace);
    mlpBackward(shape, params, x, workspace, upstream, gradient, inputGradient);
    const step = 1e-6;
    const probe = Float64Array.from(params);
    for (let k = 0; k < shape.parameterCount; k++) {
      probe[k] = params[k]! + step;
      const plus = mlpForward(shape, probe, x, workspace);
      probe[k] = params[k]! - step;
      const minus = mlpForward(shape, probe, x, workspace);
      probe[k] = params[k]!;
      expect(gradient[k]!).toBeCloseTo((upstream * (plus - minus)) / (2 * step), 5);
    }
    const shifted = Float64Array.from(x);
    for (let k = 0; k < 5; k++) {
      shifted[k] = x[k]! + step;
      const plus = mlpForward(shape, params, shifted, workspace);
      shifted[k] = x[k]! - step;
      const minus = mlpForward(shape, params, shifted, workspace);
      shifted[k] = x[k]!;
      expect(inputGradient[k]!).toBeCloseTo((upstream * (plus - minus)) / (2 * step), 5);
    }
  });

  it("accumulates into gradOut instead of overwriting it", () => {
    const once = new Float64Array(shape.parameterCount);
    mlpForward(shape, params, x, workspace);
    mlpBackward(shape, params, x, workspace, 1, once);
    const twice = Float64Array.from(once);
    mlpBackward(shape, params, x, workspace, 1, twice);
    for (let k = 0; k < once.length; k++) expect(twice[k]).toBeCloseTo(2 * once[k]!, 12);
  });

  it("draws N(0,1) weights by default and small He weights with a near-zero output on request", () => {
    const big = createMlpShape(64, 32);
    const normal = initMlpParameters(big, mulberry32(1), new Float64Array(big.parameterCount));
    const variance = normal.reduce((sum, value) => sum + value * value, 0) / normal.length;
    expect(variance).toBeGreaterThan(0.9);
    expect(variance).toBeLessThan(1.1);
    const he = initMlpParameters(big, mulberry32(1), new Float64Array(big.parameterCount), "he", 0.1);
    const input = new Float64Array(64).fill(1 / 8);
    expect(Math.abs(mlpForward(big, he, input, createMlpWorkspace(big)))).toBeLessThan(1);
    expect(he[big.offsetB3]).toBe(0);
  });

  it("names the function when the output buffer has the wrong size", () => {
    expect(() => initMlpParameters(shape, random, new Float64Array(3))).toThrow(/initMlpParameters/);
    expect(() => createMlpShape(0)).toThrow(/createMlpShape/);
  });
});
