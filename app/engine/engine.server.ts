import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { embedText } from "../../bandit/lexical-embedding";
import { DEFAULT_POLICY, isPolicyName, type Duel, type PolicyName } from "../../bandit/policy";
import { assignmentIsOpen, assignments, engineSnapshots, prompts, studies, votes, type PromptStat } from "../../db/schema";
import { db, prepared } from "~/db.server";
import { decodeEmbedding } from "~/llm/embeddings.server";
import { voteDuel } from "~/models/vote-duel";
import type { FromWorker, SelectionState, StatisticsState, ToWorker } from "./protocol";

// Statistics (bootstrap Bradley–Terry) are recomputed at most this often while votes stream in, and
// never more than a third of the time (interval >= 2x their duration). Refits likewise wait as long
// as the previous refit took: the engine uses at most half a core, the rest serves requests. Both
// waits stretch further while requests keep the request thread busy (backoffFactor).
const STATS_INTERVAL_MS = 2_000;
// Time the selection worker may spend proposing pairs after a refit: a few ms per pair at 1,000
// prompts once duet keeps the pending pairs' information between the picks of a batch (it was
// 10–40 ms with 200 open assignments); at human pace the engine then chooses ~80% of the pairs.
const SELECTION_BUDGET_MS = 150;
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

function repoRoot(): string {
  // Works from app/engine/*.ts (tests, tsx) and from the bundled build/index.js alike.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("engine: cannot find the project root (package.json)");
    dir = parent;
  }
  return dir;
}

interface PromptRow {
  id: number;
  text: string;
  embedding: Buffer | null;
  embeddingModel: string | null;
}

/** Which features a study's engine uses: the stored embeddings of one model, or the offline lexical embedder. */
type FeatureSource = { kind: "stored"; model: string } | { kind: "lexical" };

function chooseFeatureSource(rows: PromptRow[]): FeatureSource {
  const model = rows[0]?.embeddingModel;
  if (model && rows.every((row) => row.embedding && row.embeddingModel === model)) return { kind: "stored", model };
  return { kind: "lexical" };
}

function featuresOf(row: PromptRow, source: FeatureSource): Float64Array | null {
  if (source.kind === "lexical") return embedText(row.text);
  return row.embedding && row.embeddingModel === source.model ? Float64Array.from(decodeEmbedding(row.embedding)) : null;
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

/**
 * One study's engine: two worker threads, fed from SQLite (votes + prompt embeddings are the only
 * truth, so a restart rebuilds it exactly). The selection worker refits the policy and proposes the
 * next pairs; the statistics worker computes the leaderboard and the stopping rule for snapshots.
 * Both are coalesced: while one works, further votes only mark it dirty, and one more run follows.
 */
export class StudyEngine {
  readonly policy: PolicyName;
  private readonly selectionWorker: Worker;
  private readonly statsWorker: Worker;
  private readonly armPromptIds: number[] = [];
  private readonly armOfPrompt = new Map<number, number>();
  private readonly featureSource: FeatureSource;
  private readonly duels: Duel[] = [];
  private lastVoteId = 0;
  private lastHistoryReadAt = 0;
  // How many duels each worker already holds (they keep the history; we send only what is new).
  private selectionSentCount = 0;
  private statsSentCount = 0;
  private lastPromptId = 0;
  private readonly waitingForEmbedding = new Set<number>();
  private selection: SelectionState | null = null;
  private retiredProposals = new Set<number>();
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
  private idleWaiters: (() => void)[] = [];
  private statsWaiters: (() => void)[] = [];
  private closed = false;

  constructor(readonly studyId: number) {
    const study = db().select().from(studies).where(eq(studies.id, studyId)).get();
    if (!study) throw new Error(`StudyEngine: study ${studyId} not found`);
    const configured = study.policy;
    this.policy = isPolicyName(configured) && configured !== "default" ? configured : DEFAULT_POLICY;
    const rows = this.promptRows();
    this.featureSource = chooseFeatureSource(rows);
    const features = this.claimArms(rows);
    this.selectionWorker = this.startWorker();
    this.statsWorker = this.startWorker();
    this.selectionWorker.postMessage({ type: "init", policy: this.policy, seed: studyId, features } satisfies ToWorker);
    this.requestUpdate();
  }

  /**
   * The pairs the policy wants next (most wanted first), as prompt ids with their index, less those
   * already retired; empty until the first fit.
   */
  *openProposals(): Generator<{ index: number; pair: ProposedPair }> {
    const selection = this.selection;
    if (!selection) return;
    for (let index = 0; index < selection.pairs.length; index++) {
      if (this.retiredProposals.has(index)) continue;
      const [a, b] = selection.pairs[index]!;
      yield { index, pair: { promptAId: this.armPromptIds[a]!, promptBId: this.armPromptIds[b]! } };
    }
  }

  /** A proposal handed out (or found unusable): skipped by every later request until the next selection. */
  retireProposal(index: number): void {
    this.retiredProposals.add(index);
  }

  /** Votes the current selection was trained on (the engine round recorded on assignments). */
  round(): number {
    return this.selection?.voteCount ?? 0;
  }

  /** Something changed (a vote, a new prompt, a pair handed out): refit soon, never blocking the caller. */
  requestUpdate(): void {
    if (this.closed) return;
    // Called inside a transaction (a vote and the next assignment commit together), the engine would
    // read rows that a rollback could still take back; it looks once the transaction is over.
    if (db().$client.inTransaction) {
      queueMicrotask(() => this.requestUpdate());
      return;
    }
    // Read new votes a few at a time as they arrive, not thousands at once when a refit starts on a
    // busy study: that single read blocked the request thread for 5–14 ms (bench:server, 660 votes/s).
    if (Date.now() - this.lastHistoryReadAt >= HISTORY_READ_INTERVAL_MS) this.history();
    if (this.selecting || this.selectionTimer) {
      this.selectionDirty = true;
      return;
    }
    const wait = this.nextSelectionAt - Date.now();
    if (wait > 0) {
      // Duty cycle: on big pools a refit takes seconds; back-to-back refits would starve requests.
      this.selectionDirty = true;
      this.selectionTimer = setTimeout(() => {
        this.selectionTimer = null;
        this.requestUpdate();
      }, wait);
      this.selectionTimer.unref();
      return;
    }
    this.selecting = true;
    this.selectionDirty = false;
    const newArms = this.claimArms(this.promptRows());
    if (newArms.length > 0) this.selectionWorker.postMessage({ type: "addArms", features: newArms } satisfies ToWorker);
    const pending = this.pendingPairs();
    const history = this.history();
    const newDuels = history.slice(this.selectionSentCount);
    this.selectionSentCount = history.length;
    this.selectionWorker.postMessage({
      type: "select",
      requestId: ++this.requestCounter,
      newDuels,
      pending,
      batchSize: Math.max(8, 2 * pending.length + 4),
      budgetMs: SELECTION_BUDGET_MS,
    } satisfies ToWorker);
  }

  /** Resolves when the proposed pairs reflect every vote so far (no refit running or queued). */
  whenIdle(): Promise<void> {
    if (!this.selecting && !this.selectionDirty && !this.selectionTimer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when the latest snapshot covers every vote the selection has seen (skips the throttle). */
  async whenStatsCurrent(): Promise<void> {
    await this.whenIdle();
    if (this.closed || !this.selection || this.lastStatsVotes === this.selection.voteCount) return;
    const done = new Promise<void>((resolve) => this.statsWaiters.push(resolve));
    this.requestStats({ now: true });
    await done;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.statsTimer) clearTimeout(this.statsTimer);
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    this.releaseWaiters();
    for (const resolve of this.statsWaiters.splice(0)) resolve();
    await Promise.all([this.selectionWorker.terminate(), this.statsWorker.terminate()]);
  }

  private startWorker(): Worker {
    const root = repoRoot();
    const worker = new Worker(path.join(root, "app/engine/worker-bootstrap.mjs"), {
      workerData: { entry: pathToFileURL(path.join(root, "app/engine/engine.worker.ts")).href },
    });
    worker.unref();
    worker.on("message", (message: FromWorker) => this.onMessage(message));
    worker.on("error", (error) => {
      console.error(`engine for study ${this.studyId} crashed:`, error);
      this.closed = true;
      this.selecting = false;
      this.computingStats = false;
      this.releaseWaiters();
    });
    return worker;
  }

  private onMessage(message: FromWorker) {
    if (message.type === "error") {
      console.error(`engine for study ${this.studyId}: ${message.message}`);
      this.selecting = false;
      this.computingStats = false;
      this.releaseWaiters();
      return;
    }
    if (message.type === "selection") {
      this.selection = message;
      this.retiredProposals = new Set();
      this.selecting = false;
      const runMs = message.fitMs + message.selectMs;
      this.nextSelectionAt = Date.now() + runMs * this.backoff(runMs);
      if (this.selectionDirty) this.requestUpdate();
      else this.releaseWaiters();
      this.requestStats();
      return;
    }
    this.computingStats = false;
    this.lastStatsAt = Date.now();
    this.statsInterval = Math.max(STATS_INTERVAL_MS, 2 * message.statsMs) * this.backoff(message.statsMs);
    this.writeSnapshot(message);
    if (this.selection && this.selection.voteCount !== this.lastStatsVotes) this.requestStats();
    else for (const resolve of this.statsWaiters.splice(0)) resolve();
  }

  /**
   * Statistics for the current selection, at most every STATS_INTERVAL_MS while votes stream in
   * (the trailing run after the last vote always happens); `now` skips the wait.
   */
  private requestStats(options: { now?: boolean } = {}) {
    if (this.closed || this.computingStats || !this.selection) return;
    if (this.selection.voteCount === this.lastStatsVotes && this.lastStatsVotes >= 0) return;
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
    this.statsSelection = this.selection;
    const newDuels = this.duels.slice(this.statsSentCount, this.selection.voteCount);
    this.statsSentCount = this.selection.voteCount;
    this.statsWorker.postMessage({
      type: "stats",
      requestId: this.selection.requestId,
      armCount: this.armPromptIds.length,
      newDuels,
      recommended: this.selection.recommended,
      seed: this.studyId,
    } satisfies ToWorker);
  }

  // The selection the running statistics were computed for: a snapshot pairs both consistently.
  private statsSelection: SelectionState | null = null;

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

  /**
   * Prompts the engine may not have as arms yet: every prompt on the first call, afterwards only
   * newer ones and those still waiting for an embedding (so a refit does not re-read the pool).
   */
  private promptRows(): PromptRow[] {
    const columns = { id: prompts.id, text: prompts.text, embedding: prompts.embedding, embeddingModel: prompts.embeddingModel };
    const newer = db()
      .select(columns)
      .from(prompts)
      .where(and(eq(prompts.studyId, this.studyId), gt(prompts.id, this.lastPromptId)))
      .orderBy(asc(prompts.id))
      .all();
    const waiting =
      this.waitingForEmbedding.size > 0
        ? db()
            .select(columns)
            .from(prompts)
            .where(inArray(prompts.id, [...this.waitingForEmbedding]))
            .orderBy(asc(prompts.id))
            .all()
        : [];
    for (const row of newer) this.lastPromptId = Math.max(this.lastPromptId, row.id);
    return [...waiting, ...newer];
  }

  /** Registers prompts the engine has not seen yet as new arms (growing pool) and returns their features. */
  private claimArms(rows: PromptRow[]): Float64Array[] {
    const features: Float64Array[] = [];
    for (const row of rows) {
      if (this.armOfPrompt.has(row.id)) continue;
      const vector = featuresOf(row, this.featureSource);
      // A prompt whose embedding is not computed yet joins on a later update.
      if (!vector) {
        this.waitingForEmbedding.add(row.id);
        continue;
      }
      this.waitingForEmbedding.delete(row.id);
      this.armOfPrompt.set(row.id, this.armPromptIds.length);
      this.armPromptIds.push(row.id);
      features.push(vector);
    }
    return features;
  }

  /**
   * The vote history as duels, read incrementally: only votes newer than the last one consumed.
   * Consumption stops at a vote naming a prompt that is not an arm yet (its embedding is still being
   * computed), so that vote is read again on a later update instead of being lost.
   */
  private history(): Duel[] {
    this.lastHistoryReadAt = Date.now();
    const rows = prepared("engine.newVotes", (database) =>
      database
        .select({
          id: votes.id,
          promptAId: assignments.promptAId,
          promptBId: assignments.promptBId,
          leftIsA: assignments.leftIsA,
          choice: votes.choice,
        })
        .from(votes)
        .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
        .where(and(eq(votes.studyId, sql.placeholder("studyId")), gt(votes.id, sql.placeholder("afterId"))))
        .orderBy(asc(votes.id))
        .prepare(),
    ).all({ studyId: this.studyId, afterId: this.lastVoteId });
    for (const row of rows) {
      const duel = voteDuel(row);
      if (duel) {
        const left = this.armOfPrompt.get(duel.left);
        const right = this.armOfPrompt.get(duel.right);
        if (left === undefined || right === undefined) break;
        this.duels.push({ a: left, b: right, outcome: duel.outcome });
      }
      this.lastVoteId = row.id;
    }
    return this.duels;
  }

  private pendingPairs(): [number, number][] {
    const open = db()
      .select({ promptAId: assignments.promptAId, promptBId: assignments.promptBId })
      .from(assignments)
      .where(and(eq(assignments.studyId, this.studyId), assignmentIsOpen, gt(assignments.expiresAt, new Date())))
      .all();
    const pairs: [number, number][] = [];
    for (const { promptAId, promptBId } of open) {
      const a = this.armOfPrompt.get(promptAId);
      const b = this.armOfPrompt.get(promptBId);
      if (a !== undefined && b !== undefined) pairs.push([a, b]);
    }
    return pairs;
  }

  private writeSnapshot(stats: StatisticsState) {
    const selection = this.statsSelection;
    if (!selection || stats.voteCount === this.lastStatsVotes) return;
    this.lastStatsVotes = stats.voteCount;
    const { utilities, uncertainties, recommendationScores, recommended } = selection;
    const statsByArm = new Map(stats.arms.map((row) => [row.arm, row]));
    const promptStats: PromptStat[] = this.armPromptIds.map((promptId, arm) => {
      const row = statsByArm.get(arm);
      return {
        promptId,
        utility: utilities[arm] ?? 0,
        uncertainty: uncertainties[arm] ?? 0,
        // What the recommendation ranks by; null for a prompt that cannot be recommended yet (JSON has no -Infinity).
        engineScore: Number.isFinite(recommendationScores[arm]) ? recommendationScores[arm]! : null,
        pBest: row?.probabilityBest ?? 0,
        score: row?.score ?? 0,
        lower: row?.lower ?? 0,
        upper: row?.upper ?? 0,
      };
    });
    const recommendedPromptId = stats.voteCount > 0 ? (this.armPromptIds[recommended] ?? null) : null;
    db()
      .insert(engineSnapshots)
      .values({
        studyId: this.studyId,
        voteCount: stats.voteCount,
        policy: this.policy,
        recommendedPromptId,
        pBest: statsByArm.get(recommended)?.probabilityBest ?? null,
        converged: stats.converged,
        votesStillNeeded: stats.votesStillNeeded,
        leftWinRate: stats.leftWinRate,
        promptStats,
      })
      .run();
  }
}

declare global {
  var __promptduelEngines: Map<number, StudyEngine> | undefined;
}

function engines(): Map<number, StudyEngine> {
  globalThis.__promptduelEngines ??= new Map();
  return globalThis.__promptduelEngines;
}

/** The study's engine, started (and rebuilt from SQLite) on first use. */
export function getStudyEngine(studyId: number): StudyEngine {
  let engine = engines().get(studyId);
  if (!engine) {
    engine = new StudyEngine(studyId);
    engines().set(studyId, engine);
  }
  return engine;
}

/** Stops every engine worker (tests; graceful shutdown). */
export async function closeAllEngines(): Promise<void> {
  const all = [...engines().values()];
  engines().clear();
  await Promise.all(all.map((engine) => engine.close()));
}
