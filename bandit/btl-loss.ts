/**
 * Bradley–Terry–Luce likelihood on duels (Bradley & Terry 1952; Luce 1959), as the training loss of
 * APOHF (arXiv 2405.17346, eq. 2): P(a beats b) = sigmoid(u_a - u_b).
 */

/**
 * Numerically stable log(1 + exp(z)).
 * Cost: O(1). Throws nothing.
 */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/**
 * sigmoid(z) = 1 / (1 + exp(-z)), stable for large |z|.
 * Cost: O(1). Throws nothing.
 */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Fisher information of one logistic comparison at log-odds z: sigmoid(z) (1 - sigmoid(z)), the curvature
 * of the BTL likelihood (its Laplace approximation weights each duel by it).
 * Cost: O(1). Throws nothing.
 */
export function logisticVariance(z: number): number {
  const p = sigmoid(z);
  return p * (1 - p);
}

/**
 * Mean binary cross-entropy of the BTL model over `count` duels, with soft labels
 * (1: a won, 0: b won, 0.5: tie / both bad), an optional logit scale c_l per duel (docs/decisions/0044: the
 * annotator's normalised reliability; 1 without `scales`) and an optional logit offset o_l per duel (docs/decisions/0048:
 * the side term; 0 without `offsets`), P(a beats b) = sigmoid(z_l), z_l = c_l delta_l + o_l, delta_l = u[a_l] - u[b_l]:
 * loss = (1/L) sum_l [ softplus(z_l) - y_l z_l ]
 * (equal to -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z))). c = 0 makes a duel say nothing about u, c < 0 counts it
 * reversed. Without scales and offsets the sums are the plain ones, operation for operation (1 * x is x, x + 0 is x
 * exactly), so the engine is bit for bit the same.
 * If `gradOut` is given, adds dloss/du into it: d/du_a = c (sigmoid(z) - y)/L, d/du_b = -(same).
 * Cost: O(L). Throws if count is not positive or an index is out of range.
 */
export function btlLoss(
  utilities: Float64Array,
  armA: Int32Array,
  armB: Int32Array,
  labels: Float64Array,
  count: number,
  gradOut?: Float64Array,
  scales?: Float64Array | null,
  offsets?: Float64Array | null,
): number {
  if (count <= 0) throw new Error("btlLoss requires at least one duel");
  let total = 0;
  const inverseCount = 1 / count;
  for (let l = 0; l < count; l++) {
    const a = armA[l]!;
    const b = armB[l]!;
    const ua = utilities[a];
    const ub = utilities[b];
    if (ua === undefined || ub === undefined) throw new Error("btlLoss received an arm index out of range");
    const scale = scales ? scales[l]! : 1;
    const logit = offsets ? scale * (ua - ub) + offsets[l]! : scale * (ua - ub);
    const label = labels[l]!;
    total += softplus(logit) - label * logit;
    if (gradOut) {
      const residual = scale * (sigmoid(logit) - label) * inverseCount;
      gradOut[a] = gradOut[a]! + residual;
      gradOut[b] = gradOut[b]! - residual;
    }
  }
  return total * inverseCount;
}
