import type { CoverageOptions } from "./coverage";
import { withCoverage } from "./coverage";
import type { Duel, DuelingPolicy, PolicyName, PolicyOptions, PolicyState } from "./policy";
import { createPolicy } from "./policy";
import type { RandomSource } from "./random";
import { deriveSeed, mulberry32 } from "./random";

/**
 * What a study serves (docs/decisions/0006, 0016): the configured policy wrapped by coverage, refitted on the
 * full history, proposing a batch of pairs with the pairs already handed out counted as pending, from which each
 * request takes the first usable one. The app's engine worker and the simulator's `app` policy both run this
 * module, so the benchmark scores exactly what a study serves.
 */
export type Pair = [number, number];

/**
 * A vote as the engine holds it: the duel and, when known, who cast it (the app's annotator id; the simulator's crowd
 * member) and on which side `a` was shown. The vote model (setVoteModel) turns the annotator into the duel's logit
 * scale and the side into its logit offset in the policy's likelihood.
 */
export interface AnnotatedDuel extends Duel {
  annotator?: number;
  /** Whether `a` was the response shown on the left; absent = true (the app's duels name the left response `a`). */
  aShownLeft?: boolean;
}

/**
 * How the engine reads each vote, from the study's crowd fit (quality/duel-scales.ts): the duels of annotator k and
 * `a` shown on side s (+1 left, -1 right) enter the likelihood as P(a beats b) = sigmoid(c_k (u_a - u_b) + s gamma)
 * (docs/decisions/0044, 0047, 0048).
 */
export interface VoteModel {
  /** Annotator id -> c_k, the logit scale of their votes; an annotator not in the map counts 1. */
  annotatorScales: ReadonlyMap<number, number>;
  /** gamma, the logit pull of the left response; 0 reads the sides as equal. */
  sideTerm: number;
}

/** What one engine update publishes. */
export interface Proposals {
  /** The next pairs, most wanted first; each later pick counts the earlier ones as pending. */
  pairs: Pair[];
  /** Votes the fit behind these proposals saw. */
  voteCount: number;
  /** Whether this update refitted the policy (false when only the pending pairs changed). */
  refitted: boolean;
}

export interface ServedUpdate {
  /** Votes since the previous update (the engine keeps the whole history). */
  newDuels: readonly AnnotatedDuel[];
  /** Pairs handed out and not yet answered. */
  pending: readonly (readonly [number, number])[];
  batchSize: number;
  /**
   * Called after each pick with the number picked so far; true ends the batch early (at least one pair is always
   * proposed). The app passes a time budget; the simulator passes nothing, so its batches depend only on the seed.
   */
  stop?: (picked: number) => boolean;
}

/**
 * How many pairs an update proposes for `pendingCount` open assignments: enough that every annotator who holds
 * one can get a fresh pair next, plus a margin for proposals found held or without a common ready query.
 * max(8, 2K + 4). Cost: O(1). Throws nothing.
 */
export function servedBatchSize(pendingCount: number): number {
  return Math.max(8, 2 * pendingCount + 4);
}

/**
 * Up to `batchSize` pairs from `policy`, each chosen with `pending` plus the pairs picked before it as pending
 * (hallucinated information, DESIGN §5.3), at most one per distinct pair count n(n-1)/2; `stop` may end it early.
 * Cost: batchSize x the policy's selectPair. Throws what selectPair throws.
 */
export function proposeBatch(
  policy: DuelingPolicy,
  armCount: number,
  {
    pending,
    batchSize,
    stop,
    random,
  }: { pending: readonly (readonly [number, number])[]; batchSize: number; stop?: (picked: number) => boolean; random: RandomSource },
): Pair[] {
  const withPicks = pending.map(([a, b]): [number, number] => [a, b]);
  const pairs: Pair[] = [];
  const distinctPairs = (armCount * (armCount - 1)) / 2;
  while (pairs.length < Math.min(batchSize, distinctPairs)) {
    const pair = policy.selectPair({ pending: withPicks, random });
    pairs.push(pair);
    withPicks.push(pair);
    if (stop?.(pairs.length)) break;
  }
  return pairs;
}

/** The rules a request applies to the proposals, in the app answered from SQLite, in the simulator from its state. */
export interface ClaimRules<P> {
  /** The duel this annotator just answered: skipped for them, left for others. */
  isOwnLastPair(pair: P): boolean;
  /**
   * Usable by anyone now: not held by another annotator and answerable (in the app: both prompts enabled and a query
   * where both responses are ready). An unusable proposal is retired.
   */
  isUsable(pair: P): boolean;
  /**
   * Optional: this annotator has already answered the pair on every usable query (the app's fresh-pairs rule): skipped
   * for them and left for others. The simulator has no queries, so every pair is fresh to every annotator there.
   */
  isAnsweredBy?(pair: P): boolean;
  /** Marks a proposal handed out or found unusable, so that no later request looks at it again. */
  retire(index: number): void;
}

/**
 * The proposal a request gets (docs/decisions/0006): the first open one, in the policy's order, that is not this
 * annotator's last duel, is usable and is not already answered by them; it is retired (handed out), and so is every
 * unusable proposal looked at on the way, while those skipped for this annotator only stay open for others.
 * Null when none is left: the caller then falls back to a uniformly random pair (recorded as policy "random").
 * Cost: O(proposals) rule checks. Throws nothing itself.
 */
export function claimProposal<P>(open: Iterable<{ index: number; pair: P }>, rules: ClaimRules<P>): { index: number; pair: P } | null {
  for (const proposal of open) {
    if (rules.isOwnLastPair(proposal.pair)) continue;
    if (!rules.isUsable(proposal.pair)) {
      rules.retire(proposal.index);
      continue;
    }
    if (rules.isAnsweredBy?.(proposal.pair)) continue;
    rules.retire(proposal.index);
    return proposal;
  }
  return null;
}

export interface ServedEngineOptions {
  policy: PolicyName | "default";
  /**
   * Seeds the policy (stream 0) and its selection draws (stream 1, one per vote count); the app passes the study id.
   */
  seed: number;
  policyOptions?: PolicyOptions;
  coverage?: Partial<CoverageOptions>;
  /**
   * Per arm, 1 when it is in selection (0: disabled by the owner or retired by the rule); all in selection when
   * absent. See setInSelection.
   */
  inSelection?: Uint8Array;
  /**
   * A state saved by saveState() with the duels it had been fitted on: the engine resumes exactly there. A state the
   * policy refuses (saved by another version of it, or for another selection) is dropped, and the next update learns
   * again from the votes.
   */
  resume?: { state: PolicyState; history: readonly AnnotatedDuel[] };
  /** How each vote is read (see setVoteModel); every vote at scale 1 and no side term when absent. */
  voteModel?: VoteModel;
}

/** What saveState() returns: the policy's state and how many duels and arms it covers. */
export interface SavedEngine {
  state: PolicyState;
  voteCount: number;
  armCount: number;
}

// The selection a saved state was learned on, stored beside the policy's own keys.
const SELECTION_KEY = "served.inSelection";

function validateVoteModel(caller: string, { annotatorScales, sideTerm }: VoteModel): void {
  for (const [annotator, scale] of annotatorScales)
    if (!Number.isFinite(scale)) throw new Error(`${caller} requires finite scales: annotator ${annotator} has ${String(scale)}`);
  if (!Number.isFinite(sideTerm)) throw new Error(`${caller} requires a finite side term: got ${String(sideTerm)}`);
}

// The annotators' scales a saved state was learned with (those not 1, as [id, scale, id, scale, ...] by id).
const SCALES_KEY = "served.annotatorScales";
// The side term a saved state was learned with (absent = 0).
const SIDE_TERM_KEY = "served.sideTerm";

/** The scales that are not 1, by annotator id: what changes the likelihood (an absent annotator's votes are at 1). */
function effectiveScales(scales: ReadonlyMap<number, number>): Map<number, number> {
  const entries = [...scales].filter(([, scale]) => scale !== 1).sort(([x], [y]) => x - y);
  return new Map(entries);
}

function sameScales(x: ReadonlyMap<number, number>, y: ReadonlyMap<number, number>): boolean {
  if (x.size !== y.size) return false;
  for (const [annotator, scale] of x) if (y.get(annotator) !== scale) return false;
  return true;
}

/**
 * Whether two vote models read every vote alike: the same side term and the same scale for every annotator (absent
 * from a map = 1). Cost: O(K).
 */
export function sameVoteModel(x: VoteModel, y: VoteModel): boolean {
  return x.sideTerm === y.sideTerm && sameScales(effectiveScales(x.annotatorScales), effectiveScales(y.annotatorScales));
}

function encodeScales(scales: ReadonlyMap<number, number>): Float64Array {
  return Float64Array.from([...scales].flat());
}

function decodeScales(value: number | Float64Array | undefined): Map<number, number> | null {
  if (value === undefined) return new Map();
  if (!(value instanceof Float64Array) || value.length % 2 !== 0) return null;
  const scales = new Map<number, number>();
  for (let k = 0; k < value.length; k += 2) scales.set(value[k]!, value[k + 1]!);
  return scales;
}

/**
 * A study's selection engine: withCoverage(policy), the vote history, and the update that refits (only when there
 * are new votes or new arms, or before the first fit) and proposes a batch. Each batch draws from its own random
 * stream, seeded by (seed, vote count), so the pairs depend on the votes and the pending pairs only: an engine
 * stopped and resumed (saveState / resume) proposes what the one that never stopped would have. A class because it
 * holds the policy state between updates.
 *
 * Out of selection (docs/decisions/0023): the policy runs on the arms in selection only, as a sub-pool with its own
 * indices, fitted on the duels between two such arms. An arm out of selection is never proposed, never recommended,
 * and gets utility 0 and recommendation score -Infinity; its votes stay in votes() (the leaderboard keeps them).
 * With every arm in selection the sub-pool is the whole pool, index for index, so nothing changes.
 */
export class ServedEngine {
  /** The policy over the arms in selection (null with fewer than two of them). */
  private subPolicy: DuelingPolicy | null = null;
  /** Whether the constructor put back a saved state (false without one or when the policy refused it). */
  readonly resumed: boolean;
  private readonly options: ServedEngineOptions;
  private readonly seed: number;
  private readonly history: AnnotatedDuel[];
  private readonly features: Float64Array[];
  /** Annotator id -> logit scale of their votes, only those not 1 (effectiveScales). */
  private annotatorScales: Map<number, number>;
  /** The logit pull of the left response (VoteModel.sideTerm). */
  private sideTerm: number;
  private inSelection: Uint8Array;
  /** Sub-pool index -> arm, and arm -> sub-pool index (-1 out of selection). */
  private subArms: number[] = [];
  private subIndex: Int32Array = new Int32Array(0);
  /** The duels between two arms in selection, in sub-pool indices: what the policy is fitted on. */
  private subHistory: Duel[] = [];
  private stale = true;

  constructor(features: Float64Array[], options: ServedEngineOptions) {
    this.options = options;
    this.seed = options.seed;
    this.features = [...features];
    this.history = options.resume ? [...options.resume.history] : [];
    const voteModel = options.voteModel ?? { annotatorScales: new Map(), sideTerm: 0 };
    validateVoteModel("ServedEngine", voteModel);
    this.annotatorScales = effectiveScales(voteModel.annotatorScales);
    this.sideTerm = voteModel.sideTerm;
    this.inSelection = options.inSelection ? Uint8Array.from(options.inSelection) : new Uint8Array(features.length).fill(1);
    if (this.inSelection.length !== features.length) throw new Error("ServedEngine: inSelection must have one entry per arm");
    this.rebuild();
    let resumed = false;
    const saved = options.resume?.state[SELECTION_KEY];
    const sameSelection =
      saved === undefined
        ? this.inSelection.every((flag) => flag === 1)
        : saved instanceof Float64Array && saved.length === this.inSelection.length && saved.every((flag, arm) => flag === this.inSelection[arm]);
    const savedScales = decodeScales(options.resume?.state[SCALES_KEY]);
    const sameScalesAsSaved = savedScales !== null && sameScales(savedScales, this.annotatorScales);
    const sameSideTermAsSaved = (options.resume?.state[SIDE_TERM_KEY] ?? 0) === this.sideTerm;
    if (options.resume && this.subPolicy?.restoreState && sameSelection && sameScalesAsSaved && sameSideTermAsSaved) {
      const { [SELECTION_KEY]: _selection, [SCALES_KEY]: _scales, [SIDE_TERM_KEY]: _sideTerm, ...state } = options.resume.state;
      try {
        this.subPolicy.restoreState(state, this.subHistory);
        resumed = true;
      } catch {
        this.rebuild();
      }
    }
    this.resumed = resumed;
    this.stale = !resumed;
  }

  /** Every arm is shown before the policy alone decides (bandit/coverage.ts; docs/decisions/0005). Builds the sub-pool's policy afresh. */
  private rebuild(): void {
    this.subArms = [];
    this.subIndex = new Int32Array(this.features.length).fill(-1);
    for (let arm = 0; arm < this.features.length; arm++) {
      if (this.inSelection[arm] !== 1) continue;
      this.subIndex[arm] = this.subArms.length;
      this.subArms.push(arm);
    }
    this.subHistory = [];
    for (const duel of this.history) this.appendSubDuel(duel);
    this.subPolicy =
      this.subArms.length >= 2
        ? withCoverage(
            createPolicy(
              this.options.policy,
              { features: this.subArms.map((arm) => this.features[arm]!), random: mulberry32(deriveSeed(this.seed, 0)) },
              this.options.policyOptions,
            ),
            this.options.coverage,
          )
        : null;
    this.stale = true;
  }

  /**
   * The duel in sub-pool indices with its logit scale, its annotator's (the vote model) else its own, 1 when neither
   * says, and its logit offset, its own plus the side term (+gamma with `a` shown left, -gamma shown right); a duel at
   * scale 1 and offset 0 carries neither, so without a vote model the policy sees exactly the duels it always did.
   */
  private appendSubDuel(duel: AnnotatedDuel): void {
    const a = this.subIndex[duel.a] ?? -1;
    const b = this.subIndex[duel.b] ?? -1;
    if (a < 0 || b < 0) return;
    const scale = (duel.annotator === undefined ? undefined : this.annotatorScales.get(duel.annotator)) ?? duel.scale ?? 1;
    const side = this.sideTerm === 0 ? 0 : duel.aShownLeft === false ? -this.sideTerm : this.sideTerm;
    const offset = (duel.offset ?? 0) + side;
    if (a === duel.a && b === duel.b && scale === (duel.scale ?? 1) && offset === (duel.offset ?? 0)) this.subHistory.push(duel);
    else {
      const subDuel: Duel = { a, b, outcome: duel.outcome };
      if (scale !== 1) subDuel.scale = scale;
      if (offset !== 0) subDuel.offset = offset;
      this.subHistory.push(subDuel);
    }
  }

  /**
   * How every vote is read from now on, past votes included (VoteModel; docs/decisions/0044, 0048): the duels of
   * annotator k with `a` shown on side s enter the likelihood as P(a beats b) = sigmoid(c_k (u_a - u_b) + s gamma); an
   * annotator not in the map stays at 1. The app passes the latest reliability fit's (quality/duel-scales.ts), the
   * simulator its own fit's. A new model marks the engine for a refit at the next update (the same one again changes
   * nothing); with every scale 1 and gamma 0 the engine is the one without a vote model, bit for bit. Cost: O(V) on a
   * change. Throws on a scale or side term that is not finite.
   */
  setVoteModel(model: VoteModel): void {
    validateVoteModel("ServedEngine.setVoteModel", model);
    if (sameVoteModel(model, { annotatorScales: this.annotatorScales, sideTerm: this.sideTerm })) return;
    this.annotatorScales = effectiveScales(model.annotatorScales);
    this.sideTerm = model.sideTerm;
    this.subHistory = [];
    for (const duel of this.history) this.appendSubDuel(duel);
    this.stale = true;
  }

  /** New prompts join the pool (their indices follow the existing ones); `inSelection` per new arm, all in when absent. Cost: the policy's addArms. */
  addArms(features: Float64Array[], inSelection?: Uint8Array): void {
    const flags = inSelection ?? new Uint8Array(features.length).fill(1);
    if (flags.length !== features.length) throw new Error("ServedEngine.addArms: inSelection must have one entry per new arm");
    const grown = new Uint8Array(this.inSelection.length + features.length);
    grown.set(this.inSelection);
    grown.set(flags, this.inSelection.length);
    const firstNew = this.features.length;
    this.features.push(...features);
    this.inSelection = grown;
    const index = new Int32Array(this.features.length).fill(-1);
    index.set(this.subIndex);
    this.subIndex = index;
    const joining: Float64Array[] = [];
    for (let arm = firstNew; arm < this.features.length; arm++) {
      if (this.inSelection[arm] !== 1) continue;
      this.subIndex[arm] = this.subArms.length;
      this.subArms.push(arm);
      joining.push(this.features[arm]!);
    }
    if (joining.length === 0) return;
    if (this.subPolicy) this.subPolicy.addArms(joining);
    else this.rebuild();
    this.stale = true;
  }

  /**
   * Which arms are in selection (1) or out (0: disabled, retired). A change rebuilds the policy on the new sub-pool
   * (fitted at the next update); the same selection again changes nothing. Cost: O(n + V) on a change.
   */
  setInSelection(inSelection: Uint8Array): void {
    if (inSelection.length !== this.features.length) throw new Error("ServedEngine.setInSelection: one entry per arm");
    if (inSelection.every((flag, arm) => (flag === 1) === (this.inSelection[arm] === 1))) return;
    this.inSelection = Uint8Array.from(inSelection, (flag) => (flag === 1 ? 1 : 0));
    this.rebuild();
  }

  /** The policy over the arms in selection, in sub-pool indices (the simulator's, where every arm is). Throws with fewer than two arms in selection. */
  get policy(): DuelingPolicy {
    if (!this.subPolicy) throw new Error("ServedEngine: fewer than two arms in selection");
    return this.subPolicy;
  }

  /** Number of arms in the pool, in selection or not. */
  get armCount(): number {
    return this.features.length;
  }

  /** The votes the engine holds, in order. */
  votes(): readonly AnnotatedDuel[] {
    return this.history;
  }

  /**
   * Appends the new votes and refits when anything changed since the last fit (new votes, new arms, a new selection,
   * or none yet); returns whether it refitted. An update that only hands out a pair changes the pending set, not the
   * fit. Cost: one policy fit when refitting. Throws on invalid votes (the policy's message).
   */
  refit(newDuels: readonly AnnotatedDuel[]): boolean {
    for (const duel of newDuels) {
      if (duel.a < 0 || duel.b < 0 || duel.a >= this.features.length || duel.b >= this.features.length)
        throw new Error(`ServedEngine.refit: a duel names an arm outside [0, ${this.features.length})`);
      this.history.push(duel);
      this.appendSubDuel(duel);
      this.stale = true;
    }
    if (!this.stale) return false;
    this.subPolicy?.fit(this.subHistory);
    this.stale = false;
    return true;
  }

  /**
   * The next batch for the current fit (see proposeBatch), drawn from the stream of this vote count, in arm indices;
   * only arms in selection, none with fewer than two of them. Cost: batchSize selections.
   */
  propose({ pending, batchSize, stop }: Omit<ServedUpdate, "newDuels">): Pair[] {
    if (!this.subPolicy) return [];
    const random = mulberry32(deriveSeed(this.seed, 1, this.history.length));
    const subPending: [number, number][] = [];
    for (const [a, b] of pending) {
      const subA = this.subIndex[a] ?? -1;
      const subB = this.subIndex[b] ?? -1;
      if (subA >= 0 && subB >= 0) subPending.push([subA, subB]);
    }
    const pairs = proposeBatch(this.subPolicy, this.subArms.length, { pending: subPending, batchSize, stop, random });
    return pairs.map(([a, b]) => [this.subArms[a]!, this.subArms[b]!]);
  }

  /** refit, then propose: one engine update. */
  update(update: ServedUpdate): Proposals {
    const refitted = this.refit(update.newDuels);
    return { pairs: this.propose(update), voteCount: this.history.length, refitted };
  }

  /**
   * The policy's state after its last fit, to resume from later (ServedEngineOptions.resume with votes().slice(), and
   * the same inSelection and voteModel: with another vote model the state is not resumed and the engine learns again);
   * null when the policy cannot save or has not been fitted on everything it holds (votes, arms, a selection or a vote
   * model since). Cost: O(state).
   */
  saveState(): SavedEngine | null {
    if (this.stale || !this.subPolicy?.saveState) return null;
    const state: PolicyState = { ...this.subPolicy.saveState() };
    if (this.subArms.length < this.features.length) state[SELECTION_KEY] = Float64Array.from(this.inSelection);
    if (this.annotatorScales.size > 0) state[SCALES_KEY] = encodeScales(this.annotatorScales);
    if (this.sideTerm !== 0) state[SIDE_TERM_KEY] = this.sideTerm;
    return { state, voteCount: this.history.length, armCount: this.features.length };
  }

  /**
   * The policy's recommendation (always an arm in selection, or -1 with none), utilities, uncertainties and the
   * scores its recommendation ranks by, per arm, after the last update (for snapshots; the simulator reads only the
   * recommendation). Cost: O(n h^2) for duet.
   */
  estimates(): { recommended: number; utilities: Float64Array; uncertainties: Float64Array; recommendationScores: Float64Array } {
    const n = this.features.length;
    const utilities = new Float64Array(n);
    const uncertainties = new Float64Array(n);
    const recommendationScores = new Float64Array(n).fill(-Infinity);
    if (!this.subPolicy) return { recommended: this.subArms[0] ?? -1, utilities, uncertainties, recommendationScores };
    const subUtilities = this.subPolicy.utilities();
    const subUncertainties = this.subPolicy.uncertainties();
    const subScores = this.subPolicy.recommendationScores?.() ?? subUtilities;
    this.subArms.forEach((arm, sub) => {
      utilities[arm] = subUtilities[sub]!;
      uncertainties[arm] = subUncertainties[sub]!;
      recommendationScores[arm] = subScores[sub]!;
    });
    return { recommended: this.subArms[this.subPolicy.recommend()]!, utilities, uncertainties, recommendationScores };
  }
}
