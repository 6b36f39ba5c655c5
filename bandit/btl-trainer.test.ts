import { describe, expect, it } from "vitest";
import { createAdamState } from "./adam";
import { btlLoss } from "./btl-loss";
import { trainBtl, trainOffsets } from "./btl-trainer";
import { compactDuels } from "./duels";
import { initMlpParameters } from "./mlp";
import type { Duel } from "./policy";
import { mulberry32, standardNormal } from "./random";
import { MlpUtilityModel } from "./utility-model";

const random = mulberry32(3);
const features = Array.from({ length: 6 }, () => Float64Array.from({ length: 4 }, () => standardNormal(random)));
const history: Duel[] = [
  { a: 0, b: 1, outcome: 1 },
  { a: 2, b: 0, outcome: 0 },
  { a: 3, b: 4, outcome: 0.5 },
  { a: 1, b: 3, outcome: 1 },
  { a: 0, b: 1, outcome: 0 },
];

function lossOf(model: MlpUtilityModel, params: Float64Array): number {
  const duels = compactDuels(history, features.length);
  const utilities = Float64Array.from(duels.slotArm, (arm, s) => model.forward(params, features[arm]!, s));
  return btlLoss(utilities, duels.slotA, duels.slotB, duels.labels, duels.count);
}

describe("trainBtl", () => {
  it("uses dL/dtheta = sum over distinct arms of dL/du_s * df(x_s)/dtheta, checked by finite differences", () => {
    const model = new MlpUtilityModel(4, 5);
    const params = initMlpParameters(model.shape, mulberry32(9), new Float64Array(model.parameterCount), "he", 1);
    const duels = compactDuels(history, features.length);
    expect(duels.slotArm.length).toBe(5); // 5 distinct arms for 5 duels: one forward/backward each
    const utilities = Float64Array.from(duels.slotArm, (arm, s) => model.forward(params, features[arm]!, s));
    const slotGradient = new Float64Array(duels.slotArm.length);
    btlLoss(utilities, duels.slotA, duels.slotB, duels.labels, duels.count, slotGradient);
    const gradient = new Float64Array(model.parameterCount);
    duels.slotArm.forEach((arm, s) => model.backward(params, features[arm]!, s, slotGradient[s]!, gradient));
    const step = 1e-6;
    const probe = Float64Array.from(params);
    for (let k = 0; k < model.parameterCount; k++) {
      probe[k] = params[k]! + step;
      const plus = lossOf(model, probe);
      probe[k] = params[k]! - step;
      const minus = lossOf(model, probe);
      probe[k] = params[k]!;
      expect(gradient[k]!).toBeCloseTo((plus - minus) / (2 * step), 6);
    }
  });

  it("trains on the scaled loss (docs/decisions/0044): dL/dtheta by finite differences, and scales of 1 change nothing", () => {
    const model = new MlpUtilityModel(4, 5);
    const scaled = history.map((duel, l) => ({ ...duel, scale: [0.5, -1, 1, 0, 0.8][l]! }));
    const duels = compactDuels(scaled, features.length);
    expect(Array.from(duels.scales!)).toEqual([0.5, -1, 1, 0, 0.8]);
    const lossAt = (values: Float64Array) =>
      btlLoss(
        Float64Array.from(duels.slotArm, (arm, s) => model.forward(values, features[arm]!, s)),
        duels.slotA,
        duels.slotB,
        duels.labels,
        duels.count,
        undefined,
        duels.scales,
      );
    const params = initMlpParameters(model.shape, mulberry32(9), new Float64Array(model.parameterCount), "he", 1);
    const utilities = Float64Array.from(duels.slotArm, (arm, s) => model.forward(params, features[arm]!, s));
    const slotGradient = new Float64Array(duels.slotArm.length);
    btlLoss(utilities, duels.slotA, duels.slotB, duels.labels, duels.count, slotGradient, duels.scales);
    const gradient = new Float64Array(model.parameterCount);
    duels.slotArm.forEach((arm, s) => model.backward(params, features[arm]!, s, slotGradient[s]!, gradient));
    const step = 1e-6;
    const probe = Float64Array.from(params);
    for (let k = 0; k < model.parameterCount; k++) {
      probe[k] = params[k]! + step;
      const plus = lossAt(probe);
      probe[k] = params[k]! - step;
      const minus = lossAt(probe);
      probe[k] = params[k]!;
      expect(gradient[k]!).toBeCloseTo((plus - minus) / (2 * step), 6);
    }
    // Scales of 1 (given or absent) are no scales: the same training, bit for bit.
    expect(
      compactDuels(
        history.map((duel) => ({ ...duel, scale: 1 })),
        features.length,
      ).scales,
    ).toBeNull();
    const train = (withOnes: boolean) => {
      const values = initMlpParameters(model.shape, mulberry32(2), new Float64Array(model.parameterCount), "he", 0.1);
      const ones = compactDuels(history, features.length);
      const trained = trainBtl(
        model,
        values,
        createAdamState(model.parameterCount),
        features,
        withOnes ? { ...ones, scales: new Float64Array(ones.count).fill(1) } : ones,
        { maxSteps: 50, learningRate: 0.01, weightDecay: 0.01 },
      );
      return { values, trained };
    };
    const plain = train(false);
    const ones = train(true);
    expect(ones.trained).toEqual(plain.trained);
    expect(Array.from(ones.values)).toEqual(Array.from(plain.values));
  });

  it("lowers the loss and stops early once it stalls", () => {
    const model = new MlpUtilityModel(4, 8);
    const params = initMlpParameters(model.shape, mulberry32(5), new Float64Array(model.parameterCount), "he", 0.1);
    const before = lossOf(model, params);
    const duels = compactDuels(history, features.length);
    const result = trainBtl(model, params, createAdamState(model.parameterCount), features, duels, {
      maxSteps: 5000,
      learningRate: 0.01,
      weightDecay: 0.01,
      tolerance: 1e-4,
      patience: 10,
    });
    expect(result.loss).toBeLessThan(before);
    expect(result.steps).toBeLessThan(5000);
  });

  it("trainOffsets moves only the offsets, with the gradient dL/doffset = dL/du of the same loss", () => {
    const duels = compactDuels(history, features.length);
    const base = Float64Array.from(duels.slotArm, (_, s) => 0.1 * s);
    const offsets = { values: new Float64Array(6), adam: createAdamState(6), gradient: new Float64Array(6), weightDecay: 0 };
    const loss = (values: Float64Array) =>
      btlLoss(
        Float64Array.from(duels.slotArm, (arm, s) => base[s]! + values[arm]!),
        duels.slotA,
        duels.slotB,
        duels.labels,
        duels.count,
      );
    const before = loss(offsets.values);
    const result = trainOffsets(base, duels, offsets, { maxSteps: 300, learningRate: 0.05 });
    expect(result.loss).toBeLessThan(before);
    expect(result.loss).toBeCloseTo(loss(offsets.values), 3);
    // Arm 5 is in no duel: its offset has no gradient and stays 0.
    expect(offsets.values[5]).toBe(0);
    // Arm 2 lost its only duel (to arm 0): it ends below arm 0's offset.
    expect(offsets.values[2]!).toBeLessThan(offsets.values[0]!);
    expect(() => trainOffsets(new Float64Array(2), duels, offsets, { maxSteps: 1, learningRate: 0.1 })).toThrow(/one base utility per slot/);
  });
});
