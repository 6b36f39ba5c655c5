import { describe, expect, it } from "vitest";
import { fitBradleyTerry } from "../bandit/bradley-terry";
import type { Outcome } from "../bandit/policy";
import { mulberry32, randomDistinctPair } from "../bandit/random";
import type { CrowdVote } from "./crowd-bt";
import { crowdLogPosterior, fitCrowdBradleyTerry, flagAnnotators, jointStandardErrors } from "./crowd-bt";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Seeded synthetic crowd: random pairs and sides, vote by annotator k with P(left) = sigmoid(beta_k (s_a - s_b) + gamma). */
function synthetic(
  seed: number,
  truth: number[],
  betas: number[],
  gamma: number,
  count: number,
  orient?: (a: number, b: number, random: () => number) => [number, number],
): CrowdVote[] {
  const random = mulberry32(seed);
  const votes: CrowdVote[] = [];
  for (let v = 0; v < count; v++) {
    let [a, b] = randomDistinctPair(random, truth.length);
    if (orient) [a, b] = orient(a, b, random);
    const annotator = v % betas.length;
    const outcome: Outcome = random() < sigmoid(betas[annotator]! * (truth[a]! - truth[b]!) + gamma) ? 1 : 0;
    votes.push({ a, b, outcome, annotator });
  }
  return votes;
}

/** Kendall's tau-a between two score vectors (O(n^2), written here independently of the code under test). */
function kendallTau(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let concordant = 0;
  let discordant = 0;
  for (let i = 0; i < x.length; i++)
    for (let j = i + 1; j < x.length; j++) {
      const product = (x[i]! - x[j]!) * (y[i]! - y[j]!);
      if (product > 0) concordant += 1;
      else if (product < 0) discordant += 1;
    }
  return (concordant - discordant) / ((x.length * (x.length - 1)) / 2);
}

const argmax = (values: ArrayLike<number>) => Array.from(values).reduce((best, value, i, all) => (value > all[best]! ? i : best), 0);

describe("fitCrowdBradleyTerry", () => {
  const truth = [-1.5, -1, -0.5, 0, 0.4, 0.8, 1.2, 1.6];

  it("has the gradient of its log posterior (central differences)", () => {
    const votes = synthetic(3, truth, [1, 0.5, -1], 0.3, 60);
    votes.push({ a: 0, b: 1, outcome: 0.5, annotator: 1 });
    const scores = Float64Array.from(truth, (s, i) => 0.7 * s + 0.1 * i);
    const reliability = Float64Array.from([0.9, 0.4, -0.6]);
    const side = 0.2;
    const n = scores.length;
    const gradient = new Float64Array(n + 4);
    crowdLogPosterior(scores, reliability, side, votes, {}, gradient);
    const h = 1e-6;
    for (let p = 0; p < n + 4; p++) {
      const bump = (delta: number) => {
        const s = scores.slice();
        const r = reliability.slice();
        let g = side;
        if (p < n) s[p] = s[p]! + delta;
        else if (p < n + 3) r[p - n] = r[p - n]! + delta;
        else g += delta;
        return crowdLogPosterior(s, r, g, votes, {});
      };
      expect((bump(h) - bump(-h)) / (2 * h)).toBeCloseTo(gradient[p]!, 5);
    }
  });

  it("ends at a stationary point of its log posterior", () => {
    const votes = synthetic(4, truth, [1, 2, 0.3], 0.5, 400);
    const fit = fitCrowdBradleyTerry(truth.length, 3, votes);
    expect(fit.converged).toBe(true);
    const gradient = new Float64Array(truth.length + 4);
    crowdLogPosterior(fit.scores, fit.reliability, fit.side, votes, {}, gradient);
    for (const value of gradient) expect(Math.abs(value)).toBeLessThan(1e-3);
  });

  it("is fitBradleyTerry's model when reliability and side are not fitted (ties included)", () => {
    const votes = synthetic(5, truth, [1], 0, 120);
    votes.push({ a: 2, b: 5, outcome: 0.5, annotator: 0 }, { a: 7, b: 0, outcome: 0.5, annotator: 0 });
    const fit = fitCrowdBradleyTerry(truth.length, 1, votes, { fitReliability: false, fitSide: false, tolerance: 1e-12 });
    const plain = fitBradleyTerry(truth.length, votes);
    fit.scores.forEach((score, i) => expect(score).toBeCloseTo(plain[i]!, 6));
    expect(fit.reliability[0]).toBe(1);
    expect(fit.side).toBe(0);
  });

  it("recovers known annotator scales on synthetic data (seeded)", () => {
    const betas = [1, 0.3, 2, 1, 0.6];
    const votes = synthetic(11, truth, betas, 0, 6000);
    const fit = fitCrowdBradleyTerry(truth.length, betas.length, votes, { referenceAnnotator: 0 });
    expect(fit.converged).toBe(true);
    expect(fit.reliability[0]).toBe(1);
    betas.forEach((beta, k) => expect(Math.abs(fit.reliability[k]! - beta)).toBeLessThan(0.15));
    // The interval covers the truth for each one (3 standard errors).
    betas.forEach((beta, k) => expect(Math.abs(fit.reliability[k]! - beta)).toBeLessThan(3 * fit.reliabilityStdErr[k]! + 1e-9 + (k === 0 ? 1 : 0)));
    expect(kendallTau(fit.scores, truth)).toBe(1);
  });

  it("recovers the side term of a left-biased crowd and keeps the ranking the side term would move", () => {
    // The lower prompt is shown on the left in 80 % of the votes, and the crowd leans left: without the side term the
    // leaning reads as the lower prompts winning.
    const gamma = 1.5;
    const orient = (a: number, b: number, random: () => number): [number, number] => {
      const [low, high] = truth[a]! < truth[b]! ? [a, b] : [b, a];
      return random() < 0.8 ? [low, high] : [high, low];
    };
    const votes = synthetic(21, truth, [1, 1, 1], gamma, 4000, orient);
    const withSide = fitCrowdBradleyTerry(truth.length, 3, votes, { fitReliability: false });
    const withoutSide = fitCrowdBradleyTerry(truth.length, 3, votes, { fitReliability: false, fitSide: false });
    expect(Math.abs(withSide.side - gamma)).toBeLessThan(0.15);
    expect(Math.abs(withSide.side - gamma)).toBeLessThan(3 * withSide.sideStdErr);
    expect(kendallTau(withSide.scores, truth)).toBe(1);
    expect(argmax(withSide.scores)).toBe(truth.length - 1);
    // The same votes without the side term give a different ranking (the test can fail).
    expect(kendallTau(withoutSide.scores, truth)).toBeLessThan(1);
  });

  it("gives an adversarial annotator a reliability below 0 and flags it, but not the good ones", () => {
    const betas = [1, 1, 1, 1, -1, 0];
    const votes = synthetic(31, truth, betas, 0, 1800);
    const fit = fitCrowdBradleyTerry(truth.length, betas.length, votes);
    const flags = flagAnnotators(fit, votes);
    expect(fit.reliability[4]).toBeLessThan(0);
    expect(flags[4]).toMatchObject({ flagged: true, reversed: true, votes: 300 });
    expect(flags[5]).toMatchObject({ flagged: true, reversed: false });
    for (const k of [0, 1, 2, 3]) expect(flags[k]!.flagged).toBe(false);
    // The adversary does not flip the ranking: the fitted order is the true one.
    expect(kendallTau(fit.scores, truth)).toBeGreaterThan(0.9);
  });

  it("never flags an annotator without votes, and rejects bad input", () => {
    const votes = synthetic(41, truth, [1], 0, 30);
    const fit = fitCrowdBradleyTerry(truth.length, 2, votes);
    expect(fit.reliability[1]).toBe(1);
    expect(flagAnnotators(fit, votes)[1]).toMatchObject({ votes: 0, flagged: false });
    expect(() => fitCrowdBradleyTerry(3, 1, [{ a: 0, b: 0, outcome: 1, annotator: 0 }])).toThrow(/distinct/);
    expect(() => fitCrowdBradleyTerry(3, 1, [{ a: 0, b: 1, outcome: 1, annotator: 1 }])).toThrow(/annotator 1/);
    expect(() => fitCrowdBradleyTerry(3, 1, [{ a: 0, b: 1, outcome: 0.3 as Outcome, annotator: 0 }])).toThrow(/outcome/);
    expect(() => fitCrowdBradleyTerry(3, 1, [], { referenceAnnotator: 2 })).toThrow(/referenceAnnotator/);
  });

  it("takes its joint standard errors from the inverse of the log posterior's Hessian (central differences)", () => {
    const votes = synthetic(51, truth.slice(0, 5), [1, 0.6, 0], 0.2, 80);
    votes.push({ a: 0, b: 1, outcome: 0.5, annotator: 2 });
    const fit = fitCrowdBradleyTerry(5, 3, votes, { tolerance: 1e-10 });
    expect(fit.converged).toBe(true);
    // Numerical Hessian of the log posterior from central differences of its gradient, then its inverse (Gauss–Jordan).
    const m = 5 + 3 + 1;
    const point = Float64Array.from([...fit.scores, ...fit.reliability, fit.side]);
    const gradientAt = (x: Float64Array) => {
      const gradient = new Float64Array(m);
      crowdLogPosterior(x.slice(0, 5), x.slice(5, 8), x[8]!, votes, {}, gradient);
      return gradient;
    };
    const h = 1e-5;
    const information = Array.from({ length: m }, () => new Array<number>(2 * m).fill(0));
    for (let j = 0; j < m; j++) {
      const up = Float64Array.from(point);
      const down = Float64Array.from(point);
      up[j] = up[j]! + h;
      down[j] = down[j]! - h;
      const [gu, gd] = [gradientAt(up), gradientAt(down)];
      for (let i = 0; i < m; i++) information[i]![j] = -(gu[i]! - gd[i]!) / (2 * h);
      information[j]![m + j] = 1;
    }
    for (let c = 0; c < m; c++) {
      const pivot = information[c]![c]!;
      for (let j = 0; j < 2 * m; j++) information[c]![j] = information[c]![j]! / pivot;
      for (let r = 0; r < m; r++) {
        if (r === c) continue;
        const factor = information[r]![c]!;
        for (let j = 0; j < 2 * m; j++) information[r]![j] = information[r]![j]! - factor * information[c]![j]!;
      }
    }
    for (let k = 0; k < 3; k++) expect(fit.reliabilityStdErr[k]).toBeCloseTo(Math.sqrt(information[5 + k]![m + 5 + k]!), 5);
    expect(fit.sideStdErr).toBeCloseTo(Math.sqrt(information[8]![m + 8]!), 5);
    // Conditional standard errors ignore the scores' uncertainty: never larger.
    const conditional = fitCrowdBradleyTerry(5, 3, votes, { tolerance: 1e-10, standardErrors: "conditional" });
    for (let k = 0; k < 3; k++) expect(fit.reliabilityStdErr[k]!).toBeGreaterThanOrEqual(conditional.reliabilityStdErr[k]! - 1e-12);
    expect(jointStandardErrors(conditional, votes).reliabilityStdErr).toEqual(fit.reliabilityStdErr);
  });

  it("does not mark random clickers reversed in 95 % of synthetic trials, and still flags adversaries (seeded)", () => {
    // 200 trials: 20 prompts with standardised utilities, 150 votes on random pairs and sides from 10 annotators drawn at
    // random per vote: 9 at scale 10 and one special member, a random clicker (scale 0) or an adversary (scale -10).
    const trials = 200;
    const count = (special: number) => {
      const tally = { reversed: 0, flagged: 0, goodFlagged: 0 };
      for (let trial = 0; trial < trials; trial++) {
        const random = mulberry32(1000 + trial);
        const utility = Array.from({ length: 20 }, () => random());
        const average = utility.reduce((x, y) => x + y) / utility.length;
        const spread = Math.sqrt(utility.reduce((x, y) => x + (y - average) ** 2, 0) / utility.length);
        const z = utility.map((u) => (u - average) / spread);
        const scales = [...new Array<number>(9).fill(10), special];
        const votes: CrowdVote[] = [];
        for (let v = 0; v < 150; v++) {
          const [a, b] = randomDistinctPair(random, z.length);
          const annotator = Math.floor(random() * scales.length);
          votes.push({ a, b, annotator, outcome: random() < sigmoid(scales[annotator]! * (z[a]! - z[b]!)) ? 1 : 0 });
        }
        const flags = flagAnnotators(fitCrowdBradleyTerry(z.length, scales.length, votes, { maxSweeps: 400 }), votes);
        if (flags[9]!.reversed) tally.reversed += 1;
        if (flags[9]!.flagged) tally.flagged += 1;
        tally.goodFlagged += flags.slice(0, 9).filter((flag) => flag.flagged).length;
      }
      return tally;
    };
    const clicker = count(0);
    expect(clicker.reversed).toBeLessThanOrEqual(0.05 * trials);
    expect(clicker.goodFlagged).toBe(0);
    const adversary = count(-10);
    expect(adversary.flagged).toBeGreaterThanOrEqual(0.95 * trials);
    expect(adversary.reversed).toBeGreaterThanOrEqual(0.7 * trials);
    expect(adversary.goodFlagged).toBe(0);
  });
});
