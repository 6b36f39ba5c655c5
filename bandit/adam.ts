/**
 * Adam (Kingma & Ba 2015, Algorithm 1) with PyTorch's coupled L2 weight decay, as used by APOHF
 * (`torch.optim.Adam(weight_decay=...)` adds weightDecay * theta to the gradient before the moments).
 */
export interface AdamState {
  readonly firstMoment: Float64Array;
  readonly secondMoment: Float64Array;
  step: number;
}

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

/**
 * Zeroed moment buffers for `parameterCount` parameters.
 * Cost: O(P). Throws if parameterCount is not a non-negative integer.
 */
export function createAdamState(parameterCount: number): AdamState {
  if (!Number.isInteger(parameterCount) || parameterCount < 0) {
    throw new Error("createAdamState requires a non-negative integer parameter count");
  }
  return { firstMoment: new Float64Array(parameterCount), secondMoment: new Float64Array(parameterCount), step: 0 };
}

/** Clears the moments so the optimiser restarts (APOHF resets the optimiser every round). */
export function resetAdamState(state: AdamState): void {
  state.firstMoment.fill(0);
  state.secondMoment.fill(0);
  state.step = 0;
}

/**
 * One in-place Adam update of `params` from `grads`:
 * g = grad + wd * theta; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * theta -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * Cost: O(P). Throws if the buffers' lengths differ.
 */
export function adamStep(params: Float64Array, grads: Float64Array, state: AdamState, options: AdamOptions): void {
  if (params.length !== grads.length || params.length !== state.firstMoment.length) {
    throw new Error("adamStep requires params, grads and state of the same length");
  }
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const epsilon = options.epsilon ?? 1e-8;
  const weightDecay = options.weightDecay ?? 0;
  state.step += 1;
  const correction1 = 1 - Math.pow(beta1, state.step);
  const correction2 = 1 - Math.pow(beta2, state.step);
  const stepSize = options.learningRate / correction1;
  const { firstMoment, secondMoment } = state;
  for (let k = 0; k < params.length; k++) {
    const gradient = grads[k]! + weightDecay * params[k]!;
    const m = beta1 * firstMoment[k]! + (1 - beta1) * gradient;
    const v = beta2 * secondMoment[k]! + (1 - beta2) * gradient * gradient;
    firstMoment[k] = m;
    secondMoment[k] = v;
    params[k] = params[k]! - (stepSize * m) / (Math.sqrt(v / correction2) + epsilon);
  }
}
