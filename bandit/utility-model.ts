import type { MlpShape, MlpWorkspace } from "./mlp";
import { createMlpShape, createMlpWorkspace, mlpBackward, mlpForward } from "./mlp";

/**
 * A differentiable utility f(x; theta) with per-slot activation caches, so training can run one forward
 * per distinct arm, then one backward per distinct arm with the loss's dL/df as upstream.
 */
export interface UtilityModel {
  readonly inputDim: number;
  readonly parameterCount: number;
  /** f(x; theta), caching activations under `slot` (slot 0 is scratch for single evaluations). */
  forward(params: Float64Array, x: Float64Array, slot: number): number;
  /** gradOut += upstream * df(x)/dtheta, using the activations cached by forward() under `slot`. */
  backward(params: Float64Array, x: Float64Array, slot: number, upstream: number, gradOut: Float64Array): void;
}

/** The APOHF network d -> h -> h -> 1 (see mlp.ts). A class because it owns activation caches. */
export class MlpUtilityModel implements UtilityModel {
  readonly shape: MlpShape;
  private readonly workspaces: MlpWorkspace[] = [];

  constructor(inputDim: number, hiddenDim = 32) {
    this.shape = createMlpShape(inputDim, hiddenDim);
  }

  get inputDim(): number {
    return this.shape.inputDim;
  }

  get parameterCount(): number {
    return this.shape.parameterCount;
  }

  forward(params: Float64Array, x: Float64Array, slot: number): number {
    while (this.workspaces.length <= slot) this.workspaces.push(createMlpWorkspace(this.shape));
    return mlpForward(this.shape, params, x, this.workspaces[slot]!);
  }

  backward(params: Float64Array, x: Float64Array, slot: number, upstream: number, gradOut: Float64Array): void {
    mlpBackward(this.shape, params, x, this.workspaces[slot]!, upstream, gradOut);
  }
}

/** f(x; theta) = theta . x: APOHF's `linear` baseline (LinearDBDiag). Its gradient is x itself. */
export class LinearUtilityModel implements UtilityModel {
  constructor(readonly inputDim: number) {
    if (!Number.isInteger(inputDim) || inputDim < 1) throw new Error("LinearUtilityModel requires a positive dimension");
  }

  get parameterCount(): number {
    return this.inputDim;
  }

  forward(params: Float64Array, x: Float64Array): number {
    let sum = 0;
    for (let k = 0; k < x.length; k++) sum += params[k]! * x[k]!;
    return sum;
  }

  backward(_params: Float64Array, x: Float64Array, _slot: number, upstream: number, gradOut: Float64Array): void {
    for (let k = 0; k < x.length; k++) gradOut[k] = gradOut[k]! + upstream * x[k]!;
  }
}
