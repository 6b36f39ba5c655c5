/**
 * Bradley–Terry with a side term and a reliability per annotator (pure: no I/O, no randomness).
 *
 * Model, for vote v by annotator k on (left a, right b) with outcome y in {1, 0.5, 0} for the left response:
 *   eta_v = beta_k (s_a - s_b) + gamma,   P(left wins) = sigmoid(eta_v),
 *   log L = sum_v [ y_v eta_v - softplus(eta_v) ]   (a tie, y = 0.5, is half a win for each side, as in
 *   bandit/bradley-terry.ts).
 * s = prompt scores, gamma = the side term (the log-odds the left response gains at equal scores), beta_k = the
 * annotator's reliability: a temperature on the score difference (1 = as the crowd, 0 = clicks at random,
 * negative = prefers the worse response). It is the per-annotator scale of the Thurstone–Mosteller / BT crowd models
 * (Chen, Bennett, Collins-Thompson & Horvitz 2013, "Pairwise ranking aggregation in a crowdsourced setting", WSDM,
 * whose CrowdBT mixes each annotator's answer with its reverse; a signed scale plays the same role and keeps the
 * likelihood smooth). Priors (MAP fit), which also make the model identifiable:
 *   every prompt plays `priorGames` virtual ties against a fixed reference prompt of score 0 at beta = 1, gamma = 0
 *   (the prior of fitBradleyTerry); beta_k ~ N(1, reliabilityPriorSd^2); gamma ~ N(0, sidePriorSd^2);
 *   an optional reference annotator has beta fixed at 1.
 * The posterior is not jointly concave (beta times s), but it is concave in each block; the fit is block coordinate
 * ascent with one-dimensional Newton steps (each concave, step-capped): every s_i, then every beta_k, then gamma.
 */
import { sigmoid, softplus } from "../bandit/btl-loss";
import type { Outcome } from "../bandit/policy";

/** One vote with who cast it; `a` is the response shown on the left. */
export interface CrowdVote {
  a: number;
  b: number;
  outcome: Outcome;
  /** Index of the annotator in [0, annotatorCount). */
  annotator: number;
}

export interface CrowdFitOptions {
  /** Virtual ties per prompt against the score-0 reference (default 1, as fitBradleyTerry). */
  priorGames?: number;
  /** Standard deviation of the N(1, sd^2) prior of each reliability (default 1). */
  reliabilityPriorSd?: number;
  /** Standard deviation of the N(0, sd^2) prior of the side term (default 1). */
  sidePriorSd?: number;
  /** Fit the reliabilities (default true); false keeps every beta at 1. */
  fitReliability?: boolean;
  /** Fit the side term (default true); false keeps gamma at 0. */
  fitSide?: boolean;
  /** Starting reliabilities, one per annotator (default all 1); with fitReliability false they stay fixed (the crowd benchmark's oracle). */
  reliability?: ArrayLike<number>;
  /** An annotator whose reliability is fixed at 1 (e.g. the owner); none by default. */
  referenceAnnotator?: number;
  maxSweeps?: number;
  /** Stop when no parameter moves by more than this in a sweep. */
  tolerance?: number;
  /**
   * How reliabilityStdErr and sideStdErr are computed: "joint" (default) from the inverse of the joint observed
   * information, so they carry the uncertainty of the scores (jointStandardErrors); "conditional" from each
   * parameter's own curvature with the others held at the fit (cheaper, too small: a random clicker looked reversed).
   */
  standardErrors?: "joint" | "conditional";
}

export interface CrowdFit {
  scores: Float64Array;
  reliability: Float64Array;
  /**
   * Standard error of each reliability: by default sqrt of the diagonal of the inverse joint information
   * (jointStandardErrors), else 1 / sqrt(conditional information); the prior's sd for an annotator without votes.
   */
  reliabilityStdErr: Float64Array;
  side: number;
  sideStdErr: number;
  /** Log posterior (up to a constant) at the fit. */
  logPosterior: number;
  sweeps: number;
  converged: boolean;
}

interface Resolved {
  priorGames: number;
  reliabilityVariance: number;
  sideVariance: number;
  fitReliability: boolean;
  fitSide: boolean;
  reference: number;
}

function resolve(annotatorCount: number, options: CrowdFitOptions): Resolved {
  const priorGames = options.priorGames ?? 1;
  const reliabilityPriorSd = options.reliabilityPriorSd ?? 1;
  const sidePriorSd = options.sidePriorSd ?? 1;
  if (!(priorGames > 0)) throw new Error("fitCrowdBradleyTerry requires priorGames > 0");
  if (!(reliabilityPriorSd > 0) || !(sidePriorSd > 0)) throw new Error("fitCrowdBradleyTerry requires positive prior standard deviations");
  const reference = options.referenceAnnotator ?? -1;
  if (reference !== -1 && (!Number.isInteger(reference) || reference < 0 || reference >= annotatorCount))
    throw new Error(`fitCrowdBradleyTerry: referenceAnnotator must be in [0, ${annotatorCount})`);
  return {
    priorGames,
    reliabilityVariance: reliabilityPriorSd * reliabilityPriorSd,
    sideVariance: sidePriorSd * sidePriorSd,
    fitReliability: options.fitReliability ?? true,
    fitSide: options.fitSide ?? true,
    reference,
  };
}

function validate(armCount: number, annotatorCount: number, votes: readonly CrowdVote[]): void {
  if (!Number.isInteger(armCount) || armCount < 1) throw new Error("fitCrowdBradleyTerry requires at least one prompt");
  if (!Number.isInteger(annotatorCount) || annotatorCount < 1) throw new Error("fitCrowdBradleyTerry requires at least one annotator");
  votes.forEach(({ a, b, outcome, annotator }, v) => {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= armCount || b >= armCount || a === b)
      throw new Error(`fitCrowdBradleyTerry: vote ${v} needs two distinct prompts in [0, ${armCount})`);
    if (outcome !== 1 && outcome !== 0 && outcome !== 0.5) throw new Error(`fitCrowdBradleyTerry: vote ${v} has outcome ${String(outcome)}`);
    if (!Number.isInteger(annotator) || annotator < 0 || annotator >= annotatorCount)
      throw new Error(`fitCrowdBradleyTerry: vote ${v} names annotator ${annotator} outside [0, ${annotatorCount})`);
  });
}

/** Incidence lists: the votes of each prompt and of each annotator (CSR offsets). Cost: O(V + n + K). */
function incidence(count: number, votes: readonly CrowdVote[], keys: (vote: CrowdVote) => number[]): { start: Int32Array; list: Int32Array } {
  const start = new Int32Array(count + 1);
  for (const vote of votes) for (const key of keys(vote)) start[key + 1] = start[key + 1]! + 1;
  for (let i = 0; i < count; i++) start[i + 1] = start[i + 1]! + start[i]!;
  const fill = start.slice(0, count);
  const list = new Int32Array(start[count]!);
  votes.forEach((vote, v) => {
    for (const key of keys(vote)) {
      list[fill[key]!] = v;
      fill[key] = fill[key]! + 1;
    }
  });
  return { start, list };
}

const MAX_STEP = 2;
const clampStep = (step: number) => Math.max(-MAX_STEP, Math.min(MAX_STEP, step));

/**
 * The log posterior of the model in the file comment (up to a constant), and its gradient when `gradient` is given
 * (laid out as [s_0..s_{n-1}, beta_0..beta_{K-1}, gamma]):
 *   d/ds_a = beta r_v, d/ds_b = -beta r_v, d/dbeta_k = sum_{v of k} r_v (s_a - s_b), d/dgamma = sum_v r_v,
 *   r_v = y_v - sigmoid(eta_v); the prior adds priorGames (1/2 - sigmoid(s_i)), -(beta_k - 1)/sd^2, -gamma/sd^2.
 * A fixed parameter (reference annotator, or a block not fitted) gets gradient 0. For gradient checks and tests.
 * Cost: O(V + n + K). Throws on invalid votes or options.
 */
export function crowdLogPosterior(
  scores: Float64Array,
  reliability: Float64Array,
  side: number,
  votes: readonly CrowdVote[],
  options: CrowdFitOptions = {},
  gradient?: Float64Array,
): number {
  const n = scores.length;
  const k = reliability.length;
  validate(n, k, votes);
  const o = resolve(k, options);
  if (gradient) gradient.fill(0);
  let value = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    value += o.priorGames * (0.5 * s - softplus(s));
    if (gradient) gradient[i] = o.priorGames * (0.5 - sigmoid(s));
  }
  for (let j = 0; j < k; j++) {
    const beta = reliability[j]!;
    value -= ((beta - 1) * (beta - 1)) / (2 * o.reliabilityVariance);
    if (gradient && o.fitReliability && j !== o.reference) gradient[n + j] = -(beta - 1) / o.reliabilityVariance;
  }
  value -= (side * side) / (2 * o.sideVariance);
  if (gradient && o.fitSide) gradient[n + k] = -side / o.sideVariance;
  for (const { a, b, outcome, annotator } of votes) {
    const difference = scores[a]! - scores[b]!;
    const beta = reliability[annotator]!;
    const eta = beta * difference + side;
    value += outcome * eta - softplus(eta);
    if (!gradient) continue;
    const residual = outcome - sigmoid(eta);
    gradient[a] = gradient[a]! + beta * residual;
    gradient[b] = gradient[b]! - beta * residual;
    if (o.fitReliability && annotator !== o.reference) gradient[n + annotator] = gradient[n + annotator]! + residual * difference;
    if (o.fitSide) gradient[n + k] = gradient[n + k]! + residual;
  }
  return value;
}

/**
 * MAP fit of the model in the file comment by block coordinate ascent: per sweep, one capped Newton step
 * (|step| <= 2) for each s_i in turn (Gauss–Seidel, so each uses the latest values), then each beta_k, then gamma:
 *   s_i += g_i / h_i,  g_i = sum_{v of i} ±beta r_v + priorGames (1/2 - sigmoid(s_i)),
 *                      h_i = sum_{v of i} beta^2 w_v + priorGames w(s_i),  w = sigmoid (1 - sigmoid);
 *   beta_k += g / h,   g = sum_{v of k} r_v d_v - (beta_k - 1)/sd^2,  h = sum_{v of k} d_v^2 w_v + 1/sd^2;
 *   gamma += g / h,    g = sum_v r_v - gamma/sd^2,  h = sum_v w_v + 1/sd^2.
 * The standard errors are jointStandardErrors' (the Schur complement of the score block) unless
 * `standardErrors: "conditional"` asks for 1 / sqrt(h_k) and 1 / sqrt(h_gamma) at the fit (conditional on the other
 * blocks, too small). With fitReliability and fitSide false it is fitBradleyTerry's model and prior.
 * Convergence is linear (slowest along the valley where s grows as beta shrinks): a few hundred sweeps.
 * Cost: O(sweeps * (V + n + K)), at most maxSweeps (default 5000), plus O(n^3 / 3 + n^2 K + K^3) for the joint standard
 * errors. Throws on invalid votes or options.
 */
export function fitCrowdBradleyTerry(armCount: number, annotatorCount: number, votes: readonly CrowdVote[], options: CrowdFitOptions = {}): CrowdFit {
  validate(armCount, annotatorCount, votes);
  const o = resolve(annotatorCount, options);
  const maxSweeps = options.maxSweeps ?? 5000;
  const tolerance = options.tolerance ?? 1e-6;
  const byArm = incidence(armCount, votes, ({ a, b }) => [a, b]);
  const byAnnotator = incidence(annotatorCount, votes, ({ annotator }) => [annotator]);
  const scores = new Float64Array(armCount);
  const reliability = options.reliability ? Float64Array.from(options.reliability) : new Float64Array(annotatorCount).fill(1);
  if (reliability.length !== annotatorCount) throw new Error(`fitCrowdBradleyTerry: reliability needs ${annotatorCount} values`);
  const reliabilityStdErr = new Float64Array(annotatorCount);
  let side = 0;
  let sideStdErr = Math.sqrt(o.sideVariance);
  let sweeps = 0;
  let converged = false;
  const eta = (v: number) => {
    const vote = votes[v]!;
    return reliability[vote.annotator]! * (scores[vote.a]! - scores[vote.b]!) + side;
  };
  while (sweeps < maxSweeps) {
    sweeps += 1;
    let largest = 0;
    for (let i = 0; i < armCount; i++) {
      const p0 = sigmoid(scores[i]!);
      let g = o.priorGames * (0.5 - p0);
      let h = o.priorGames * p0 * (1 - p0);
      for (let e = byArm.start[i]!; e < byArm.start[i + 1]!; e++) {
        const v = byArm.list[e]!;
        const vote = votes[v]!;
        const beta = reliability[vote.annotator]!;
        const p = sigmoid(eta(v));
        const sign = vote.a === i ? 1 : -1;
        g += sign * beta * (vote.outcome - p);
        h += beta * beta * p * (1 - p);
      }
      const step = clampStep(g / h);
      scores[i] = scores[i]! + step;
      largest = Math.max(largest, Math.abs(step));
    }
    for (let k = 0; k < annotatorCount; k++) {
      let g = -(reliability[k]! - 1) / o.reliabilityVariance;
      let h = 1 / o.reliabilityVariance;
      for (let e = byAnnotator.start[k]!; e < byAnnotator.start[k + 1]!; e++) {
        const v = byAnnotator.list[e]!;
        const vote = votes[v]!;
        const difference = scores[vote.a]! - scores[vote.b]!;
        const p = sigmoid(eta(v));
        g += (vote.outcome - p) * difference;
        h += difference * difference * p * (1 - p);
      }
      reliabilityStdErr[k] = 1 / Math.sqrt(h);
      if (!o.fitReliability || k === o.reference) continue;
      const step = clampStep(g / h);
      reliability[k] = reliability[k]! + step;
      largest = Math.max(largest, Math.abs(step));
    }
    {
      let g = -side / o.sideVariance;
      let h = 1 / o.sideVariance;
      for (let v = 0; v < votes.length; v++) {
        const p = sigmoid(eta(v));
        g += votes[v]!.outcome - p;
        h += p * (1 - p);
      }
      sideStdErr = 1 / Math.sqrt(h);
      if (o.fitSide) {
        const step = clampStep(g / h);
        side += step;
        largest = Math.max(largest, Math.abs(step));
      }
    }
    if (largest < tolerance) {
      converged = true;
      break;
    }
  }
  const logPosterior = crowdLogPosterior(scores, reliability, side, votes, options);
  const fit = { scores, reliability, reliabilityStdErr, side, sideStdErr, logPosterior, sweeps, converged };
  if ((options.standardErrors ?? "joint") === "conditional") return fit;
  const joint = jointStandardErrors(fit, votes, options);
  return { ...fit, reliabilityStdErr: joint.reliabilityStdErr, sideStdErr: joint.sideStdErr };
}

/**
 * In-place Cholesky factorisation of the symmetric positive definite m x m matrix `matrix` (row-major): on return its
 * lower triangle holds L with L L^T = matrix. Returns false (matrix garbled) when a pivot is not positive.
 * Cost: O(m^3 / 3).
 */
function choleskyInPlace(matrix: Float64Array, m: number): boolean {
  for (let j = 0; j < m; j++) {
    let pivot = matrix[j * m + j]!;
    for (let k = 0; k < j; k++) pivot -= matrix[j * m + k]! * matrix[j * m + k]!;
    if (!(pivot > 0)) return false;
    const root = Math.sqrt(pivot);
    matrix[j * m + j] = root;
    for (let i = j + 1; i < m; i++) {
      let value = matrix[i * m + j]!;
      for (let k = 0; k < j; k++) value -= matrix[i * m + k]! * matrix[j * m + k]!;
      matrix[i * m + j] = value / root;
    }
  }
  return true;
}

/** Solves L L^T x = rhs in place (`factor` from choleskyInPlace). Cost: O(m^2). */
function choleskySolve(factor: Float64Array, m: number, rhs: Float64Array): void {
  for (let i = 0; i < m; i++) {
    let value = rhs[i]!;
    for (let k = 0; k < i; k++) value -= factor[i * m + k]! * rhs[k]!;
    rhs[i] = value / factor[i * m + i]!;
  }
  for (let i = m - 1; i >= 0; i--) {
    let value = rhs[i]!;
    for (let k = i + 1; k < m; k++) value -= factor[k * m + i]! * rhs[k]!;
    rhs[i] = value / factor[i * m + i]!;
  }
}

/**
 * Standard errors of the reliabilities and the side term that account for the uncertainty of the prompt scores (a
 * Laplace approximation of the posterior at the MAP): with J the information (negative Hessian of the log posterior)
 * in the blocks scores s and nuisance-free parameters q = (the fitted beta_k, gamma),
 *   Cov(q) ~ (J_qq - J_qs J_ss^-1 J_sq)^-1   (the Schur complement of the score block),   se_j = sqrt(Cov(q)_jj).
 * Per vote v by k on (a, b), d = s_a - s_b, p = sigmoid(beta_k d + gamma), w = p (1 - p), r = y - p:
 *   J_{s_a s_a} = J_{s_b s_b} += w beta^2,  J_{s_a s_b} -= w beta^2,  J_{s_a beta_k} += w beta d - r,  J_{s_b beta_k} -= w beta d - r,
 *   J_{s_a gamma} += w beta,  J_{s_b gamma} -= w beta,  J_{beta_k beta_k} += w d^2,  J_{beta_k gamma} += w d,  J_{gamma gamma} += w;
 * priors add priorGames w(s_i), 1/sd_beta^2 and 1/sd_gamma^2 to the diagonal. The observed information (with the r
 * terms) is what couples a random clicker's beta (about 0, where w beta d vanishes) to the scores. Should the observed
 * matrix not be positive definite (a fit stopped away from a maximum), the expected information (r = 0) is used.
 * A reliability that is not fitted (fixed, or the reference annotator) keeps its conditional standard error; an
 * annotator without votes gets the prior's sd. Cost: O(V + n^3 / 3 + n^2 K + K^3) time, O(n^2 + K^2) memory.
 */
export function jointStandardErrors(
  fit: Pick<CrowdFit, "scores" | "reliability" | "side" | "reliabilityStdErr" | "sideStdErr">,
  votes: readonly CrowdVote[],
  options: CrowdFitOptions = {},
): { reliabilityStdErr: Float64Array; sideStdErr: number } {
  const n = fit.scores.length;
  const annotatorCount = fit.reliability.length;
  validate(n, annotatorCount, votes);
  const o = resolve(annotatorCount, options);
  const counts = new Int32Array(annotatorCount);
  for (const { annotator } of votes) counts[annotator] = counts[annotator]! + 1;
  // The non-score parameters that were fitted: each fitted annotator with votes, then gamma.
  const slotOf = new Int32Array(annotatorCount).fill(-1);
  let q = 0;
  for (let k = 0; k < annotatorCount; k++) if (o.fitReliability && k !== o.reference && counts[k]! > 0) slotOf[k] = q++;
  const sideSlot = o.fitSide ? q++ : -1;
  const reliabilityStdErr = Float64Array.from(fit.reliabilityStdErr);
  for (let k = 0; k < annotatorCount; k++) if (counts[k] === 0) reliabilityStdErr[k] = Math.sqrt(o.reliabilityVariance);
  if (q === 0) return { reliabilityStdErr, sideStdErr: fit.sideStdErr };
  const attempt = (observed: boolean): Float64Array | null => {
    const ss = new Float64Array(n * n);
    const sq = new Float64Array(n * q);
    const qq = new Float64Array(q * q);
    for (let i = 0; i < n; i++) {
      const p0 = sigmoid(fit.scores[i]!);
      ss[i * n + i] = o.priorGames * p0 * (1 - p0);
    }
    for (let k = 0; k < annotatorCount; k++) if (slotOf[k]! >= 0) qq[slotOf[k]! * q + slotOf[k]!] = 1 / o.reliabilityVariance;
    if (sideSlot >= 0) qq[sideSlot * q + sideSlot] = 1 / o.sideVariance;
    for (const { a, b, outcome, annotator } of votes) {
      const beta = fit.reliability[annotator]!;
      const difference = fit.scores[a]! - fit.scores[b]!;
      const p = sigmoid(beta * difference + fit.side);
      const w = p * (1 - p);
      const residual = observed ? outcome - p : 0;
      ss[a * n + a] = ss[a * n + a]! + w * beta * beta;
      ss[b * n + b] = ss[b * n + b]! + w * beta * beta;
      ss[a * n + b] = ss[a * n + b]! - w * beta * beta;
      ss[b * n + a] = ss[b * n + a]! - w * beta * beta;
      const slot = slotOf[annotator]!;
      if (slot >= 0) {
        const cross = w * beta * difference - residual;
        sq[a * q + slot] = sq[a * q + slot]! + cross;
        sq[b * q + slot] = sq[b * q + slot]! - cross;
        qq[slot * q + slot] = qq[slot * q + slot]! + w * difference * difference;
      }
      if (sideSlot >= 0) {
        sq[a * q + sideSlot] = sq[a * q + sideSlot]! + w * beta;
        sq[b * q + sideSlot] = sq[b * q + sideSlot]! - w * beta;
        qq[sideSlot * q + sideSlot] = qq[sideSlot * q + sideSlot]! + w;
        if (slot >= 0) {
          qq[slot * q + sideSlot] = qq[slot * q + sideSlot]! + w * difference;
          qq[sideSlot * q + slot] = qq[sideSlot * q + slot]! + w * difference;
        }
      }
    }
    if (!choleskyInPlace(ss, n)) return null;
    // Schur complement: qq - sq^T ss^-1 sq, one solve per column of sq.
    const column = new Float64Array(n);
    const solved = new Float64Array(n * q);
    for (let j = 0; j < q; j++) {
      for (let i = 0; i < n; i++) column[i] = sq[i * q + j]!;
      choleskySolve(ss, n, column);
      for (let i = 0; i < n; i++) solved[i * q + j] = column[i]!;
    }
    for (let j = 0; j < q; j++)
      for (let l = 0; l < q; l++) {
        let value = 0;
        for (let i = 0; i < n; i++) value += sq[i * q + j]! * solved[i * q + l]!;
        qq[j * q + l] = qq[j * q + l]! - value;
      }
    if (!choleskyInPlace(qq, q)) return null;
    // The diagonal of the inverse: solve for each unit vector.
    const variances = new Float64Array(q);
    const unit = new Float64Array(q);
    for (let j = 0; j < q; j++) {
      unit.fill(0);
      unit[j] = 1;
      choleskySolve(qq, q, unit);
      variances[j] = unit[j]!;
    }
    return variances;
  };
  const variances = attempt(true) ?? attempt(false);
  if (!variances) return { reliabilityStdErr, sideStdErr: fit.sideStdErr };
  for (let k = 0; k < annotatorCount; k++) if (slotOf[k]! >= 0) reliabilityStdErr[k] = Math.sqrt(variances[slotOf[k]!]!);
  return { reliabilityStdErr, sideStdErr: sideSlot >= 0 ? Math.sqrt(variances[sideSlot]!) : fit.sideStdErr };
}

export interface ReliabilityFlag {
  annotator: number;
  votes: number;
  reliability: number;
  /** reliability + z * stdErr: the reliability could be at most this. */
  upper: number;
  /** upper < threshold * the median reliability of the annotators with votes (weighs little or prefers the worse). */
  flagged: boolean;
  /** upper < 0: prefers the worse response, beyond chance. */
  reversed: boolean;
}

/**
 * Flags annotators whose reliability is, at 95 %, below `threshold` (default 0.25) times the crowd's median:
 *   upper_k = beta_k + z se_k;  flagged = upper_k < threshold * median{beta_j : votes_j > 0};  reversed = upper_k < 0.
 * Relative to the median because the scale of s (and so of beta) is set by the prior. Annotators without votes are
 * never flagged. Cost: O(V + K log K). Throws if the fit and the annotator count disagree.
 */
export function flagAnnotators(fit: CrowdFit, votes: readonly CrowdVote[], threshold = 0.25, z = 1.959963984540054): ReliabilityFlag[] {
  const k = fit.reliability.length;
  const counts = new Int32Array(k);
  for (const { annotator } of votes) {
    if (annotator < 0 || annotator >= k) throw new Error(`flagAnnotators: annotator ${annotator} outside [0, ${k})`);
    counts[annotator] = counts[annotator]! + 1;
  }
  const active = Array.from(fit.reliability).filter((_, j) => counts[j]! > 0);
  active.sort((x, y) => x - y);
  const median =
    active.length === 0
      ? 1
      : active.length % 2 === 1
        ? active[(active.length - 1) / 2]!
        : (active[active.length / 2 - 1]! + active[active.length / 2]!) / 2;
  return Array.from({ length: k }, (_, annotator) => {
    const reliability = fit.reliability[annotator]!;
    const upper = reliability + z * fit.reliabilityStdErr[annotator]!;
    const hasVotes = counts[annotator]! > 0;
    return {
      annotator,
      votes: counts[annotator]!,
      reliability,
      upper,
      flagged: hasVotes && upper < threshold * median,
      reversed: hasVotes && upper < 0,
    };
  });
}
