import type { RandomSource } from "./random";
import { standardNormal } from "./random";

/**
 * The utility network of APOHF (Lin et al. 2024, arXiv 2405.17346, §4.1):
 * f(x) = w3 . relu(W2 relu(W1 x + b1) + b2) + b3, i.e. Linear(d,h) - ReLU - Linear(h,h) - ReLU - Linear(h,1).
 *
 * Parameters live in one flat Float64Array so Adam and the NTK uncertainty treat them as a vector.
 * Layout (row-major): W1 [h x d] | b1 [h] | W2 [h x h] | b2 [h] | w3 [h] | b3 [1].
 */
export interface MlpShape {
  readonly inputDim: number;
  readonly hiddenDim: number;
  readonly parameterCount: number;
  readonly offsetB1: number;
  readonly offsetW2: number;
  readonly offsetB2: number;
  readonly offsetW3: number;
  readonly offsetB3: number;
}

/** Activations cached by `mlpForward` for a following `mlpBackward` on the same input. */
export interface MlpWorkspace {
  readonly hidden1: Float64Array; // relu(W1 x + b1)
  readonly hidden2: Float64Array; // relu(W2 hidden1 + b2)
  readonly delta2: Float64Array; // d f / d (pre-activation of layer 2)
  readonly delta1: Float64Array; // d f / d (pre-activation of layer 1)
}

/**
 * Describes the parameter layout of a d -> h -> h -> 1 network.
 * parameterCount = h d + h + h h + h + h + 1.
 * Cost: O(1). Throws if a dimension is not a positive integer.
 */
export function createMlpShape(inputDim: number, hiddenDim = 32): MlpShape {
  if (!Number.isInteger(inputDim) || inputDim < 1 || !Number.isInteger(hiddenDim) || hiddenDim < 1) {
    throw new Error("createMlpShape requires positive integer dimensions");
  }
  const offsetB1 = hiddenDim * inputDim;
  const offsetW2 = offsetB1 + hiddenDim;
  const offsetB2 = offsetW2 + hiddenDim * hiddenDim;
  const offsetW3 = offsetB2 + hiddenDim;
  const offsetB3 = offsetW3 + hiddenDim;
  return { inputDim, hiddenDim, parameterCount: offsetB3 + 1, offsetB1, offsetW2, offsetB2, offsetW3, offsetB3 };
}

/**
 * Allocates the activation buffers that forward/backward reuse (no allocation per call).
 * Cost: O(h). Throws nothing.
 */
export function createMlpWorkspace(shape: MlpShape): MlpWorkspace {
  const h = shape.hiddenDim;
  return {
    hidden1: new Float64Array(h),
    hidden2: new Float64Array(h),
    delta2: new Float64Array(h),
    delta1: new Float64Array(h),
  };
}

/** How to draw initial weights: APOHF's N(0,1) for every parameter, or He-scaled for fast training. */
export type MlpInitialisation = "standard-normal" | "he";

/**
 * Fills `out` with initial parameters drawn from the injected source.
 * "standard-normal": every weight and bias ~ N(0, 1) (APOHF reference code, as in DESIGN §5.1).
 * "he": W ~ N(0, 2 / fan_in) for hidden layers (He et al. 2015, §2.2), output layer
 * w3 ~ N(0, outputScale^2 / h), biases 0, so that f starts near 0 and small Adam steps can move it.
 * Cost: O(P) with P = parameterCount. Throws if `out` has the wrong length.
 */
export function initMlpParameters(
  shape: MlpShape,
  random: RandomSource,
  out: Float64Array,
  initialisation: MlpInitialisation = "standard-normal",
  outputScale = 1,
): Float64Array {
  if (out.length !== shape.parameterCount) {
    throw new Error(`initMlpParameters requires an output of length ${shape.parameterCount}, got ${out.length}`);
  }
  if (initialisation === "standard-normal") {
    for (let k = 0; k < out.length; k++) out[k] = standardNormal(random);
    return out;
  }
  const h = shape.hiddenDim;
  const std1 = Math.sqrt(2 / shape.inputDim);
  const std2 = Math.sqrt(2 / h);
  const std3 = outputScale / Math.sqrt(h);
  for (let k = 0; k < shape.offsetB1; k++) out[k] = std1 * standardNormal(random);
  for (let k = shape.offsetB1; k < shape.offsetW2; k++) out[k] = 0;
  for (let k = shape.offsetW2; k < shape.offsetB2; k++) out[k] = std2 * standardNormal(random);
  for (let k = shape.offsetB2; k < shape.offsetW3; k++) out[k] = 0;
  for (let k = shape.offsetW3; k < shape.offsetB3; k++) out[k] = std3 * standardNormal(random);
  out[shape.offsetB3] = 0;
  return out;
}

/**
 * Evaluates f(x) and caches the hidden activations in `workspace` for `mlpBackward`.
 * f(x) = w3 . relu(W2 relu(W1 x + b1) + b2) + b3 (APOHF §4.1).
 * Cost: O(h d + h^2). Throws nothing (dimensions are the caller's contract; see validateFeatures).
 */
export function mlpForward(shape: MlpShape, params: Float64Array, x: Float64Array, workspace: MlpWorkspace): number {
  const d = shape.inputDim;
  const h = shape.hiddenDim;
  const { hidden1, hidden2 } = workspace;
  for (let j = 0; j < h; j++) {
    let sum = params[shape.offsetB1 + j]!;
    const row = j * d;
    for (let k = 0; k < d; k++) sum += params[row + k]! * x[k]!;
    hidden1[j] = sum > 0 ? sum : 0;
  }
  let output = params[shape.offsetB3]!;
  for (let j = 0; j < h; j++) {
    let sum = params[shape.offsetB2 + j]!;
    const row = shape.offsetW2 + j * h;
    for (let k = 0; k < h; k++) sum += params[row + k]! * hidden1[k]!;
    const activation = sum > 0 ? sum : 0;
    hidden2[j] = activation;
    output += params[shape.offsetW3 + j]! * activation;
  }
  return output;
}

/**
 * Adds upstream * df(x)/dtheta into `gradOut` (and, if given, upstream * df(x)/dx into `inputGradOut`),
 * using the activations that `mlpForward` just cached for the same x. Backpropagation
 * (Rumelhart et al. 1986): delta2 = w3 * 1[z2 > 0], delta1 = (W2^T delta2) * 1[z1 > 0],
 * dW1 = delta1 x^T, dW2 = delta2 hidden1^T, dw3 = hidden2, db = delta.
 * Passing upstream = 1 to a zeroed gradOut yields the per-arm gradient g_i = df(x_i)/dtheta of APOHF's NTK-UCB.
 * Cost: O(h d + h^2). Throws nothing.
 */
export function mlpBackward(
  shape: MlpShape,
  params: Float64Array,
  x: Float64Array,
  workspace: MlpWorkspace,
  upstream: number,
  gradOut: Float64Array,
  inputGradOut?: Float64Array,
): void {
  const d = shape.inputDim;
  const h = shape.hiddenDim;
  const { hidden1, hidden2, delta1, delta2 } = workspace;
  gradOut[shape.offsetB3] = gradOut[shape.offsetB3]! + upstream;
  for (let j = 0; j < h; j++) {
    gradOut[shape.offsetW3 + j] = gradOut[shape.offsetW3 + j]! + upstream * hidden2[j]!;
    delta2[j] = hidden2[j]! > 0 ? upstream * params[shape.offsetW3 + j]! : 0;
    delta1[j] = 0;
  }
  for (let j = 0; j < h; j++) {
    const delta = delta2[j]!;
    if (delta === 0) continue;
    gradOut[shape.offsetB2 + j] = gradOut[shape.offsetB2 + j]! + delta;
    const row = shape.offsetW2 + j * h;
    for (let k = 0; k < h; k++) {
      gradOut[row + k] = gradOut[row + k]! + delta * hidden1[k]!;
      delta1[k] = delta1[k]! + delta * params[row + k]!;
    }
  }
  for (let j = 0; j < h; j++) {
    const delta = hidden1[j]! > 0 ? delta1[j]! : 0;
    delta1[j] = delta;
    if (delta === 0) continue;
    gradOut[shape.offsetB1 + j] = gradOut[shape.offsetB1 + j]! + delta;
    const row = j * d;
    for (let k = 0; k < d; k++) gradOut[row + k] = gradOut[row + k]! + delta * x[k]!;
  }
  if (inputGradOut) {
    for (let k = 0; k < d; k++) {
      let sum = 0;
      for (let j = 0; j < h; j++) sum += delta1[j]! * params[j * d + k]!;
      inputGradOut[k] = inputGradOut[k]! + sum;
    }
  }
}
