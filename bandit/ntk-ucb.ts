import type { UtilityModel } from "./utility-model";

/**
 * The diagonal neural-tangent-kernel confidence bound of APOHF (arXiv 2405.17346, §4.2; NeuralDBDiag in
 * the reference code): g_i = df(x_i)/dtheta, U = lambda + sum_duels (g_a - g_b)^2 element-wise,
 * sigma_i = sqrt(sum_k nu (g_i - g_a1)_k^2 / U_k).
 */

/**
 * Writes g = df(x)/dtheta into `out` and returns f(x).
 * Cost: O(C_f) (one forward + one backward). Throws nothing.
 */
export function armGradient(model: UtilityModel, params: Float64Array, x: Float64Array, out: Float64Array): number {
  out.fill(0);
  const value = model.forward(params, x, 0);
  model.backward(params, x, 0, 1, out);
  return value;
}

/**
 * The diagonal of the design precision: U_k = lambda + sum over pairs (a, b) of (g_a - g_b)_k^2,
 * with each distinct arm's gradient computed once. Pairs are given as parallel index arrays of length `count`
 * (pass pending pairs appended to the duels to get the "hallucinated" precision of batch UCB).
 * Cost: O(S * C_f + count * P), S distinct arms, P parameters. Throws if lambda <= 0.
 */
export function uncertaintyDiagonal(
  model: UtilityModel,
  params: Float64Array,
  features: readonly Float64Array[],
  pairsA: ArrayLike<number>,
  pairsB: ArrayLike<number>,
  count: number,
  lambda: number,
  out: Float64Array,
): Float64Array {
  if (!(lambda > 0)) throw new Error("uncertaintyDiagonal requires lambda > 0");
  out.fill(lambda);
  const parameterCount = model.parameterCount;
  const gradientOfArm = new Map<number, Float64Array>();
  const gradientFor = (arm: number): Float64Array => {
    let gradient = gradientOfArm.get(arm);
    if (!gradient) {
      gradient = new Float64Array(parameterCount);
      armGradient(model, params, features[arm]!, gradient);
      gradientOfArm.set(arm, gradient);
    }
    return gradient;
  };
  for (let l = 0; l < count; l++) {
    const gradientA = gradientFor(pairsA[l]!);
    const gradientB = gradientFor(pairsB[l]!);
    for (let k = 0; k < parameterCount; k++) {
      const difference = gradientA[k]! - gradientB[k]!;
      out[k] = out[k]! + difference * difference;
    }
  }
  return out;
}

/**
 * sigma = sqrt(nu * sum_k (g_i - g_ref)_k^2 / U_k): the width of the confidence interval on f(x_i) - f(x_ref).
 * Cost: O(P). Throws nothing.
 */
export function ntkSigma(gradient: Float64Array, reference: Float64Array, precision: Float64Array, nu: number): number {
  let sum = 0;
  for (let k = 0; k < gradient.length; k++) {
    const difference = gradient[k]! - reference[k]!;
    sum += (difference * difference) / precision[k]!;
  }
  return Math.sqrt(nu * sum);
}
