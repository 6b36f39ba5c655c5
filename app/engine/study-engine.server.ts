import { performance } from "node:perf_hooks";
import { eq } from "drizzle-orm";
import { DEFAULT_POLICY, isPolicyName, type PolicyName } from "../../bandit/policy";
import { sameVoteModel, servedBatchSize, type VoteModel } from "../../bandit/served";
import { studies } from "../../db/schema";
import { db } from "~/db.server";
import { env } from "~/env.server";
import { considerAutomaticRound } from "~/llm/auto-rounds.server";
import { readVoteModel } from "~/models/vote-model.server";
import { scheduleReliabilityFit } from "~/models/reliability-thread.server";
import { applyRetirementRule } from "~/models/retirement.server";
import { closeStudyOnConvergence } from "~/models/study-lifecycle.server";
import { forgetUsableItems } from "./assign.server";
import { loadCheckpoint, saveCheckpoint, type EngineCheckpoint } from "./checkpoints.server";
import { featureSourceKey, StudyHistoryFeed } from "./history-feed.server";
import type { FromWorker, SelectionState, StatisticsState, ToWorker } from "./protocol";
import { latestSnapshotVotes, writeSnapshot } from "./snapshot-writer.server";
import type { EngineWorkerPool, StudyChannel } from "./worker-pool.server";

// Statistics (bootstrap Bradley–Terry) are recomputed at most this often while votes stream in, and
// never more than a third of the time (interval >= 2x their duration). Refits likewise wait as long
// as the previous refit took: the engine uses at most half a core, the rest serves requests. Both
// waits stretch further while requests keep the request thread busy (backoffFactor).
const STATS_INTERVAL_MS = 2_000;
// Time the selection thread may spend proposing pairs after a refit: a few ms per pair at 1,000
// prompts once duet keeps the pending pairs' information between the picks of a batch (it was
// 10–40 ms with 200 open assignments). Top-ups and interim batches propose more between refits
// (topUpWhenLow, interimPairsNeeded). (ENGINE_SELECTION_BUDGET_MS, default 150.)
// Requests first: the busier the request thread was since the engine's last run (event-loop
// utilisation), the longer the engine waits before the next, up to this many times its run time.
// With only a lower thread priority (engine.worker.ts), a 1,000-prompt engine still cost the
// co-located load generator and the request thread enough that next-pair p99 swung between 13 and
// 100 ms at 660 votes/s; with this back-off it stays at 6–9 ms (bench:server).
const MAX_BACKOFF = 10;
const BACKOFF_FROM_UTILISATION = 0.2;
const FULL_BACKOFF_AT_UTILISATION = 0.5;
const LIGHT_RUN_MS = 100;
// New votes are read into the history at most this often between refits (and always before one).
const HISTORY_READ_INTERVAL_MS = 25;

// Proposals taken per second are measured over windows of this length.
const RATE_WINDOW_MS = 2_000;

/**
 * Events per second over the last completed window of at least `windowMs` (0 before one has completed), so that one
 * burst or a quiet moment moves it only as much as it weighs in the window. Cost: O(1) per call.
 */
export class EventRate {
  private count = 0;
  private windowStartCount = 0;
  private rate = 0;

  constructor(
    private readonly windowMs: number,
    private windowStart = Date.now(),
  ) {}

  /** Records `events` (negative: events taken back, as when a transaction that took proposals rolls back). */
  add(events: number): void {
    this.count += events;
  }

  perSecond(now = Date.now()): number {
    const elapsed = now - this.windowStart;
    if (elapsed >= this.windowMs) {
      this.rate = Math.max(0, this.count - this.windowStartCount) / (elapsed / 1000);
      this.windowStart = now;
      this.windowStartCount = this.count;
    }
    return this.rate;
  }
}

/**
 * How many times its own run time the engine waits before its next run: 1 while the request thread
 * is mostly idle, rising linearly to MAX_BACKOFF as its utilisation goes from
 * BACKOFF_FROM_UTILISATION to FULL_BACKOFF_AT_UTILISATION.
 */
export function backoffFactor(utilisation: number): number {
  const load = (utilisation - BACKOFF_FROM_UTILISATION) / (FULL_BACKOFF_AT_UTILISATION - BACKOFF_FROM_UTILISATION);
  return 1 + (MAX_BACKOFF - 1) * Math.min(1, Math.max(0, load));
}

export interface ProposedPair {
  promptAId: number;
  promptBId: number;
}

/** Where an engine is in its life: waiting for a slot in the pool, reading SQLite, serving, or gone. */
export type EngineLifecycle = "waiting" | "loading" | "running" | "stopping" | "stopped";

/**
 * One study's engine, fed from SQLite (votes + prompt embeddings are the only truth, so it can be
 * stopped at any time and rebuilt exactly: ADR 0008). Its policy lives on a shared selection thread,
 * which refits it and proposes the next pairs; a statistics thread computes the leaderboard and the
 * stopping rule for snapshots. Both are coalesced: while one works, further votes only mark it dirty,
 * and one more run follows. The pool (engine.server.ts) decides when it starts and stops.
 */
export class StudyEngine {
  readonly policy: PolicyName;
  private lifecycle: EngineLifecycle = "waiting";
  private feed: StudyHistoryFeed | null = null;
  private channel: StudyChannel | null = null;
  private lastHistoryReadAt = 0;
  // How many duels each thread already holds (they keep the history; we send only what is new).
  private selectionSentCount = 0;
  private statsSentCount = 0;
  private selection: SelectionState | null = null;
  // The selection the running statistics were computed for: a snapshot pairs both consistently.
  private statsSelection: SelectionState | null = null;
  private retiredProposals = new Set<number>();
  // The proposals retired since the current selection arrived, in order, so that a transaction that rolls
  // back can put back the ones it took (restoreProposals): the in-memory state follows SQLite's.
  private retirementLog: number[] = [];
  // An owner or the retirement rule changed which prompts are in selection: read again at the next update.
  private selectionChanged = false;
  // A reliability fit was stored since the vote model was last read: read it again at the next update (ADR 0044).
  private voteModelChanged = false;
  // The vote model the selection thread holds (the latest stored fit's when last read).
  private sentVoteModel: VoteModel = { annotatorScales: new Map(), sideTerm: 0 };
  private selecting = false;
  private selectionDirty = false;
  private computingStats = false;
  private lastStatsAt = 0;
  private lastStatsVotes = -1;
  private statsTimer: NodeJS.Timeout | null = null;
  private statsInterval = STATS_INTERVAL_MS;
  private selectionTimer: NodeJS.Timeout | null = null;
  private nextSelectionAt = 0;
  private utilisationMark = performance.eventLoopUtilization();
  private requestCounter = 0;
  // The request id of the latest top-up (topUpWhenLow): proposals only, on the current fit.
  private topUpRequestId = -1;
  // How fast requests take proposals, and how long the last refit ran (fit + selection, ms): what an interim batch must cover.
  private readonly consumption = new EventRate(RATE_WINDOW_MS);
  private lastRefitMs = 0;
  private firstFitMs = 0;
  // The selection time of the interim batch before the running refit (part of that run for the back-off).
  private interimSelectMs = 0;
  // Top-ups back off like refits: none before this time.
  private nextTopUpAt = 0;
  private idleWaiters: (() => void)[] = [];
  private statsWaiters: (() => void)[] = [];
  // Decisive duels (outcome 0 or 1) among the first decisiveCountedUpTo of the feed: counted once each, as snapshots advance.
  private decisiveCounted = 0;
  private decisiveCountedUpTo = 0;
  /** When the engine last served a request (pool bookkeeping: idle engines are stopped). */
  lastUsedAt = Date.now();
  /** When it started running (pool bookkeeping: fair turns when studies wait for a slot). */
  runningSince = 0;

  constructor(
    readonly studyId: number,
    private readonly onGone: (engine: StudyEngine) => void = () => {},
  ) {
    const study = db().select({ policy: studies.policy }).from(studies).where(eq(studies.id, studyId)).get();
    if (!study) throw new Error(`StudyEngine: study ${studyId} not found`);
    this.policy = isPolicyName(study.policy) && study.policy !== "default" ? study.policy : DEFAULT_POLICY;
  }

  get state(): EngineLifecycle {
    return this.lifecycle;
  }

  /** True while the engine has a run going or queued (a refit or statistics). */
  get busy(): boolean {
    return this.selecting || this.selectionDirty || this.selectionTimer !== null || this.computingStats;
  }

  /** Votes the engine has not turned into a snapshot yet, as far as it knows (null before it has read them). */
  get votesBehind(): number | null {
    return this.feed && this.lastStatsVotes >= 0 ? Math.max(0, this.feed.duels.length - this.lastStatsVotes) : null;
  }

  /** When the next statistics run is due (epoch ms), if one is waiting on the throttle. */
  get nextStatsAt(): number | null {
    return this.statsTimer ? this.lastStatsAt + this.statsInterval : null;
  }

  /**
   * Reads the study from SQLite (resuming from its saved policy state when that still fits the arms
   * and votes) and starts it on the pool's threads. Called by the pool once a slot is free.
   */
  async start(pool: EngineWorkerPool): Promise<void> {
    if (this.lifecycle !== "waiting") return;
    this.lifecycle = "loading";
    const checkpoint = loadCheckpoint(this.studyId);
    const feed = new StudyHistoryFeed(this.studyId, checkpoint?.policy === this.policy ? checkpoint.armPromptIds : []);
    await feed.readAllVotes();
    if (this.lifecycle !== "loading") return;
    this.feed = feed;
    this.lastHistoryReadAt = Date.now();
    this.lastStatsVotes = latestSnapshotVotes(this.studyId);
    this.channel = pool.attach(this.studyId, {
      onMessage: (message) => this.onMessage(message),
      onCrash: (error) => {
        console.error(`engine for study ${this.studyId} lost its thread:`, error);
        void this.close();
      },
    });
    const { features, inSelection } = feed.takeInitialFeatures();
    // The latest stored reliability fit's vote model (ADR 0044, 0048); a fit stored from here on is read at the next update.
    this.voteModelChanged = false;
    this.sentVoteModel = readVoteModel(this.studyId);
    const resume = checkpoint && this.resumable(checkpoint, feed) ? checkpoint : null;
    const initialArms = resume ? resume.armPromptIds.length : features.length;
    this.channel.toSelection({
      type: "init",
      studyId: this.studyId,
      policy: this.policy,
      seed: this.studyId,
      features: features.slice(0, initialArms),
      inSelection: inSelection.slice(0, initialArms),
      voteModel: this.sentVoteModel,
      ...(resume ? { resume: { state: resume.state, history: feed.duels.slice(0, resume.voteCount) } } : {}),
    } satisfies ToWorker);
    if (initialArms < features.length)
      this.channel.toSelection({
        type: "addArms",
        studyId: this.studyId,
        features: features.slice(initialArms),
        inSelection: inSelection.slice(initialArms),
      });
    this.selectionSentCount = resume ? resume.voteCount : 0;
    this.lifecycle = "running";
    this.runningSince = Date.now();
    this.requestUpdate();
  }

  /**
   * The pairs the policy wants next (most wanted first), as prompt ids with their index, less those
   * already retired; empty until the first fit.
   */
  *openProposals(): Generator<{ index: number; pair: ProposedPair }> {
    const selection = this.selection;
    const feed = this.feed;
    if (!selection || !feed || this.lifecycle !== "running") return;
    for (let index = 0; index < selection.pairs.length; index++) {
      if (this.retiredProposals.has(index)) continue;
      const [a, b] = selection.pairs[index]!;
      yield { index, pair: { promptAId: feed.armPromptIds[a]!, promptBId: feed.armPromptIds[b]! } };
    }
  }

  /** The current selection in prompt ids (tests and diagnostics): what the engine would hand out and why. */
  selectionView() {
    const { selection, feed } = this;
    if (!selection || !feed) return null;
    const promptOf = (arm: number) => feed.armPromptIds[arm]!;
    return {
      voteCount: selection.voteCount,
      pairs: selection.pairs.map(([a, b]) => [promptOf(a), promptOf(b)] as const),
      recommendedPromptId: promptOf(selection.recommended),
      utilities: Object.fromEntries(feed.armPromptIds.map((promptId, arm) => [promptId, selection.utilities[arm]])),
      uncertainties: Object.fromEntries(feed.armPromptIds.map((promptId, arm) => [promptId, selection.uncertainties[arm]])),
    };
  }

  /** A proposal handed out (or found unusable): skipped by every later request until the next selection. */
  retireProposal(index: number): void {
    if (this.retiredProposals.has(index)) return;
    this.retiredProposals.add(index);
    this.retirementLog.push(index);
    this.consumption.add(1);
  }

  /** Where the retirement log stands now: restoreProposals(mark) undoes every retirement after it. */
  proposalMark(): number {
    return this.retirementLog.length;
  }

  /** Puts back the proposals retired since `mark` (their transaction rolled back, so they were never handed out). */
  restoreProposals(mark: number): void {
    const restored = this.retirementLog.splice(mark);
    for (const index of restored) this.retiredProposals.delete(index);
    this.consumption.add(-restored.length);
  }

  /** Votes the current selection was trained on (the engine round recorded on assignments). */
  round(): number {
    return this.selection?.voteCount ?? 0;
  }

  /** Something changed (a vote, a new prompt, a pair handed out): refit soon, never blocking the caller. */
  requestUpdate(): void {
    const feed = this.feed;
    const channel = this.channel;
    if (this.lifecycle !== "running" || !feed || !channel) return;
    // Called inside a transaction (a vote and the next assignment commit together), the engine would
    // read rows that a rollback could still take back; it looks once the transaction is over.
    if (db().$client.inTransaction) {
      queueMicrotask(() => this.requestUpdate());
      return;
    }
    // Read new votes a few at a time as they arrive, not thousands at once when a refit starts on a
    // busy study: that single read blocked the request thread for 5–14 ms (bench:server, 660 votes/s).
    if (Date.now() - this.lastHistoryReadAt >= HISTORY_READ_INTERVAL_MS) this.readHistory(feed);
    if (this.selecting) {
      this.selectionDirty = true;
      return;
    }
    const wait = this.nextSelectionAt - Date.now();
    if (this.selectionTimer || wait > 0) {
      // Duty cycle: on big pools a refit takes seconds; back-to-back refits would starve requests.
      this.selectionDirty = true;
      if (!this.selectionTimer) {
        this.selectionTimer = setTimeout(() => {
          this.selectionTimer = null;
          this.requestUpdate();
        }, wait);
        this.selectionTimer.unref();
      }
      this.topUpWhenLow(feed, channel);
      return;
    }
    this.selecting = true;
    this.selectionDirty = false;
    const newArms = feed.newArms();
    const pending = feed.pendingPairs();
    // First, on the fit the thread holds, the proposals requests will take while this refit runs (pending pairs with
    // an arm the thread does not hold yet are skipped there).
    const interimPairs = this.interimPairsNeeded();
    if (interimPairs > 0) this.sendSelect(channel, { newDuels: [], pending, minPairs: interimPairs, interim: true });
    if (newArms.features.length > 0) channel.toSelection({ type: "addArms", studyId: this.studyId, ...newArms });
    if (this.selectionChanged) {
      this.selectionChanged = false;
      const inSelection = feed.readSelection();
      if (inSelection) channel.toSelection({ type: "setInSelection", studyId: this.studyId, inSelection });
      // The recommendation may have moved without a vote: the next statistics write a snapshot that says so.
      if (feed.duels.length > 0) this.lastStatsVotes = -1;
    }
    if (this.voteModelChanged) {
      this.voteModelChanged = false;
      const voteModel = readVoteModel(this.studyId);
      if (!sameVoteModel(voteModel, this.sentVoteModel)) {
        this.sentVoteModel = voteModel;
        channel.toSelection({ type: "setVoteModel", studyId: this.studyId, voteModel });
        // The refit reads past votes anew, so the recommendation may move without a vote: snapshot it (a fit that
        // snapshot schedules reads the same votes and gives the same model, so this does not repeat).
        if (feed.duels.length > 0) this.lastStatsVotes = -1;
      }
    }
    this.readHistory(feed);
    const newDuels = feed.duels.slice(this.selectionSentCount);
    this.selectionSentCount = feed.duels.length;
    this.sendSelect(channel, { newDuels, pending, minPairs: 0, interim: false });
  }

  /**
   * Asks the selection thread for a batch: a refit on `newDuels` (none: the current fit), then servedBatchSize pairs
   * for the pending ones within the selection budget, at least `minPairs` of them. Returns the request id.
   */
  private sendSelect(
    channel: StudyChannel,
    request: Pick<Extract<ToWorker, { type: "select" }>, "newDuels" | "pending" | "minPairs" | "interim">,
  ): number {
    const requestId = ++this.requestCounter;
    channel.toSelection({
      type: "select",
      studyId: this.studyId,
      requestId,
      ...request,
      batchSize: servedBatchSize(request.pending.length),
      budgetMs: env().ENGINE_SELECTION_BUDGET_MS,
    });
    return requestId;
  }

  /**
   * How many proposals requests will take while the coming refit runs, if the open ones will not last it; 0 when they
   * will. The rate at which requests took proposals (handed out or found unusable) times the refit's expected run
   * time, the last refit's, or the first fit's when the policy is rebuilt on a new selection, with a margin of half. On 1,000 prompts at human pace with 200 annotators a refit ran 0.1–0.8 s and a first fit 1.8–2.9 s,
   * and every request meanwhile fell back to a random pair once the batch ran out (bench:server, docs/decisions/0049).
   */
  private interimPairsNeeded(): number {
    if (!this.selection || this.lastRefitMs === 0) return 0;
    const expectedMs = this.selectionChanged ? Math.max(this.firstFitMs, this.lastRefitMs) : this.lastRefitMs;
    const needed = Math.ceil(1.5 * this.consumption.perSecond() * (expectedMs / 1000));
    return this.openProposalCount() < needed ? needed : 0;
  }

  private openProposalCount(): number {
    return this.selection ? this.selection.pairs.length - this.retiredProposals.size : 0;
  }

  /**
   * While a refit waits out its back-off, requests may hand out the proposals faster than refits replace them; at
   * human pace with 200 annotators 7–20 % of the pairs were then random (bench:server). When half of the current
   * proposals are gone, the selection thread proposes a fresh batch on the current fit with the pairs handed out
   * since as pending: a select without new votes, so it does not refit (ServedEngine.refit) and costs only the
   * selection budget, and it leaves the refit's own schedule alone. It is what an update between two votes has
   * always done (the same propose, the same random stream), only sooner (docs/decisions/0049).
   */
  private topUpWhenLow(feed: StudyHistoryFeed, channel: StudyChannel) {
    const selection = this.selection;
    // Nothing handed out since the last batch (so at most one top-up per request), or prompts left selection and
    // only the refit may propose again.
    if (!selection || this.retirementLog.length === 0 || this.selectionChanged || Date.now() < this.nextTopUpAt) return;
    if (this.openProposalCount() > selection.pairs.length / 2) return;
    this.selecting = true;
    this.topUpRequestId = this.sendSelect(channel, { newDuels: [], pending: feed.pendingPairs(), minPairs: 0, interim: false });
  }

  /**
   * Prompts left or rejoined selection (disabled, enabled, retired, restored), committed: the next update reads the
   * flags again and the policy continues on the new sub-pool, without a restart (docs/decisions/0023). The current
   * proposals are dropped at once, so none naming a prompt out of selection is handed out meanwhile.
   */
  selectionChangedInStudy(): void {
    this.selectionChanged = true;
    if (this.selection) this.retiredProposals = new Set(this.selection.pairs.keys());
    this.retirementLog = [];
    this.requestUpdate();
  }

  /**
   * A reliability fit of the study was stored (committed): the next update hands its vote model to the selection
   * thread, which reads every vote, past ones too, at its annotator's scale and with the side term from its next refit
   * (docs/decisions/0044, 0048).
   */
  reliabilityFitStored(): void {
    this.voteModelChanged = true;
    this.requestUpdate();
  }

  /** Resolves when the proposed pairs reflect every vote so far (no refit running or queued), or the engine stopped. */
  whenIdle(): Promise<void> {
    const idle = this.lifecycle === "running" && !this.selecting && !this.selectionDirty && !this.selectionTimer;
    if (idle || this.lifecycle === "stopped") return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when the latest snapshot covers every vote the selection has seen (skips the throttle). */
  async whenStatsCurrent(): Promise<void> {
    await this.whenIdle();
    if (this.lifecycle !== "running" || !this.selection || this.lastStatsVotes === this.selection.voteCount) return;
    const done = new Promise<void>((resolve) => this.statsWaiters.push(resolve));
    this.requestStats({ now: true });
    await done;
  }

  /**
   * Stops the engine for good, first bringing its snapshot up to date and saving its policy's state,
   * so a later start resumes exactly here and the dashboard needs no running engine meanwhile.
   */
  async stop(): Promise<void> {
    if (this.lifecycle === "running") await this.whenStatsCurrent();
    if (this.lifecycle === "stopped" || this.lifecycle === "stopping") return;
    const { channel, feed } = this;
    this.lifecycle = "stopping";
    this.clearTimers();
    const saved = channel ? await channel.release() : null;
    if (saved && feed) {
      saveCheckpoint(this.studyId, {
        policy: this.policy,
        featureSource: featureSourceKey(feed.featureSource),
        armPromptIds: feed.armPromptIds.slice(0, saved.armCount),
        voteCount: saved.voteCount,
        state: saved.state,
      });
    }
    this.finish();
  }

  /** Stops at once, saving nothing (shutdown, tests, a lost thread): the next start learns from SQLite. */
  async close(): Promise<void> {
    if (this.lifecycle === "stopped") return;
    const { channel } = this;
    this.lifecycle = "stopping";
    this.clearTimers();
    if (channel) await channel.release();
    this.finish();
  }

  private finish() {
    this.lifecycle = "stopped";
    this.channel = null;
    this.feed = null;
    this.selection = null;
    this.statsSelection = null;
    this.selecting = false;
    this.computingStats = false;
    this.releaseWaiters();
    for (const resolve of this.statsWaiters.splice(0)) resolve();
    this.onGone(this);
  }

  private clearTimers() {
    if (this.statsTimer) clearTimeout(this.statsTimer);
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    this.statsTimer = null;
    this.selectionTimer = null;
    this.selectionDirty = false;
  }

  /** A saved state fits when it was learned by this policy on the same features, for arms the study still has in that order, on votes it still has. */
  private resumable(checkpoint: EngineCheckpoint, feed: StudyHistoryFeed): boolean {
    return (
      checkpoint.policy === this.policy &&
      checkpoint.featureSource === featureSourceKey(feed.featureSource) &&
      checkpoint.voteCount <= feed.duels.length &&
      checkpoint.armPromptIds.length <= feed.armPromptIds.length &&
      checkpoint.armPromptIds.every((promptId, arm) => feed.armPromptIds[arm] === promptId)
    );
  }

  private readHistory(feed: StudyHistoryFeed) {
    this.lastHistoryReadAt = Date.now();
    feed.readVotes();
  }

  private onMessage(message: FromWorker) {
    if (this.lifecycle !== "running") return;
    if (message.type === "error") {
      console.error(`engine for study ${this.studyId}: ${message.message}`);
      this.selecting = false;
      this.computingStats = false;
      this.releaseWaiters();
      for (const resolve of this.statsWaiters.splice(0)) resolve();
      return;
    }
    if (message.type === "selection" && message.interim) {
      // Proposals on the previous fit while the refit runs: requests take from these until its own selection arrives.
      this.interimSelectMs = message.selectMs;
      this.selection = message;
      this.retirementLog = [];
      // Proposed before the selection the refit follows was read: none naming a prompt out of selection now.
      const feed = this.feed;
      this.retiredProposals = new Set();
      message.pairs.forEach(([a, b], index) => {
        if (!feed || !feed.inSelection(a) || !feed.inSelection(b)) this.retiredProposals.add(index);
      });
      return;
    }
    if (message.type === "selection") {
      this.selection = message;
      this.retiredProposals = new Set();
      this.retirementLog = [];
      this.selecting = false;
      if (message.requestId === this.topUpRequestId) {
        // A top-up leaves the refit's schedule as it was, and backs off like a run of its own.
        this.nextTopUpAt = Date.now() + message.selectMs * (this.backoff(message.selectMs) - 1);
      } else {
        const runMs = message.fitMs + message.selectMs;
        this.lastRefitMs = runMs;
        if (this.firstFitMs === 0) this.firstFitMs = runMs;
        // The interim batch before it counts as part of the run.
        const withInterimMs = runMs + this.interimSelectMs;
        this.interimSelectMs = 0;
        this.nextSelectionAt = Date.now() + withInterimMs * this.backoff(withInterimMs);
      }
      if (this.selectionDirty) this.requestUpdate();
      else this.releaseWaiters();
      this.requestStats();
      return;
    }
    if (message.type !== "statistics") return;
    this.computingStats = false;
    this.lastStatsAt = Date.now();
    this.statsInterval = Math.max(STATS_INTERVAL_MS, 2 * message.statsMs) * this.backoff(message.statsMs);
    this.recordSnapshot(message);
    if (this.selection && this.selection.voteCount !== this.lastStatsVotes) this.requestStats();
    else for (const resolve of this.statsWaiters.splice(0)) resolve();
  }

  /**
   * Statistics for the current selection, at most every STATS_INTERVAL_MS while votes stream in
   * (the trailing run after the last vote always happens); `now` skips the wait.
   */
  private requestStats(options: { now?: boolean } = {}) {
    const { feed, channel, selection } = this;
    if (this.lifecycle !== "running" || this.computingStats || !selection || !feed || !channel) return;
    if (selection.voteCount === this.lastStatsVotes) return;
    const wait = options.now ? 0 : Math.max(0, this.statsInterval - (Date.now() - this.lastStatsAt));
    if (wait > 0) {
      this.statsTimer ??= setTimeout(() => {
        this.statsTimer = null;
        this.requestStats();
      }, wait);
      this.statsTimer.unref();
      return;
    }
    if (this.statsTimer) {
      clearTimeout(this.statsTimer);
      this.statsTimer = null;
    }
    this.computingStats = true;
    this.statsSelection = selection;
    const newDuels = feed.duels.slice(this.statsSentCount, selection.voteCount);
    this.statsSentCount = selection.voteCount;
    channel.toStats({
      type: "stats",
      studyId: this.studyId,
      requestId: selection.requestId,
      armCount: feed.armPromptIds.length,
      newDuels,
      recommended: selection.recommended,
      seed: this.studyId,
    });
  }

  private recordSnapshot(stats: StatisticsState) {
    const selection = this.statsSelection;
    if (!selection || !this.feed || stats.voteCount === this.lastStatsVotes) return;
    try {
      writeSnapshot(this.studyId, this.policy, this.feed.armPromptIds, selection, stats);
    } catch (error) {
      // SQLITE_BUSY past busy_timeout while a long job commit holds the write lock, say. This runs
      // on a worker's message, where an exception would end the server: the snapshot is left out
      // and, as lastStatsVotes did not move, the next statistics run (requested by the caller) writes it.
      // A lock held by a job's chunk is expected and recovered from (a warning); anything else is an error.
      const busy = (error as { code?: unknown } | null)?.code === "SQLITE_BUSY";
      (busy ? console.warn : console.error)(`study ${this.studyId}: the engine snapshot was not written:`, error);
      return;
    }
    this.lastStatsVotes = stats.voteCount;
    // After the snapshot's commit, the annotators' reliabilities on their own thread (ADR 0041): the quality page, the
    // leaderboard's crowd scores and exports read the cached fit.
    scheduleReliabilityFit(this.studyId);
    // After the snapshot's commit: the retirement rule on the same figures, then pair selection and the policy follow.
    const retired = applyRetirementRule(this.studyId, this.feed.armPromptIds, stats.arms, stats.voteCount);
    if (retired.length > 0) {
      forgetUsableItems(this.studyId);
      this.selectionChangedInStudy();
    }
    // Then automatic rounds (ADR 0033), after the same commit and never inside a vote's transaction: at most a few
    // reads and one short write; the round itself runs on the generation worker. While the loop is active it holds
    // the stopping rule's closing of the study until it stops.
    let holdsClosure = false;
    try {
      const recommended = stats.voteCount > 0 ? selection.recommended : -1;
      holdsClosure = considerAutomaticRound(this.studyId, {
        voteCount: stats.voteCount,
        decisiveVotes: this.decisiveVotesUpTo(stats.voteCount),
        converged: stats.converged,
        recommendedPromptId: this.feed.armPromptIds[recommended] ?? null,
        recommendedComparisons: stats.arms.find((arm) => arm.arm === recommended)?.comparisons ?? null,
      }).holdsClosure;
    } catch (error) {
      // As for the snapshot: on a worker's message an exception would end the server; the next snapshot checks again.
      console.error(`study ${this.studyId}: the automatic-round check failed:`, error);
    }
    if (stats.converged && !holdsClosure) closeStudyOnConvergence(this.studyId);
  }

  /** Decisive votes (left or right) among the first `voteCount` duels of the history, counting each duel once. */
  private decisiveVotesUpTo(voteCount: number): number {
    const duels = this.feed?.duels ?? [];
    const upTo = Math.min(voteCount, duels.length);
    for (; this.decisiveCountedUpTo < upTo; this.decisiveCountedUpTo++) if (duels[this.decisiveCountedUpTo]!.outcome !== 0.5) this.decisiveCounted++;
    return this.decisiveCounted;
  }

  /**
   * backoffFactor of the request thread's event-loop utilisation since the previous call, for runs
   * of at least LIGHT_RUN_MS: a small study's engine (runs of milliseconds) never gets in the way.
   */
  private backoff(runMs: number): number {
    const { utilization } = performance.eventLoopUtilization(this.utilisationMark);
    this.utilisationMark = performance.eventLoopUtilization();
    return runMs < LIGHT_RUN_MS ? 1 : backoffFactor(utilization);
  }

  private releaseWaiters() {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
