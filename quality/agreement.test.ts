import { describe, expect, it } from "vitest";
import { mulberry32 } from "../bandit/random";
import {
  cohenKappa,
  cohenKappaEstimate,
  MIN_BOOTSTRAP_ITEMS,
  fleissKappa,
  fleissKappaEstimate,
  krippendorffAlphaEstimate,
  krippendorffAlphaNominal,
} from "./agreement";

/** Turns rows of raters' labels (null = missing) into per-unit category counts over `categories` labels. */
function countsOf(raters: readonly (readonly (number | null)[])[], categories: readonly number[]): number[][] {
  const units = raters[0]!.length;
  return Array.from({ length: units }, (_, u) => categories.map((category) => raters.filter((row) => row[u] === category).length));
}

// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers, twelve
// units, values 1-5 with missing data. The paper works it by hand to n = 40 pairable values and
// alpha (nominal) = 0.743. (Unit 12 has one value only and is not pairable.)
const KRIPPENDORFF_2011 = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
  [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
];

// Fleiss (1971), "Measuring nominal scale agreement among many raters", Table 1: 30 patients, six
// psychiatrists each, five diagnoses (depression, personality disorder, schizophrenia, neurosis,
// other); each row counts the raters per diagnosis. Fleiss reports kappa = .430 (R irr::kappam.fleiss
// on its `diagnoses` data gives 0.43 too). Rows as transcribed in JonasMoss/quadagree data_raw/fleiss1971.csv.
const FLEISS_1971 = [
  [0, 0, 0, 6, 0],
  [0, 3, 0, 0, 3],
  [0, 1, 4, 0, 1],
  [0, 0, 0, 0, 6],
  [0, 3, 0, 3, 0],
  [2, 0, 4, 0, 0],
  [0, 0, 4, 0, 2],
  [2, 0, 3, 1, 0],
  [2, 0, 0, 4, 0],
  [0, 0, 0, 0, 6],
  [1, 0, 0, 5, 0],
  [1, 1, 0, 4, 0],
  [0, 3, 3, 0, 0],
  [1, 0, 0, 5, 0],
  [0, 2, 0, 3, 1],
  [0, 0, 5, 0, 1],
  [3, 0, 0, 1, 2],
  [5, 1, 0, 0, 0],
  [0, 2, 0, 4, 0],
  [1, 0, 2, 0, 3],
  [0, 0, 0, 0, 6],
  [0, 1, 0, 5, 0],
  [0, 2, 0, 1, 3],
  [2, 0, 0, 4, 0],
  [1, 0, 0, 4, 1],
  [0, 5, 0, 1, 0],
  [4, 0, 0, 0, 2],
  [0, 2, 0, 4, 0],
  [1, 0, 5, 0, 0],
  [0, 0, 0, 0, 6],
];

describe("krippendorffAlphaNominal", () => {
  it("reproduces Krippendorff's (2011) nominal worked example, alpha = 0.743", () => {
    const units = countsOf(KRIPPENDORFF_2011, [1, 2, 3, 4, 5]);
    expect(krippendorffAlphaNominal(units)).toBeCloseTo(0.743, 3);
  });

  it("is 1 for perfect agreement and undefined without variation", () => {
    expect(
      krippendorffAlphaNominal([
        [2, 0],
        [0, 3],
        [1, 0],
      ]),
    ).toBe(1);
    expect(
      krippendorffAlphaNominal([
        [2, 0],
        [3, 0],
      ]),
    ).toBeNull();
    expect(
      krippendorffAlphaNominal([
        [1, 0],
        [0, 1],
      ]),
    ).toBeNull();
  });

  it("counts a unit of weight 2 as the unit twice", () => {
    const units = [
      [2, 0, 0],
      [1, 1, 0],
      [0, 1, 2],
    ];
    const doubled = [
      [2, 0, 0],
      [1, 1, 0],
      [1, 1, 0],
      [0, 1, 2],
    ];
    expect(krippendorffAlphaNominal(units, [1, 2, 1])).toBeCloseTo(krippendorffAlphaNominal(doubled)!, 12);
  });

  it("names its requirement on ragged counts", () => {
    expect(() => krippendorffAlphaNominal([[1, 1], [1]])).toThrow(/krippendorffAlphaNominal requires/);
  });
});

describe("fleissKappa", () => {
  it("reproduces Fleiss' (1971) worked example, kappa = 0.430", () => {
    expect(fleissKappa(FLEISS_1971)).toBeCloseTo(0.43, 3);
  });

  it("refuses units with unequal numbers of raters and is undefined without variation", () => {
    expect(() =>
      fleissKappa([
        [2, 0],
        [1, 2],
      ]),
    ).toThrow(/same number of raters/);
    expect(
      fleissKappa([
        [2, 0],
        [2, 0],
      ]),
    ).toBeNull();
  });
});

describe("cohenKappa", () => {
  it("matches a table worked by hand", () => {
    // 100 items, three categories. Agreements 20 + 15 + 40 = 75, p_o = 0.75. Row totals 25, 30, 45;
    // column totals 30, 25, 45; p_e = (25*30 + 30*25 + 45*45) / 100^2 = 3525 / 10000 = 0.3525.
    // kappa = (0.75 - 0.3525) / (1 - 0.3525) = 0.3975 / 0.6475 = 0.6138996...
    const table = [
      [20, 5, 0],
      [10, 15, 5],
      [0, 5, 40],
    ];
    expect(cohenKappa(table)).toBeCloseTo(0.3975 / 0.6475, 12);
    // 2x2 by hand: 50 items, p_o = (20 + 15) / 50 = 0.7, rows 25/25, columns 30/20, p_e = 0.5, kappa = 0.4.
    expect(
      cohenKappa([
        [20, 5],
        [10, 15],
      ]),
    ).toBeCloseTo(0.4, 12);
  });

  it("is undefined when both raters only ever used one category, and refuses a ragged table", () => {
    expect(
      cohenKappa([
        [4, 0],
        [0, 0],
      ]),
    ).toBeNull();
    expect(cohenKappa([])).toBeNull();
    expect(() => cohenKappa([[1, 2], [3]])).toThrow(/square/);
  });
});

describe("bootstrap intervals over items", () => {
  it("are reproducible with a seeded source and contain the estimate", () => {
    const units = countsOf(KRIPPENDORFF_2011, [1, 2, 3, 4, 5]);
    const first = krippendorffAlphaEstimate(units, { random: mulberry32(7), samples: 500 });
    const again = krippendorffAlphaEstimate(units, { random: mulberry32(7), samples: 500 });
    expect(again).toEqual(first);
    expect(first.items).toBe(11);
    expect(first.lower!).toBeLessThan(first.value!);
    expect(first.upper!).toBeGreaterThan(first.value!);
    expect(first.upper!).toBeLessThanOrEqual(1);
  });

  it("narrow as the same agreement is seen on more items", () => {
    const table = [
      [20, 5, 0],
      [10, 15, 5],
      [0, 5, 40],
    ];
    const bigger = table.map((row) => row.map((count) => count * 9));
    const small = cohenKappaEstimate(table, { random: mulberry32(3), samples: 400 });
    const large = cohenKappaEstimate(bigger, { random: mulberry32(3), samples: 400 });
    expect(large.value).toBeCloseTo(small.value!, 12);
    expect(large.upper! - large.lower!).toBeLessThan((small.upper! - small.lower!) / 2);
  });

  it("give no interval on fewer than MIN_BOOTSTRAP_ITEMS items, where every resample is nearly the sample", () => {
    // One disagreement: kappa is 0 (p_o = 0, p_e = 0) and every resample is that item again.
    const one = cohenKappaEstimate(
      [
        [0, 1],
        [0, 0],
      ],
      { random: mulberry32(1), samples: 100 },
    );
    expect(one).toEqual({ value: 0, lower: null, upper: null, items: 1 });
    const table = (disagreements: number) => [
      [2, disagreements],
      [1, 1],
    ];
    // 4 items are still below the minimum; 5 get an interval.
    expect(cohenKappaEstimate(table(0), { random: mulberry32(1), samples: 100 })).toMatchObject({ items: 4, lower: null, upper: null });
    const five = cohenKappaEstimate(table(1), { random: mulberry32(1), samples: 100 });
    expect(five.items).toBe(MIN_BOOTSTRAP_ITEMS);
    expect(five.lower).not.toBeNull();
  });

  it("give no interval when the statistic is undefined", () => {
    const estimate = fleissKappaEstimate(
      [
        [3, 0],
        [3, 0],
      ],
      { random: mulberry32(1), samples: 50 },
    );
    expect(estimate).toEqual({ value: null, lower: null, upper: null, items: 2 });
    const fleiss = fleissKappaEstimate(FLEISS_1971, { random: mulberry32(1), samples: 300 });
    expect(fleiss.lower!).toBeLessThan(0.43);
    expect(fleiss.upper!).toBeGreaterThan(0.43);
  });
});
