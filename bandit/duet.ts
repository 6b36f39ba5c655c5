import type { AdamState } from "./adam";
import { createAdamState } from "./adam";
import type { ArmOffsets } from "./btl-trainer";
import { trainBtl } from "./btl-trainer";
import { sigmoid } from "./btl-loss";
import { compactDuels, validateHistory } from "./duels";
import { validateFeatures } from "./features";
import { initMlpParameters } from "./mlp";
import { armGradient } from "./ntk-ucb";
import { isPendingPair, latestWinner, randomFreshPair, seenArms } from "./pairs";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "./policy";
import type { RandomProjection } from "./projection";
import { createRandomProjection, projectFeatures } from "./projection";
import { MlpUtilityModel } from "./utility-model";

/** Settings of `duet`, our default policy (docs/decisions/0002, 0003). */
export interface DuetOptions {
  /** Wider embeddings are projected to this many dimensions by a seeded Gaussian matrix. */
  projectionDim: number;
  hiddenDim: number;
  /** Standard deviation of the initial output f(x) (He-initialised hidden layers). */
  outputScale: number;
  learningRate: number;
  /** Adam steps on the first fit (from the initial weights), then per later fit (warm start). */
  firstFitSteps: number;
  refitSteps: number;
  /** Early stopping: stop when the loss improved by less than tolerance * loss over `patience` steps. */
  tolerance: number;
  patience: number;
  /** Coupled L2 weight decay on theta and on the per-arm offsets (a Gaussian prior on each). */
  weightDecay: number;
  offsetWeightDecay: number;
  /** Prior precision of the network's NTK diagonal and of each arm offset. */
  lambda: number;
  offsetPrecision: number;
  /** Exploration scale: challenger score = u_i + sqrt(nu) * sigma(i vs leader). */
  nu: number;
  /** Weight each duel's information by p (1 - p) (Laplace approximation of the logistic likelihood). */
  laplaceWeights: boolean;
  /** The leader is the argmax of u over arms already in a duel ("seen") or over all arms ("all"). */
  leaderScope: "seen" | "all";
  /** Random pairs until this many duels exist. */
  warmupPairs: number;
}

export const DUET_DEFAULTS: DuetOptions = {
  projectionDim: 64,
  hiddenDim: 32,
  outputScale: 0.1,
  learningRate: 0.01,
  firstFitSteps: 200,
  refitSteps: 40,
  tolerance: 1e-3,
  patience: 10,
  weightDecay: 1e-3,
  offsetWeightDecay: 1e-2,
  lambda: 1,
  offsetPrecision: 1,
  nu: 1,
  laplaceWeights: true,
  leaderScope: "seen",
  warmupPairs: 1,
};

/**
 * `duet`: u_i = f(x_i; theta) + offset_i, where f is the APOHF network (He-initialised, warm-started, early-stopped)
 * and offset_i is a per-arm Bradley–Terry correction that lets direct evidence override the network's
 * generalisation. Selection is top-two: the leader (current best estimate) duels the arm with the highest
 * upper bound on beating it, sigma from the diagonal NTK precision plus the offsets' precision, with pending
 * pairs added to the precision first (hallucinated variance) so concurrent annotators get distinct pairs.
 * A class because it keeps theta, the optimiser and the precision between rounds.
 */
export class DuetPolicy implements DuelingPolicy {
  readonly name = "duet";
  private readonly features: Float64Array[] = [];
  private readonly projection: RandomProjection | undefined;
  private readonly model: MlpUtilityModel;
  private readonly params: Float64Array;
  private readonly adam: AdamState;
  private offsets: ArmOffsets;
  private readonly precision: Float64Array;
  private offsetPrecision = new Float64Array(0);
  private armUtilities = new Float64Array(0);
  private history: readonly Duel[] = [];
  private fitCount = 0;

  constructor(context: PolicyContext, private readonly options: DuetOptions) {
    if (context.features.length === 0) throw new Error("createDuetPolicy requires at least one arm's features to fix the dimension");
    validateFeatures("createDuetPolicy", context.features);
    const rawDim = context.features[0]!.length;
    this.projection = rawDim > options.projectionDim ? createRandomProjection(rawDim, options.projectionDim, context.random) : undefined;
    this.model = new MlpUtilityModel(this.projection ? options.projectionDim : rawDim, options.hiddenDim);
    this.params = initMlpParameters(this.model.shape, context.random, new Float64Array(this.model.parameterCount), "he", options.outputScale);
    this.adam = createAdamState(this.model.parameterCount);
    this.precision = new Float64Array(this.model.parameterCount).fill(options.lambda);
    this.offsets = { values: new Float64Array(0), adam: createAdamState(0), gradient: new Float64Array(0), weightDecay: options.offsetWeightDecay };
    this.rawDim = rawDim;
    this.addArms(context.features);
  }

  private readonly rawDim: number;

  addArms(features: Float64Array[]): void {
    validateFeatures("duet.addArms", features, this.rawDim);
    const start = this.features.length;
    for (const row of features) this.features.push(this.projection ? projectFeatures(this.projection, row) : row);
    const armCount = this.features.length;
    const grow = (old: Float64Array, fill: number) => {
      const grown = new Float64Array(armCount).fill(fill);
      grown.set(old);
      return grown;
    };
    const oldOffsets = this.offsets;
    this.offsets = {
      values: grow(oldOffsets.values, 0),
      adam: {
        firstMoment: grow(oldOffsets.adam.firstMoment, 0),
        secondMoment: grow(oldOffsets.adam.secondMoment, 0),
        step: oldOffsets.adam.step,
      },
      gradient: new Float64Array(armCount),
      weightDecay: this.options.offsetWeightDecay,
    };
    this.offsetPrecision = grow(this.offsetPrecision, this.options.offsetPrecision);
    this.armUtilities = grow(this.armUtilities, 0);
    for (let i = start; i < armCount; i++) this.armUtilities[i] = this.model.forward(this.params, this.features[i]!, 0);
  }

  /** Warm-started MAP fit of theta and the offsets, then the Laplace-style diagonal precision. */
  fit(history: readonly Duel[]): void {
    const armCount = this.features.length;
    validateHistory("duet.fit", history, armCount);
    this.history = history.slice();
    if (history.length === 0) return;
    const duels = compactDuels(history, armCount);
    const options = this.options;
    trainBtl(
      this.model,
      this.params,
      this.adam,
      this.features,
      duels,
      {
        maxSteps: this.fitCount === 0 ? options.firstFitSteps : options.refitSteps,
        learningRate: options.learningRate,
        weightDecay: options.weightDecay,
        tolerance: options.tolerance,
        patience: options.patience,
      },
      this.offsets,
    );
    this.fitCount += 1;
    for (let i = 0; i < armCount; i++) {
      this.armUtilities[i] = this.model.forward(this.params, this.features[i]!, 0) + this.offsets.values[i]!;
    }
    this.precision.fill(options.lambda);
    this.offsetPrecision.fill(options.offsetPrecision);
    const gradients = this.slotGradients(duels.slotArm);
    for (let l = 0; l < duels.count; l++) {
      this.addPairInformation(gradients[duels.slotA[l]!]!, gradients[duels.slotB[l]!]!, duels.slotArm[duels.slotA[l]!]!, duels.slotArm[duels.slotB[l]!]!, this.precision, this.offsetPrecision);
    }
  }

  selectPair({ pending, random }: SelectPairOptions): [number, number] {
    const armCount = this.features.length;
    if (armCount < 2) throw new Error("duet.selectPair requires at least two arms");
    if (this.history.length < Math.max(1, this.options.warmupPairs)) return randomFreshPair(random, armCount, pending);
    const parameterCount = this.model.parameterCount;
    let precision = this.precision;
    let offsetPrecision = this.offsetPrecision;
    if (pending && pending.length > 0) {
      // Hallucinated variance (batch UCB): count pending pairs as if answered, so their information is not bought twice.
      precision = Float64Array.from(this.precision);
      offsetPrecision = Float64Array.from(this.offsetPrecision);
      const gradientA = new Float64Array(parameterCount);
      const gradientB = new Float64Array(parameterCount);
      for (const [a, b] of pending) {
        if (a >= armCount || b >= armCount || a === b) continue;
        armGradient(this.model, this.params, this.features[a]!, gradientA);
        armGradient(this.model, this.params, this.features[b]!, gradientB);
        this.addPairInformation(gradientA, gradientB, a, b, precision, offsetPrecision);
      }
    }
    const leader = this.leader();
    const leaderGradient = new Float64Array(parameterCount);
    armGradient(this.model, this.params, this.features[leader]!, leaderGradient);
    const gradient = new Float64Array(parameterCount);
    const inverseLeaderOffset = 1 / offsetPrecision[leader]!;
    let challenger = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < armCount; i++) {
      if (i === leader || isPendingPair(leader, i, pending)) continue;
      armGradient(this.model, this.params, this.features[i]!, gradient);
      let variance = inverseLeaderOffset + 1 / offsetPrecision[i]!;
      for (let k = 0; k < parameterCount; k++) {
        const difference = gradient[k]! - leaderGradient[k]!;
        variance += (difference * difference) / precision[k]!;
      }
      const score = this.armUtilities[i]! + Math.sqrt(this.options.nu * variance);
      if (score > bestScore) {
        bestScore = score;
        challenger = i;
      }
    }
    if (challenger < 0) return randomFreshPair(random, armCount, pending);
    return [leader, challenger];
  }

  /** argmax u over arms seen in a duel (the simple-regret recommendation). */
  recommend(): number {
    if (this.history.length === 0) return Math.max(0, latestWinner(this.history));
    const seen = seenArms(this.history, this.features.length);
    let best = -1;
    for (let i = 0; i < this.features.length; i++) {
      if (seen[i] && (best < 0 || this.armUtilities[i]! > this.armUtilities[best]!)) best = i;
    }
    return Math.max(0, best);
  }

  utilities(): Float64Array {
    return Float64Array.from(this.armUtilities);
  }

  /** sigma_i = sqrt(nu * (sum_k g_ik^2 / U_k + 1 / U_offset_i)). */
  uncertainties(): Float64Array {
    const gradient = new Float64Array(this.model.parameterCount);
    return Float64Array.from(this.features, (x, i) => {
      armGradient(this.model, this.params, x, gradient);
      let variance = 1 / this.offsetPrecision[i]!;
      for (let k = 0; k < gradient.length; k++) variance += (gradient[k]! * gradient[k]!) / this.precision[k]!;
      return Math.sqrt(this.options.nu * variance);
    });
  }

  private leader(): number {
    if (this.options.leaderScope === "seen") return this.recommend();
    let best = 0;
    for (let i = 1; i < this.armUtilities.length; i++) if (this.armUtilities[i]! > this.armUtilities[best]!) best = i;
    return best;
  }

  private slotGradients(slotArm: Int32Array): Float64Array[] {
    return Array.from(slotArm, (arm) => {
      const gradient = new Float64Array(this.model.parameterCount);
      armGradient(this.model, this.params, this.features[arm]!, gradient);
      return gradient;
    });
  }

  /** U += w (g_a - g_b)^2 and U_offset_{a,b} += w, with w = p (1 - p) under laplaceWeights, else 1. */
  private addPairInformation(
    gradientA: Float64Array,
    gradientB: Float64Array,
    a: number,
    b: number,
    precision: Float64Array,
    offsetPrecision: Float64Array,
  ): void {
    let weight = 1;
    if (this.options.laplaceWeights) {
      const p = sigmoid(this.armUtilities[a]! - this.armUtilities[b]!);
      weight = Math.max(p * (1 - p), 0.01);
    }
    for (let k = 0; k < precision.length; k++) {
      const difference = gradientA[k]! - gradientB[k]!;
      precision[k] = precision[k]! + weight * difference * difference;
    }
    offsetPrecision[a] = offsetPrecision[a]! + weight;
    offsetPrecision[b] = offsetPrecision[b]! + weight;
  }
}

/**
 * Builds our default policy (see DuetPolicy). Cost per fit: O(steps * S * h (d + h) + n h (d + h));
 * per selectPair: O((n + K) h (d + h)) for K pending pairs. Throws on empty or invalid features.
 */
export function createDuetPolicy(context: PolicyContext, options: Partial<DuetOptions> = {}): DuelingPolicy {
  return new DuetPolicy(context, { ...DUET_DEFAULTS, ...options });
}
