import { createAdamState, resetAdamState } from "../adam";
import { trainBtl } from "../btl-trainer";
import { compactDuels, validateHistory } from "../duels";
import { validateFeatures } from "../features";
import { initMlpParameters } from "../mlp";
import { randomFreshPair, seenArms } from "../pairs";
import type { Duel, DuelingPolicy, PolicyContext, SelectPairOptions } from "../policy";
import { randomInt } from "../random";
import { MlpUtilityModel } from "../utility-model";

/** Settings of the `doublets` baseline (Double Thompson Sampling, Wu & Liu 2016, with a network ensemble). */
export interface DoubleThompsonOptions {
  ensembleSize: number; // 10, as in the APOHF reference code
  trainSteps: number; // 1000
  learningRate: number; // 1e-3
  lambda: number; // 0.1, weight decay lambda / (L + 50)
  warmupPairs: number; // 5
  hiddenDim: number; // 32
  /**
   * The reference code starts every member from the same N(0,1) weights, so the members stay identical and
   * the second arm falls back to random (shared/bench/reference/README.md). When true (faithful), one
   * training run stands for all members, which gives the same numbers at a tenth of the cost.
   */
  identicalMembers: boolean;
}

export const DOUBLE_THOMPSON_DEFAULTS: DoubleThompsonOptions = {
  ensembleSize: 10,
  trainSteps: 1000,
  learningRate: 1e-3,
  lambda: 0.1,
  warmupPairs: 5,
  hiddenDim: 32,
  identicalMembers: true,
};

/**
 * `doublets`: each round every ensemble member is reset and trained on all duels; the first arm is the argmax of a
 * randomly drawn member, the second the argmax of another draw excluding nothing; when both coincide the second
 * arm is uniformly random (the reference code's fallback). Recommendation: argmax of the ensemble mean over seen arms.
 * Cost per fit: O(M * trainSteps * S * h (d + h)) (M = 1 when identicalMembers). Throws on invalid features/history.
 */
export function createDoubleThompsonPolicy(context: PolicyContext, options: Partial<DoubleThompsonOptions> = {}): DuelingPolicy {
  const settings = { ...DOUBLE_THOMPSON_DEFAULTS, ...options };
  if (context.features.length === 0) throw new Error("createDoubleThompsonPolicy requires at least one arm");
  validateFeatures("createDoubleThompsonPolicy", context.features);
  const features = context.features.slice();
  const model = new MlpUtilityModel(features[0]!.length, settings.hiddenDim);
  const memberCount = settings.identicalMembers ? 1 : settings.ensembleSize;
  const initialParams: Float64Array[] = [];
  const firstInit = initMlpParameters(model.shape, context.random, new Float64Array(model.parameterCount));
  for (let m = 0; m < memberCount; m++) {
    initialParams.push(m === 0 ? firstInit : initMlpParameters(model.shape, context.random, new Float64Array(model.parameterCount)));
  }
  const params = initialParams.map((p) => Float64Array.from(p));
  const adam = createAdamState(model.parameterCount);
  let memberUtilities: Float64Array[] = params.map(() => new Float64Array(features.length));
  let history: readonly Duel[] = [];

  const evaluateMembers = () => {
    memberUtilities = params.map((p) => Float64Array.from(features, (x) => model.forward(p, x, 0)));
  };
  evaluateMembers();

  const meanUtilities = () => {
    const mean = new Float64Array(features.length);
    for (const member of memberUtilities) for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! + member[i]! / memberUtilities.length;
    return mean;
  };
  const argmax = (values: Float64Array) => {
    let best = 0;
    for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
    return best;
  };
  const drawMember = (random: () => number) => memberUtilities[settings.identicalMembers ? 0 : randomInt(random, memberUtilities.length)]!;

  return {
    name: "doublets",
    addArms(extra: Float64Array[]) {
      validateFeatures("doublets.addArms", extra, model.inputDim);
      features.push(...extra);
      evaluateMembers();
    },
    fit(next: readonly Duel[]) {
      validateHistory("doublets.fit", next, features.length);
      history = next.slice();
      for (let m = 0; m < memberCount; m++) params[m]!.set(initialParams[m]!);
      if (history.length > 0) {
        const duels = compactDuels(history, features.length);
        for (let m = 0; m < memberCount; m++) {
          resetAdamState(adam);
          trainBtl(model, params[m]!, adam, features, duels, {
            maxSteps: settings.trainSteps,
            learningRate: settings.learningRate,
            weightDecay: settings.lambda / (history.length + 50),
          });
        }
      }
      evaluateMembers();
    },
    selectPair({ pending, random }: SelectPairOptions): [number, number] {
      if (features.length < 2) throw new Error("doublets.selectPair requires at least two arms");
      if (history.length < Math.max(1, settings.warmupPairs)) return randomFreshPair(random, features.length, pending);
      const first = argmax(drawMember(random));
      let second = argmax(drawMember(random));
      if (second === first) {
        second = randomInt(random, features.length - 1);
        if (second >= first) second += 1;
      }
      return [first, second];
    },
    recommend() {
      if (history.length === 0) return 0;
      const mean = meanUtilities();
      const seen = seenArms(history, features.length);
      let best = -1;
      for (let i = 0; i < mean.length; i++) if (seen[i] && (best < 0 || mean[i]! > mean[best]!)) best = i;
      return Math.max(0, best);
    },
    utilities: meanUtilities,
    uncertainties() {
      const mean = meanUtilities();
      const spread = new Float64Array(features.length);
      for (const member of memberUtilities) {
        for (let i = 0; i < spread.length; i++) spread[i] = spread[i]! + (member[i]! - mean[i]!) ** 2 / memberUtilities.length;
      }
      return spread.map(Math.sqrt);
    },
  };
}
