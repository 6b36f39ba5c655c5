import { describe, expect, it } from "vitest";
import { averageDifference, independentZ, meanAndStdErr, pairedDifference, shareAtMost } from "./paired";

describe("pairedDifference", () => {
  it("takes the mean and standard error of the per-trial differences", () => {
    // Differences 0.1, 0.3, 0.2: mean 0.2, sample variance 0.01, SE sqrt(0.01 / 3).
    const difference = pairedDifference([0.5, 0.6, 0.4], [0.4, 0.3, 0.2]);
    expect(difference.mean).toBeCloseTo(0.2, 12);
    expect(difference.stdErr).toBeCloseTo(Math.sqrt(0.01 / 3), 12);
    expect(difference.z).toBeCloseTo(0.2 / Math.sqrt(0.01 / 3), 9);
  });

  it("sees through a shared trial effect that an unpaired comparison would count as noise", () => {
    const theirs = [0.1, 0.9, 0.5, 0.3];
    const ours = theirs.map((value) => value - 0.05);
    const paired = pairedDifference(ours, theirs);
    expect(paired.mean).toBeCloseTo(-0.05, 12);
    expect(paired.z).toBeLessThan(-1e6);
    const unpaired = independentZ(meanAndStdErr(ours).mean, meanAndStdErr(ours).stdErr, meanAndStdErr(theirs).mean, meanAndStdErr(theirs).stdErr);
    expect(Math.abs(unpaired!)).toBeLessThan(0.5);
    expect(pairedDifference([0.2, 0.2], [0.2, 0.2]).z).toBe(0);
  });

  it("refuses unpaired or single trials", () => {
    expect(() => pairedDifference([1, 2], [1])).toThrow(/same trials/);
    expect(() => pairedDifference([1], [1])).toThrow(/at least two/);
  });
});

describe("averageDifference, shareAtMost", () => {
  it("averages independent differences with sqrt(sum SE^2) / S", () => {
    const average = averageDifference([
      { mean: 0.1, stdErr: 0.03, z: 0, trials: 20 },
      { mean: -0.3, stdErr: 0.04, z: 0, trials: 20 },
    ]);
    expect(average.mean).toBeCloseTo(-0.1, 12);
    expect(average.stdErr).toBeCloseTo(0.025, 12);
    expect(average.z).toBeCloseTo(-4, 9);
  });

  it("counts values at or below a threshold", () => {
    expect(shareAtMost([0, 0.05, 0.051, 1], 0.05)).toBe(0.5);
  });
});
