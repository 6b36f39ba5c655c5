import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../bandit/random";
import { attainableCells, bestRowWithReruns, excessZ } from "./cell-noise";

describe("excessZ", () => {
  it("divides the excess by the standard error of the difference of two independent means", () => {
    // 0.5 above with standard errors 0.3 and 0.4: sqrt(0.09 + 0.16) = 0.5, so z = 1.
    expect(excessZ(1.5, 0.3, 1, 0.4)).toBeCloseTo(1, 12);
    expect(excessZ(1, null, 0, 0.1)).toBeNull();
    expect(excessZ(1, 0, 0, 0)).toBeNull();
  });
});

describe("attainableCells", () => {
  it("meets every noiseless cell when the policy equals the best row", () => {
    const cells = [
      {
        rows: [
          { mean: 0.2, stdErr: 0 },
          { mean: 0.1, stdErr: 0 },
        ],
        oursStdErr: 0,
      },
      { rows: [{ mean: 0, stdErr: 0 }], oursStdErr: 0 },
    ];
    expect(attainableCells(cells, 0, 10, mulberry32(1))).toEqual({ met: 2, significantMisses: 0 });
  });

  it("meets half of the cells against one row of equal noise, and fewer against a minimum over rows", () => {
    const oneRow = Array.from({ length: 50 }, () => ({ rows: [{ mean: 0.3, stdErr: 0.05 }], oursStdErr: 0.05 }));
    const oneRowMet = attainableCells(oneRow, 0, 200, mulberry32(2)).met / oneRow.length;
    expect(oneRowMet).toBeGreaterThan(0.47);
    expect(oneRowMet).toBeLessThan(0.53);
    // Against the minimum of three equally good rows, ours must beat all three draws: P = 1/4.
    const threeRows = oneRow.map(({ rows, oursStdErr }) => ({ rows: [rows[0]!, rows[0]!, rows[0]!], oursStdErr }));
    const threeRowsMet = attainableCells(threeRows, 0, 200, mulberry32(3)).met / threeRows.length;
    expect(threeRowsMet).toBeGreaterThan(0.22);
    expect(threeRowsMet).toBeLessThan(0.28);
  });

  it("cannot go below zero regret: a row at 0 with no noise is met only by luck of our own noise", () => {
    const cells = Array.from({ length: 50 }, () => ({ rows: [{ mean: 0, stdErr: 0 }], oursStdErr: 0.05 }));
    const met = attainableCells(cells, 0.1, 200, mulberry32(4)).met / cells.length;
    expect(met).toBeGreaterThan(0.45);
    expect(met).toBeLessThan(0.55);
  });
});

describe("bestRowWithReruns", () => {
  const rows = [
    { algo: "neural", value: 0, stdErr: 0 },
    { algo: "champion", value: 0.05, stdErr: 0.01 },
  ];

  it("keeps the published rows when nothing was re-run", () => {
    expect(bestRowWithReruns(rows, () => undefined)).toEqual({ value: 0, stdErr: 0, label: "neural" });
  });

  it("replaces a re-run row, so a lucky single-initialisation row no longer sets the bar", () => {
    const rerun = (algo: string) => (algo === "neural" ? { value: 0.47, stdErr: 0.09, label: "apohf (ours, for neural)" } : undefined);
    expect(bestRowWithReruns(rows, rerun)).toEqual({ value: 0.05, stdErr: 0.01, label: "champion" });
  });

  it("takes a re-run that comes out lower than every published row", () => {
    const rerun = (algo: string) => (algo === "neural" ? { value: 0.01, stdErr: 0.005, label: "apohf (ours, for neural)" } : undefined);
    expect(bestRowWithReruns([rows[1]!, { algo: "neural", value: 0.2, stdErr: 0 }], rerun)?.label).toBe("apohf (ours, for neural)");
    expect(bestRowWithReruns([], rerun)).toBeUndefined();
  });
});
