import type { AdamState } from "./adam";
import { createAdamState } from "./adam";
import type { ArmOffsets } from "./btl-trainer";
import { trainBtl, trainOffsets } from "./btl-trainer";
import { logisticVariance } from "./btl-loss";
import { compactDuels, validateHistory } from "./duels";
import { validateFeatures } from "./features";
import type { MlpWorkspace } from "./mlp";
import { createMlpWorkspace, initMlpParameters, mlpForward } from "./mlp";
import { duelCounts, randomFreshPair } from "./pairs";
import type { Duel, DuelingPolicy, PolicyContext, PolicyState, SelectPairOptions } from "./policy";
import type { RandomProjection } from "./projection";
import { createRandomProjection, projectFeatures } from "./projection";
import { standardNormal } from "./random";
import { MlpUtilityModel } from "./utility-model";
import type { VoteRecord } from "./vote-support";
import { voteRecord, voteSupportedChoice } from "./vote-support";

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
  /**
   * The network is refitted (with the offsets) when the history has grown by at least this fraction since its last
   * refit (and on the first fit and after new arms); between network refits only the offsets are refitted, the
   * network's outputs held fixed (trainOffsets). 0 refits the network on every vote.
   */
  networkRefitGrowth: number;
  /** Early stopping: stop when the loss improved by less than tolerance * loss over `patience` steps. */
  tolerance: number;
  patience: number;
  /** Coupled L2 weight decay on theta (a Gaussian prior); the offsets' decay follows from offsetScale. */
  weightDecay: number;
  /** Prior precision of the network's NTK diagonal. */
  lambda: number;
  /**
   * Prior standard deviation of an arm's offset, as a multiple of the spread (standard deviation) of the current
   * utility estimates, floored at offsetScaleFloor: "an unseen arm may be as far from its prediction as arms are
   * from each other" (empirical Bayes), which keeps exploration alive at every annotator scale.
   */
  offsetScale: number;
  offsetScaleFloor: number;
  /** Scale of the network's NTK variance. */
  nu: number;
  /**
   * Challenger score: u_i + sigma_i * xi_i with xi_i ~ N(0,1) ("thompson", top-two Thompson sampling) or
   * xi = explorationBonus ("ucb"); "mixed" draws the rule per round, Thompson with probability thompsonProbability.
   * Thompson keeps exploring unseen arms (consistent annotators); UCB concentrates votes on the contenders, which
   * is what noisy annotators need.
   */
  challengerRule: "thompson" | "ucb" | "mixed";
  explorationBonus: number;
  thompsonProbability: number;
  /** Weight each duel's information by p (1 - p) (Laplace approximation of the logistic likelihood). */
  laplaceWeights: boolean;
  /** Random pairs until this many duels exist. */
  warmupPairs: number;
  /**
   * Recommendation = argmax over seen arms of u_i - recommendationPenalty * sigma_offset_i (a lower confidence bound,
   * so that with noisy annotators an arm needs evidence, not one lucky win, to be recommended). 0 = plain argmax u.
   * 2 by default: at 1, with 8 annotators at scale 1 the recommendation was often an arm of one duel whose single
   * win had not yet been put to the test (docs/decisions/0052).
   */
  recommendationPenalty: number;
  /**
   * Only arms with at least this many duels are recommended (and so led) while any arm has that many. 2 by default:
   * with noisy annotators a prompt that won its one duel was led and recommended on that single vote; with two, its
   * record is tested first (docs/decisions/0054). 1 = every arm in a duel.
   */
  recommendationMinDuels: number;
  /**
   * An arm that won every one of its duels but has fewer than recommendationMinDuels (none pending) duels the leader
   * next, the highest utility first: under recommendationMinDuels a prompt that beat the leader could not lead, and
   * waited for a draw to test it again while the leader met new prompts (docs/decisions/0055). true by default.
   */
  confirmContenders: boolean;
  /**
   * Never recommend an arm that an unbeaten arm with at least voteGuardMinWins decisive wins has beaten head to head
   * (bandit/vote-support.ts). On by default from 3 wins: from 1 it cost noisy annotators regret, for one or two wins
   * are not plain evidence from them (docs/decisions/0051).
   */
  voteGuard: boolean;
  voteGuardMinWins: number;
  /**
   * "allow": any arm may challenge the leader; "unless-beaten": not an arm the leader has beaten and never lost to
   * (while another candidate remains), so consistent annotators are not asked a question they already answered.
   * The default: with "allow" the leader spent its duels on rematches while a best arm seen once in warm-up waited
   * (docs/decisions/0050).
   */
  rematch: "allow" | "unless-beaten";
}

export const DUET_DEFAULTS: DuetOptions = {
  projectionDim: 64,
  hiddenDim: 32,
  outputScale: 0.1,
  learningRate: 0.01,
  firstFitSteps: 200,
  refitSteps: 40,
  networkRefitGrowth: 0,
  tolerance: 1e-3,
  patience: 10,
  weightDecay: 1e-3,
  lambda: 1,
  offsetScale: 1,
  offsetScaleFloor: 1,
  nu: 1,
  challengerRule: "mixed",
  explorationBonus: 1,
  thompsonProbability: 0.75,
  laplaceWeights: true,
  warmupPairs: 1,
  recommendationPenalty: 2,
  recommendationMinDuels: 2,
  confirmContenders: true,
  voteGuard: true,
  voteGuardMinWins: 3,
  rematch: "unless-beaten",
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
  private readonly workspace: MlpWorkspace;
  private hidden1Cache = new Float64Array(0);
  private hidden2Cache = new Float64Array(0);
  private readonly params: Float64Array;
  private readonly adam: AdamState;
  private offsets: ArmOffsets;
  private readonly precision: Float64Array;
  private offsetPrecision = new Float64Array(0);
  private offsetPriorVariance: number;
  private armUtilities = new Float64Array(0);
  private history: readonly Duel[] = [];
  private fitCount = 0;
  // History length at the last network refit (-1: none, or arms added since).
  private networkFitLength = -1;
  // recommend() of the current fit (it is the leader of every pick of a batch).
  private recommendation: number | null = null;
  private votes: VoteRecord | null = null;
  // The precisions with the pending pairs of the last selectPair counted in, until the next fit or
  // new arms: a batch of picks passes the previous call's pending plus the pair it chose.
  private pendingInformation: { pairs: [number, number][]; precision: Float64Array; offsetPrecision: Float64Array } | null = null;

  constructor(
    context: PolicyContext,
    private readonly options: DuetOptions,
  ) {
    if (context.features.length === 0) throw new Error("createDuetPolicy requires at least one arm's features to fix the dimension");
    validateFeatures("createDuetPolicy", context.features);
    const rawDim = context.features[0]!.length;
    this.projection = rawDim > options.projectionDim ? createRandomProjection(rawDim, options.projectionDim, context.random) : undefined;
    this.model = new MlpUtilityModel(this.projection ? options.projectionDim : rawDim, options.hiddenDim);
    this.workspace = createMlpWorkspace(this.model.shape);
    this.params = initMlpParameters(this.model.shape, context.random, new Float64Array(this.model.parameterCount), "he", options.outputScale);
    this.adam = createAdamState(this.model.parameterCount);
    // The NTK precision covers the last two layers (W2, b2, w3, b3), whose gradients follow from the hidden
    // activations cached when the arms are evaluated: O(h^2) per arm and no backward pass.
    this.precision = new Float64Array(this.model.parameterCount - this.model.shape.offsetW2).fill(options.lambda);
    this.offsetPriorVariance = options.offsetScaleFloor ** 2;
    this.offsets = { values: new Float64Array(0), adam: createAdamState(0), gradient: new Float64Array(0), weightDecay: 0 };
    this.rawDim = rawDim;
    this.addArms(context.features);
  }

  private readonly rawDim: number;

  addArms(features: Float64Array[]): void {
    validateFeatures("duet.addArms", features, this.rawDim);
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
      weightDecay: this.offsets.weightDecay,
    };
    this.offsetPrecision = grow(this.offsetPrecision, 1 / this.offsetPriorVariance);
    this.armUtilities = grow(this.armUtilities, 0);
    this.pendingInformation = null;
    this.recommendation = null;
    this.networkFitLength = -1;
    this.evaluateArms();
  }

  /** Warm-started MAP fit of theta and the offsets, then the Laplace-style diagonal precision. */
  fit(history: readonly Duel[]): void {
    const armCount = this.features.length;
    validateHistory("duet.fit", history, armCount);
    this.history = history.slice();
    this.pendingInformation = null;
    this.recommendation = null;
    this.votes = null;
    if (history.length === 0) return;
    const duels = compactDuels(history, armCount);
    const options = this.options;
    // Mean-loss form of the Gaussian prior offset_i ~ N(0, tau^2): coupled decay 1 / (tau^2 L).
    this.offsets.weightDecay = 1 / (this.offsetPriorVariance * history.length);
    const refitNetwork =
      this.networkFitLength < 0 || history.length - this.networkFitLength >= Math.max(1, options.networkRefitGrowth * this.networkFitLength);
    const steps = this.fitCount === 0 ? options.firstFitSteps : options.refitSteps;
    if (refitNetwork) {
      trainBtl(
        this.model,
        this.params,
        this.adam,
        this.features,
        duels,
        {
          maxSteps: steps,
          learningRate: options.learningRate,
          weightDecay: options.weightDecay,
          tolerance: options.tolerance,
          patience: options.patience,
        },
        this.offsets,
      );
      this.networkFitLength = history.length;
      this.evaluateArms();
    } else {
      // The network's outputs f(x_i) = u_i - offset_i are unchanged since the last evaluation.
      const base = Float64Array.from(duels.slotArm, (arm) => this.armUtilities[arm]! - this.offsets.values[arm]!);
      const networkOutputs = Float64Array.from(this.armUtilities, (u, i) => u - this.offsets.values[i]!);
      trainOffsets(base, duels, this.offsets, {
        maxSteps: steps,
        learningRate: options.learningRate,
        tolerance: options.tolerance,
        patience: options.patience,
      });
      for (let i = 0; i < networkOutputs.length; i++) this.armUtilities[i] = networkOutputs[i]! + this.offsets.values[i]!;
    }
    this.fitCount += 1;
    this.offsetPriorVariance = this.estimateOffsetPriorVariance();
    this.precision.fill(options.lambda);
    this.offsetPrecision.fill(1 / this.offsetPriorVariance);
    for (let l = 0; l < duels.count; l++) {
      const scale = duels.scales ? duels.scales[l]! : 1;
      const offset = duels.offsets ? duels.offsets[l]! : 0;
      this.addPairInformation(duels.slotArm[duels.slotA[l]!]!, duels.slotArm[duels.slotB[l]!]!, this.precision, this.offsetPrecision, scale, offset);
    }
  }

  /**
   * Top-two selection: leader = current recommendation; challenger = argmax_{i != leader} u_i + sigma_i * xi_i, where
   * sigma_i^2 = nu sum_k (g_i - g_leader)_k^2 / U_k + 1 / U_offset_i + 1 / U_offset_leader (after adding pending pairs).
   */
  selectPair({ pending, random }: SelectPairOptions): [number, number] {
    const armCount = this.features.length;
    if (armCount < 2) throw new Error("duet.selectPair requires at least two arms");
    if (this.history.length < Math.max(1, this.options.warmupPairs)) return randomFreshPair(random, armCount, pending);
    const leader = this.leader();
    const contender = this.options.confirmContenders ? this.untestedContender(leader, pending) : -1;
    if (contender >= 0) return [leader, contender];
    let eligible: Uint8Array | undefined;
    if (this.options.rematch === "unless-beaten") {
      const beaten = this.voteRecord().beaten(leader);
      if (beaten.length > 0) {
        eligible = new Uint8Array(armCount).fill(1);
        for (const arm of beaten) eligible[arm] = 0;
      }
    }
    let challenger = this.challenger(leader, { pending, random }, eligible);
    if (challenger < 0 && eligible) challenger = this.challenger(leader, { pending, random });
    if (challenger < 0) return randomFreshPair(random, armCount, pending);
    return [leader, challenger];
  }

  /**
   * The arm of fewer than recommendationMinDuels answered duels, every one of them won as the likelihood reads it
   * (voteRecord: a reversed annotator's vote counts the other way), in no pending pair, with the highest utility u_i,
   * or -1 when there is none (or every arm may lead).
   * Cost: O(n + L + K). Throws nothing.
   */
  private untestedContender(leader: number, pending: SelectPairOptions["pending"]): number {
    const minDuels = Math.max(1, this.options.recommendationMinDuels);
    if (minDuels <= 1) return -1;
    const armCount = this.features.length;
    const duels = duelCounts(this.history, armCount);
    if (!duels.some((count) => count >= minDuels)) return -1;
    const { wins } = this.voteRecord();
    for (const [a, b] of pending ?? []) {
      if (a < armCount) duels[a] = minDuels;
      if (b < armCount) duels[b] = minDuels;
    }
    let contender = -1;
    for (let i = 0; i < armCount; i++) {
      if (i === leader || duels[i]! === 0 || duels[i]! >= minDuels || wins[i]! < duels[i]!) continue;
      if (contender < 0 || this.armUtilities[i]! > this.armUtilities[contender]!) contender = i;
    }
    return contender;
  }

  /**
   * The challenger duet would pick for `leader` among the arms marked in `candidates` (coverage asks this for the
   * under-covered arms), or -1 when none is eligible. Same rule and cost as selectPair.
   */
  selectChallenger({ pending, random, leader, candidates }: SelectPairOptions & { leader: number; candidates: Uint8Array }): number {
    if (this.history.length < Math.max(1, this.options.warmupPairs)) return -1;
    return this.challenger(leader, { pending, random }, candidates);
  }

  /**
   * argmax over eligible i != leader, not pending with the leader, of u_i + sigma_i * xi_i (see selectPair), with the
   * pending pairs' information added first. -1 when no arm is eligible.
   */
  private challenger(leader: number, { pending, random }: SelectPairOptions, eligible?: Uint8Array): number {
    const armCount = this.features.length;
    const withPending = pending && pending.length > 0 ? this.withPendingInformation(pending) : null;
    const precision = withPending?.precision ?? this.precision;
    const offsetPrecision = withPending?.offsetPrecision ?? this.offsetPrecision;
    const pairedWithLeader = new Uint8Array(armCount);
    for (const [a, b] of pending ?? []) {
      if (a === leader && b < armCount) pairedWithLeader[b] = 1;
      if (b === leader && a < armCount) pairedWithLeader[a] = 1;
    }
    const inversePrecision = precision.map((value) => 1 / value);
    const inverseLeaderOffset = 1 / offsetPrecision[leader]!;
    const nu = this.options.nu;
    const rule = this.options.challengerRule;
    const thompson = rule === "thompson" || (rule === "mixed" && random() < this.options.thompsonProbability);
    let challenger = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < armCount; i++) {
      if (i === leader || pairedWithLeader[i] || (eligible && !eligible[i])) continue;
      const networkVariance = this.outputLayerVariance(i, leader, inversePrecision);
      const sigma = Math.sqrt(nu * networkVariance + inverseLeaderOffset + 1 / offsetPrecision[i]!);
      const draw = thompson ? standardNormal(random) : this.options.explorationBonus;
      const score = this.armUtilities[i]! + sigma * draw;
      if (score > bestScore) {
        bestScore = score;
        challenger = i;
      }
    }
    return challenger;
  }

  /**
   * U + the information of every pending pair, as if answered (hallucinated variance, batch UCB;
   * Desautels et al. 2014). When the last call's pending list is a prefix of this one only the new
   * pairs are added: a batch of K picks then costs O(K) arm gradients instead of O(K^2).
   */
  private withPendingInformation(pending: readonly (readonly [number, number])[]) {
    const armCount = this.features.length;
    let cache = this.pendingInformation;
    const extendsCache =
      cache !== null && cache.pairs.length <= pending.length && cache.pairs.every(([a, b], k) => pending[k]![0] === a && pending[k]![1] === b);
    if (!cache || !extendsCache) {
      cache = { pairs: [], precision: Float64Array.from(this.precision), offsetPrecision: Float64Array.from(this.offsetPrecision) };
    }
    for (let k = cache.pairs.length; k < pending.length; k++) {
      const [a, b] = pending[k]!;
      cache.pairs.push([a, b]);
      if (a >= armCount || b >= armCount || a === b) continue;
      this.addPairInformation(a, b, cache.precision, cache.offsetPrecision);
    }
    this.pendingInformation = cache;
    return cache;
  }

  /**
   * Copies of theta, both Adam states, the offsets, both precisions, the utilities, the fit counter and the history
   * length of the last network refit (the refit schedule). Cost: O(p + n).
   */
  saveState(): PolicyState {
    return {
      params: Float64Array.from(this.params),
      adamFirstMoment: Float64Array.from(this.adam.firstMoment),
      adamSecondMoment: Float64Array.from(this.adam.secondMoment),
      adamStep: this.adam.step,
      offsets: Float64Array.from(this.offsets.values),
      offsetsFirstMoment: Float64Array.from(this.offsets.adam.firstMoment),
      offsetsSecondMoment: Float64Array.from(this.offsets.adam.secondMoment),
      offsetsStep: this.offsets.adam.step,
      offsetsWeightDecay: this.offsets.weightDecay,
      precision: Float64Array.from(this.precision),
      offsetPrecision: Float64Array.from(this.offsetPrecision),
      offsetPriorVariance: this.offsetPriorVariance,
      fitCount: this.fitCount,
      networkFitLength: this.networkFitLength,
      // Kept as fitted: after an offsets-only fit (networkRefitGrowth) they are (u - old offset) + new offset, which
      // re-evaluating the network can miss by an ulp.
      armUtilities: Float64Array.from(this.armUtilities),
    };
  }

  /**
   * Puts back saveState() (taken after fit(history)) and re-evaluates the arms (the hidden activations the selection
   * reads). Cost: O(p + n h (d + h)). Throws on a state of another shape (also one saved by an older duet).
   */
  restoreState(state: PolicyState, history: readonly Duel[]): void {
    const armCount = this.features.length;
    validateHistory("duet.restoreState", history, armCount);
    const vector = (name: string, length: number): Float64Array => {
      const value = state[name];
      if (!(value instanceof Float64Array) || value.length !== length) throw new Error(`duet.restoreState requires ${name} of length ${length}`);
      return value;
    };
    const scalar = (name: string): number => {
      const value = state[name];
      if (typeof value !== "number") throw new Error(`duet.restoreState requires the number ${name}`);
      return value;
    };
    const p = this.model.parameterCount;
    this.params.set(vector("params", p));
    this.adam.firstMoment.set(vector("adamFirstMoment", p));
    this.adam.secondMoment.set(vector("adamSecondMoment", p));
    this.adam.step = scalar("adamStep");
    this.offsets.values.set(vector("offsets", armCount));
    this.offsets.adam.firstMoment.set(vector("offsetsFirstMoment", armCount));
    this.offsets.adam.secondMoment.set(vector("offsetsSecondMoment", armCount));
    this.offsets.adam.step = scalar("offsetsStep");
    this.offsets.weightDecay = scalar("offsetsWeightDecay");
    this.precision.set(vector("precision", this.precision.length));
    this.offsetPrecision.set(vector("offsetPrecision", armCount));
    this.offsetPriorVariance = scalar("offsetPriorVariance");
    this.fitCount = scalar("fitCount");
    this.networkFitLength = scalar("networkFitLength");
    const armUtilities = vector("armUtilities", armCount);
    this.history = history.slice();
    this.pendingInformation = null;
    this.recommendation = null;
    this.votes = null;
    this.evaluateArms();
    this.armUtilities.set(armUtilities);
  }

  /**
   * The simple-regret recommendation: argmax over arms seen in a duel of the lower bound
   * u_i - recommendationPenalty / sqrt(U_offset_i) (see recommendationScores for the arms eligible); with voteGuard,
   * replaced by an unbeaten arm that has beaten it.
   */
  recommend(): number {
    if (this.recommendation !== null) return this.recommendation;
    if (this.history.length === 0) return 0;
    const scores = this.recommendationScores();
    let modelArm = 0;
    for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[modelArm]!) modelArm = i;
    this.recommendation = this.options.voteGuard
      ? voteSupportedChoice(this.voteRecord(), modelArm, (arm) => scores[arm]!, this.options.voteGuardMinWins).arm
      : modelArm;
    return this.recommendation;
  }

  /**
   * Per arm, the lower bound the recommendation ranks by: -Infinity for an arm in no duel, and for an arm of fewer
   * than recommendationMinDuels duels while some arm has that many. Cost: O(n + history).
   */
  recommendationScores(): Float64Array {
    const duels = duelCounts(this.history, this.features.length);
    let minDuels = Math.max(1, this.options.recommendationMinDuels);
    if (!duels.some((count) => count >= minDuels)) minDuels = 1;
    const penalty = this.options.recommendationPenalty;
    return Float64Array.from(this.armUtilities, (u, i) =>
      duels[i]! >= minDuels ? u - (penalty > 0 ? penalty / Math.sqrt(this.offsetPrecision[i]!) : 0) : -Infinity,
    );
  }

  /** Decisive records of the fitted history (built once per fit). */
  private voteRecord(): VoteRecord {
    this.votes ??= voteRecord(this.history, this.features.length);
    return this.votes;
  }

  utilities(): Float64Array {
    return Float64Array.from(this.armUtilities);
  }

  /** sigma_i = sqrt(nu * sum_k g_ik^2 / U_k + 1 / U_offset_i), k over the last two layers (the selection's width). */
  uncertainties(): Float64Array {
    const inversePrecision = this.precision.map((value) => 1 / value);
    return Float64Array.from(this.features, (_, i) =>
      Math.sqrt(this.options.nu * this.outputLayerVariance(i, -1, inversePrecision) + 1 / this.offsetPrecision[i]!),
    );
  }

  /** u_i = f(x_i) + offset_i for every arm, caching both hidden layers for the output-layer NTK variance. */
  private evaluateArms(): void {
    const armCount = this.features.length;
    const h = this.model.shape.hiddenDim;
    if (this.hidden1Cache.length !== armCount * h) {
      this.hidden1Cache = new Float64Array(armCount * h);
      this.hidden2Cache = new Float64Array(armCount * h);
    }
    const workspace = this.workspace;
    for (let i = 0; i < armCount; i++) {
      this.armUtilities[i] = mlpForward(this.model.shape, this.params, this.features[i]!, workspace) + this.offsets.values[i]!;
      this.hidden1Cache.set(workspace.hidden1, i * h);
      this.hidden2Cache.set(workspace.hidden2, i * h);
    }
  }

  /**
   * sum over the last two layers' parameters k of (g_i - g_j)_k^2 / U_k (U indexed from W2), from cached activations:
   * g = (dW2 = delta2 hidden1^T, db2 = delta2, dw3 = hidden2, db3 = 1) with delta2 = w3 * 1[hidden2 > 0]. j = -1 stands
   * for a zero gradient (the arm's own width; then db3 counts).
   * Cost: O(h^2). Throws nothing.
   */
  private outputLayerVariance(i: number, j: number, inversePrecision: Float64Array): number {
    const shape = this.model.shape;
    const h = shape.hiddenDim;
    const params = this.params;
    const hidden1 = this.hidden1Cache;
    const hidden2 = this.hidden2Cache;
    const baseI = i * h;
    const baseJ = j * h;
    const biasIndex = h * h;
    const outputIndex = h * h + h;
    let variance = j < 0 ? inversePrecision[h * h + 2 * h]! : 0;
    for (let r = 0; r < h; r++) {
      const activationI = hidden2[baseI + r]!;
      const activationJ = j < 0 ? 0 : hidden2[baseJ + r]!;
      const weight = params[shape.offsetW3 + r]!;
      const deltaI = activationI > 0 ? weight : 0;
      const deltaJ = activationJ > 0 ? weight : 0;
      const outputDifference = activationI - activationJ;
      const biasDifference = deltaI - deltaJ;
      variance += outputDifference * outputDifference * inversePrecision[outputIndex + r]!;
      variance += biasDifference * biasDifference * inversePrecision[biasIndex + r]!;
      if (deltaI === 0 && deltaJ === 0) continue;
      const row = r * h;
      for (let c = 0; c < h; c++) {
        const difference = deltaI * hidden1[baseI + c]! - (deltaJ === 0 ? 0 : deltaJ * hidden1[baseJ + c]!);
        variance += difference * difference * inversePrecision[row + c]!;
      }
    }
    return variance;
  }

  /** tau^2 = max(offsetScaleFloor, offsetScale * std of the utility estimates)^2. */
  private estimateOffsetPriorVariance(): number {
    const n = this.armUtilities.length;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      sum += this.armUtilities[i]!;
      sumSquares += this.armUtilities[i]! ** 2;
    }
    const spread = Math.sqrt(Math.max(0, sumSquares / n - (sum / n) ** 2));
    return Math.max(this.options.offsetScaleFloor, this.options.offsetScale * spread) ** 2;
  }

  private leader(): number {
    return this.recommend();
  }

  /**
   * U += w (g_a - g_b)^2 over the last two layers (from cached activations, see outputLayerVariance) and
   * U_offset_{a,b} += w, with w = c^2 max(p (1 - p), 0.01) under laplaceWeights (p = sigmoid(c (u_a - u_b) + o)), else
   * c^2: the Fisher information of a vote at logit scale c and offset o (Duel.scale and Duel.offset, docs/decisions/0044,
   * 0048; 1 and 0 for pending pairs, whose annotator and sides are not known yet), so a random clicker's votes (c near 0)
   * add no precision and a reversed one's as much as a good one's. With c = 1 and o = 0 the operations are those without
   * them (1 * x is x, x + 0 is x exactly).
   * Cost: O(h^2). Throws nothing.
   */
  private addPairInformation(a: number, b: number, precision: Float64Array, offsetPrecision: Float64Array, scale = 1, offset = 0): void {
    let weight = scale * scale;
    if (this.options.laplaceWeights) {
      weight = scale * scale * Math.max(logisticVariance(scale * (this.armUtilities[a]! - this.armUtilities[b]!) + offset), 0.01);
    }
    const h = this.model.shape.hiddenDim;
    const params = this.params;
    const hidden1 = this.hidden1Cache;
    const hidden2 = this.hidden2Cache;
    const baseA = a * h;
    const baseB = b * h;
    for (let r = 0; r < h; r++) {
      const activationA = hidden2[baseA + r]!;
      const activationB = hidden2[baseB + r]!;
      const outputWeight = params[this.model.shape.offsetW3 + r]!;
      const deltaA = activationA > 0 ? outputWeight : 0;
      const deltaB = activationB > 0 ? outputWeight : 0;
      const outputDifference = activationA - activationB;
      const biasDifference = deltaA - deltaB;
      precision[h * h + h + r] = precision[h * h + h + r]! + weight * outputDifference * outputDifference;
      precision[h * h + r] = precision[h * h + r]! + weight * biasDifference * biasDifference;
      if (deltaA === 0 && deltaB === 0) continue;
      const row = r * h;
      for (let c = 0; c < h; c++) {
        const difference = deltaA * hidden1[baseA + c]! - deltaB * hidden1[baseB + c]!;
        precision[row + c] = precision[row + c]! + weight * difference * difference;
      }
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
