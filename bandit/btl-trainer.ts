import type { AdamState } from "./adam";
import { adamStep } from "./adam";
import { btlLoss } from "./btl-loss";
import type { CompactDuels } from "./duels";
import type { UtilityModel } from "./utility-model";

/** Per-arm additive utilities u_i = f(x_i) + offset_i, trained jointly with the network. */
export interface ArmOffsets {
  readonly values: Float64Array; // one per arm
  readonly adam: AdamState;
  readonly gradient: Float64Array; // scratch, one per arm
  weightDecay: number;
}

export interface TrainOptions {
  maxSteps: number;
  learningRate: number;
  weightDecay: number;
  /** Stop once the loss improved by less than tolerance * loss over the last `patience` steps (0 disables). */
  tolerance?: number;
  patience?: number;
  minSteps?: number;
}

export interface TrainResult {
  steps: number;
  loss: number;
}

/**
 * Minimises the mean BTL cross-entropy of u_i = f(x_i; theta) (+ offset_i) over the duels (each at its logit scale and
 * offset, duels.scales and duels.offsets: btlLoss) with full-batch
 * Adam (APOHF §4.1, DESIGN §5.1), evaluating f and df/dtheta once per distinct arm per step:
 * dL/dtheta = sum_s (dL/du_s) * df(x_s)/dtheta.
 * Cost: O(steps * (S * C_f + L + P)) with S distinct arms, C_f the cost of one forward+backward, L duels, P parameters.
 * Throws if there are no duels.
 */
export function trainBtl(
  model: UtilityModel,
  params: Float64Array,
  adam: AdamState,
  features: readonly Float64Array[],
  duels: CompactDuels,
  options: TrainOptions,
  offsets?: ArmOffsets,
): TrainResult {
  if (duels.count === 0) throw new Error("trainBtl requires at least one duel");
  const slotCount = duels.slotArm.length;
  const slotUtilities = new Float64Array(slotCount);
  const slotGradients = new Float64Array(slotCount);
  const gradient = new Float64Array(model.parameterCount);
  const tolerance = options.tolerance ?? 0;
  const patience = options.patience ?? 10;
  const minSteps = options.minSteps ?? patience;
  let lossAtCheckpoint = Infinity;
  let loss = Infinity;
  let step = 0;
  for (; step < options.maxSteps; step++) {
    for (let s = 0; s < slotCount; s++) {
      const arm = duels.slotArm[s]!;
      slotUtilities[s] = model.forward(params, features[arm]!, s) + (offsets ? offsets.values[arm]! : 0);
    }
    slotGradients.fill(0);
    loss = btlLoss(slotUtilities, duels.slotA, duels.slotB, duels.labels, duels.count, slotGradients, duels.scales, duels.offsets);
    if (tolerance > 0 && step % patience === 0) {
      if (step >= minSteps && lossAtCheckpoint - loss < tolerance * Math.max(loss, 1e-3)) break;
      lossAtCheckpoint = loss;
    }
    gradient.fill(0);
    for (let s = 0; s < slotCount; s++) {
      const upstream = slotGradients[s]!;
      if (upstream !== 0) model.backward(params, features[duels.slotArm[s]!]!, s, upstream, gradient);
    }
    adamStep(params, gradient, adam, { learningRate: options.learningRate, weightDecay: options.weightDecay });
    if (offsets) {
      offsets.gradient.fill(0);
      for (let s = 0; s < slotCount; s++) offsets.gradient[duels.slotArm[s]!] = slotGradients[s]!;
      adamStep(offsets.values, offsets.gradient, offsets.adam, {
        learningRate: options.learningRate,
        weightDecay: offsets.weightDecay,
      });
    }
  }
  return { steps: step, loss };
}

/**
 * Minimises the same mean BTL cross-entropy over the per-arm offsets alone, the network's outputs held fixed:
 * u_s = base_s + offset_s with base_s = f(x_s; theta) for the duels' distinct arms (slot order), dL/doffset_s = dL/du_s.
 * Full-batch Adam on the offsets with their coupled decay, the same early stopping as trainBtl. What duet runs
 * between two network refits: the offsets take in every vote at O(L + S) per step instead of O(S (h d + h^2)).
 * Cost: O(steps * (L + S + n)). Throws if there are no duels or base has the wrong length.
 */
export function trainOffsets(
  base: Float64Array,
  duels: CompactDuels,
  offsets: ArmOffsets,
  options: Pick<TrainOptions, "maxSteps" | "learningRate" | "tolerance" | "patience" | "minSteps">,
): TrainResult {
  if (duels.count === 0) throw new Error("trainOffsets requires at least one duel");
  const slotCount = duels.slotArm.length;
  if (base.length !== slotCount) throw new Error(`trainOffsets requires one base utility per slot (${slotCount}), got ${base.length}`);
  const slotUtilities = new Float64Array(slotCount);
  const slotGradients = new Float64Array(slotCount);
  const tolerance = options.tolerance ?? 0;
  const patience = options.patience ?? 10;
  const minSteps = options.minSteps ?? patience;
  let lossAtCheckpoint = Infinity;
  let loss = Infinity;
  let step = 0;
  for (; step < options.maxSteps; step++) {
    for (let s = 0; s < slotCount; s++) slotUtilities[s] = base[s]! + offsets.values[duels.slotArm[s]!]!;
    slotGradients.fill(0);
    loss = btlLoss(slotUtilities, duels.slotA, duels.slotB, duels.labels, duels.count, slotGradients, duels.scales, duels.offsets);
    if (tolerance > 0 && step % patience === 0) {
      if (step >= minSteps && lossAtCheckpoint - loss < tolerance * Math.max(loss, 1e-3)) break;
      lossAtCheckpoint = loss;
    }
    offsets.gradient.fill(0);
    for (let s = 0; s < slotCount; s++) offsets.gradient[duels.slotArm[s]!] = slotGradients[s]!;
    adamStep(offsets.values, offsets.gradient, offsets.adam, { learningRate: options.learningRate, weightDecay: offsets.weightDecay });
  }
  return { steps: step, loss };
}
