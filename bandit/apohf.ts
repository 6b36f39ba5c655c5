import type { AdamState } from "./adam";
import { createAdamState, resetAdamState } from "./adam";
import { trainBtl } from "./btl-trainer";
import { compactDuels, validateHistory } from "./duels";
import { validateFeatures } from "./features";
import { initMlpParameters } from "./mlp";
import { armGradient, ntkSigma, uncertaintyDiagonal } from "./ntk-ucb";
import { randomFreshPair, seenArms } from "./pairs";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "./policy";
import { standardNormal } from "./random";
import type { RandomSource } from "./random";
import type { UtilityModel } from "./utility-model";
import { LinearUtilityModel, MlpUtilityModel } from "./utility-model";

/** Settings of APOHF (arXiv 2405.17346, §5; DESIGN §5.1). Defaults are the paper's. */
export interface ApohfOptions {
  trainSteps: number; // 1000 full-batch Adam steps per round, from the initial weights
  learningRate: number; // 1e-3
  lambda: number; // 0.1: prior precision of the NTK diagonal and weight decay lambda / (L + 50)
  nu: number; // 1: exploration scale
  warmupPairs: number; // 5 random pairs before the first model
  hiddenDim: number; // 32
}

export const APOHF_DEFAULTS: ApohfOptions = {
  trainSteps: 1000,
  learningRate: 1e-3,
  lambda: 0.1,
  nu: 1,
  warmupPairs: 5,
  hiddenDim: 32,
};

/**
 * The NTK-UCB dueling bandit of APOHF, generic over the utility model (the MLP for `apohf`, a linear
 * function for `linear`). A class because it holds the model state between rounds.
 */
export class NtkUcbPolicy implements DuelingPolicy {
  private readonly features: Float64Array[] = [];
  private readonly initialParams: Float64Array;
  private readonly params: Float64Array;
  private readonly adam: AdamState;
  private readonly precision: Float64Array;
  private history: readonly Duel[] = [];
  private armUtilities = new Float64Array(0);

  constructor(
    readonly name: string,
    private readonly model: UtilityModel,
    initialise: (out: Float64Array) => void,
    context: PolicyContext,
    private readonly options: ApohfOptions,
  ) {
    this.initialParams = new Float64Array(model.parameterCount);
    initialise(this.initialParams);
    this.params = Float64Array.from(this.initialParams);
    this.adam = createAdamState(model.parameterCount);
    this.precision = new Float64Array(model.parameterCount).fill(options.lambda);
    this.addArms(context.features);
  }

  addArms(features: Float64Array[]): void {
    validateFeatures(`${this.name}.addArms`, features, this.model.inputDim);
    const start = this.features.length;
    this.features.push(...features);
    const utilities = new Float64Array(this.features.length);
    utilities.set(this.armUtilities);
    for (let i = start; i < this.features.length; i++) {
      utilities[i] = this.model.forward(this.params, this.features[i]!, 0);
    }
    this.armUtilities = utilities;
  }

  /** Resets theta to its initial value and runs trainSteps Adam steps with weight decay lambda / (L + 50). */
  fit(history: readonly Duel[]): void {
    validateHistory(`${this.name}.fit`, history, this.features.length);
    this.history = history.slice();
    this.params.set(this.initialParams);
    if (history.length === 0) return;
    resetAdamState(this.adam);
    const duels = compactDuels(history, this.features.length);
    trainBtl(this.model, this.params, this.adam, this.features, duels, {
      maxSteps: this.options.trainSteps,
      learningRate: this.options.learningRate,
      weightDecay: this.options.lambda / (history.length + 50),
    });
    for (let i = 0; i < this.features.length; i++) {
      this.armUtilities[i] = this.model.forward(this.params, this.features[i]!, 0);
    }
    const pairsA = history.map((duel) => duel.a);
    const pairsB = history.map((duel) => duel.b);
    uncertaintyDiagonal(this.model, this.params, this.features, pairsA, pairsB, history.length, this.options.lambda, this.precision);
  }

  /** a1 = argmax f; a2 = argmax_{i != a1} f_i + sigma_i (DESIGN §5.1). Ignores `pending`, like the original. */
  selectPair({ pending, random }: SelectPairOptions): [number, number] {
    const armCount = this.features.length;
    if (armCount < 2) throw new Error(`${this.name}.selectPair requires at least two arms`);
    if (this.history.length < Math.max(1, this.options.warmupPairs)) return randomFreshPair(random, armCount, pending);
    let first = 0;
    for (let i = 1; i < armCount; i++) if (this.armUtilities[i]! > this.armUtilities[first]!) first = i;
    const parameterCount = this.model.parameterCount;
    const firstGradient = new Float64Array(parameterCount);
    armGradient(this.model, this.params, this.features[first]!, firstGradient);
    const gradient = new Float64Array(parameterCount);
    let second = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < armCount; i++) {
      if (i === first) continue;
      const value = armGradient(this.model, this.params, this.features[i]!, gradient);
      const score = value + ntkSigma(gradient, firstGradient, this.precision, this.options.nu);
      if (score > bestScore) {
        bestScore = score;
        second = i;
      }
    }
    return [first, second];
  }

  /** argmax f over arms that appeared in a duel; arm 0 before any vote. */
  recommend(): number {
    if (this.history.length === 0) return 0;
    const seen = seenArms(this.history, this.features.length);
    let best = -1;
    for (let i = 0; i < this.features.length; i++) {
      if (seen[i] && (best < 0 || this.armUtilities[i]! > this.armUtilities[best]!)) best = i;
    }
    return best < 0 ? 0 : best;
  }

  utilities(): Float64Array {
    return Float64Array.from(this.armUtilities);
  }

  /** sigma_i = sqrt(nu * sum_k g_ik^2 / U_k): the NTK width of f(x_i) itself. */
  uncertainties(): Float64Array {
    const zero = new Float64Array(this.model.parameterCount);
    const gradient = new Float64Array(this.model.parameterCount);
    return Float64Array.from(this.features, (x) => {
      armGradient(this.model, this.params, x, gradient);
      return ntkSigma(gradient, zero, this.precision, this.options.nu);
    });
  }
}

function checkContext(caller: string, context: PolicyContext): number {
  if (context.features.length === 0) throw new Error(`${caller} requires at least one arm's features to fix the dimension`);
  validateFeatures(caller, context.features);
  return context.features[0]!.length;
}

/**
 * Faithful APOHF (DESIGN §5.1): the d-32-32-1 network with N(0,1) initial weights drawn from context.random.
 * Cost per fit: O(1000 * S * h (d + h)); per selectPair: O(n * h (d + h)). Throws on empty or invalid features.
 */
export function createApohfPolicy(context: PolicyContext, options: Partial<ApohfOptions> = {}): DuelingPolicy {
  const settings = { ...APOHF_DEFAULTS, ...options };
  const dimension = checkContext("createApohfPolicy", context);
  const model = new MlpUtilityModel(dimension, settings.hiddenDim);
  const random: RandomSource = context.random;
  return new NtkUcbPolicy("apohf", model, (out) => initMlpParameters(model.shape, random, out, "standard-normal"), context, settings);
}

/**
 * APOHF's `linear` baseline: f(x) = theta . x with N(0,1) initial theta, same training and selection rule.
 * Cost per fit: O(1000 * S * d). Throws on empty or invalid features.
 */
export function createLinearNtkPolicy(context: PolicyContext, options: Partial<ApohfOptions> = {}): DuelingPolicy {
  const settings = { ...APOHF_DEFAULTS, ...options };
  const dimension = checkContext("createLinearPolicy", context);
  const model = new LinearUtilityModel(dimension);
  const random: RandomSource = context.random;
  return new NtkUcbPolicy(
    "linear",
    model,
    (out) => {
      for (let k = 0; k < out.length; k++) out[k] = standardNormal(random);
    },
    context,
    settings,
  );
}
