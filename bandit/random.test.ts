import { describe, expect, it } from "vitest";
import { hashUniform, mulberry32, sampleBeta, sampleGamma } from "./random";

function moments(values: number[]) {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

describe("hashUniform", () => {
  it("depends only on its parts, lies in [0, 1) and is spread evenly", () => {
    expect(hashUniform(1, 2, 3, 4)).toBe(hashUniform(1, 2, 3, 4));
    expect(hashUniform(1, 2, 3, 4)).not.toBe(hashUniform(1, 2, 4, 3));
    const draws = Array.from({ length: 20_000 }, (_, k) => hashUniform(7, k, 0));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const { mean, variance } = moments(draws);
    expect(mean).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
  });
});

describe("sampleGamma and sampleBeta", () => {
  // 20,000 draws: the sample mean's standard error is sqrt(var / 20000), under 1% of these means.
  it.each([0.5, 1, 2.5, 9])("Gamma(%s) has mean and variance equal to its shape", (shape) => {
    const random = mulberry32(3);
    const { mean, variance } = moments(Array.from({ length: 20_000 }, () => sampleGamma(random, shape)));
    expect(Math.abs(mean - shape)).toBeLessThan(0.05 * shape);
    expect(Math.abs(variance - shape)).toBeLessThan(0.1 * shape);
  });

  it.each([
    [1, 1],
    [3, 1],
    [2, 7],
    [4.5, 4.5],
  ])("Beta(%s, %s) has mean a/(a+b) and variance ab/((a+b)^2 (a+b+1))", (a, b) => {
    const random = mulberry32(5);
    const draws = Array.from({ length: 20_000 }, () => sampleBeta(random, a, b));
    const { mean, variance } = moments(draws);
    expect(mean).toBeCloseTo(a / (a + b), 2);
    expect(variance).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 2);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1);
  });

  it("names itself on invalid parameters", () => {
    expect(() => sampleGamma(mulberry32(1), 0)).toThrow(/sampleGamma requires a positive shape/);
    expect(() => sampleBeta(mulberry32(1), 1, -1)).toThrow(/sampleBeta requires positive parameters/);
  });
});
