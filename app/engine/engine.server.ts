import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { and, asc, eq, gt, ne } from "drizzle-orm";
import { embedText } from "../../bandit/lexical-embedding";
import { DEFAULT_POLICY, isPolicyName, type Duel, type PolicyName } from "../../bandit/policy";
import { assignments, engineSnapshots, prompts, studies, votes, type PromptStat } from "../../db/schema";
import { db } from "~/db.server";
import type { FromWorker, LeaderboardState, SelectionState, ToWorker } from "./protocol";

// Leaderboard statistics (bootstrap Bradley–Terry) cost far more than a warm-started refit on big
// studies; they are recomputed at most this often while votes stream in (always on quiet studies).
const LEADERBOARD_INTERVAL_MS = 2_000;

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

/** Float32 little-endian blob (prompts.embedding) → Float64Array. */
export function decodeEmbedding(blob: Buffer): Float64Array {
  const floats = new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));
  return Float64Array.from(floats);
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
  return row.embedding && row.embeddingModel === source.model ? decodeEmbedding(row.embedding) : null;
}

/** A vote's duel in engine terms: `a` is the prompt shown on the left; skips carry no preference. */
function toOutcome(choice: string): Duel["outcome"] | null {
  if (choice === "left") return 1;
  if (choice === "right") return 0;
  if (choice === "tie" || choice === "both_bad") return 0.5;
  return null;
}

export interface ProposedPair {
  promptAId: number;
  promptBId: number;
}

/**
 * One study's engine: a worker thread holding the policy, fed from SQLite (votes + prompt
 * embeddings are the only truth, so a restart rebuilds it exactly). Updates are coalesced: while
 * the worker trains, further votes only mark the state dirty, and one more update follows.
 */
export class StudyEngine {
  readonly policy: PolicyName;
  private readonly worker: Worker;
  private readonly armPromptIds: number[] = [];
  private readonly armOfPrompt = new Map<number, number>();
  private readonly featureSource: FeatureSource;
  private selection: SelectionState | null = null;
  private inFlight = false;
  private dirty = false;
  private awaitingLeaderboard = false;
  private lastLeaderboardAt = 0;
  private lastSnapshotVotes = -1;
  private trailingStatsTimer: NodeJS.Timeout | null = null;
  private requestCounter = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(readonly studyId: number) {
    const study = db().select().from(studies).where(eq(studies.id, studyId)).get();
    if (!study) throw new Error(`StudyEngine: study ${studyId} not found`);
    const configured = study.policy;
    this.policy = isPolicyName(configured) && configured !== "default" ? configured : DEFAULT_POLICY;
    const rows = this.promptRows();
    this.featureSource = chooseFeatureSource(rows);
    const features = this.claimArms(rows);
    const root = repoRoot();
    this.worker = new Worker(path.join(root, "app/engine/worker-bootstrap.mjs"), {
      workerData: { entry: pathToFileURL(path.join(root, "app/engine/engine.worker.ts")).href },
    });
    this.worker.unref();
    this.worker.on("message", (message: FromWorker) => this.onMessage(message));
    this.worker.on("error", (error) => {
      console.error(`engine for study ${studyId} crashed:`, error);
      this.inFlight = false;
      this.closed = true;
      this.releaseWaiters();
    });
    this.post({ type: "init", policy: this.policy, seed: studyId, features });
    this.requestUpdate();
  }

  /** Next pairs the policy wants (most wanted first), as prompt ids; empty until the first fit. */
  proposedPairs(): ProposedPair[] {
    if (!this.selection) return [];
    return this.selection.pairs.map(([a, b]) => ({ promptAId: this.armPromptIds[a]!, promptBId: this.armPromptIds[b]! }));
  }

  /** Votes the current selection was trained on (the engine round recorded on assignments). */
  round(): number {
    return this.selection?.voteCount ?? 0;
  }

  /** Something changed (a vote, a new prompt, a pair handed out): retrain soon, never blocking the caller. */
  requestUpdate(options: { forceLeaderboard?: boolean } = {}): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    this.inFlight = true;
    this.dirty = false;
    const newArms = this.claimArms(this.promptRows());
    if (newArms.length > 0) this.post({ type: "addArms", features: newArms });
    const history = this.history();
    const pending = this.pendingPairs();
    const withLeaderboard = options.forceLeaderboard === true || Date.now() - this.lastLeaderboardAt >= LEADERBOARD_INTERVAL_MS;
    this.awaitingLeaderboard = withLeaderboard;
    this.post({
      type: "update",
      requestId: ++this.requestCounter,
      history,
      pending,
      batchSize: Math.max(8, 2 * pending.length + 4),
      withLeaderboard,
    });
  }

  /** Resolves when the proposed pairs reflect every vote so far (no update running or queued). */
  whenIdle(): Promise<void> {
    if (!this.inFlight && !this.dirty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves when the latest snapshot (leaderboard statistics) covers every vote so far. */
  async whenStatsCurrent(): Promise<void> {
    await this.whenIdle();
    if (!this.trailingStatsTimer || this.closed) return;
    clearTimeout(this.trailingStatsTimer);
    this.trailingStatsTimer = null;
    this.requestUpdate({ forceLeaderboard: true });
    await this.whenIdle();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.trailingStatsTimer) clearTimeout(this.trailingStatsTimer);
    this.releaseWaiters();
    await this.worker.terminate();
  }

  private post(message: ToWorker) {
    this.worker.postMessage(message);
  }

  private onMessage(message: FromWorker) {
    if (message.type === "error") {
      console.error(`engine for study ${this.studyId}: ${message.message}`);
      this.finishUpdate();
      return;
    }
    if (message.type === "selection") {
      this.selection = message;
      if (!this.awaitingLeaderboard) this.finishUpdate();
      return;
    }
    this.lastLeaderboardAt = Date.now();
    this.writeSnapshot(message);
    this.finishUpdate();
  }

  private finishUpdate() {
    this.inFlight = false;
    this.awaitingLeaderboard = false;
    if (this.dirty) return this.requestUpdate();
    if (this.selection && this.selection.voteCount !== this.lastSnapshotVotes) this.scheduleTrailingStats();
    this.releaseWaiters();
  }

  /** Votes stopped arriving while statistics were throttled: compute them once the interval has passed. */
  private scheduleTrailingStats() {
    if (this.trailingStatsTimer) return;
    const wait = Math.max(0, LEADERBOARD_INTERVAL_MS - (Date.now() - this.lastLeaderboardAt));
    this.trailingStatsTimer = setTimeout(() => {
      this.trailingStatsTimer = null;
      this.requestUpdate({ forceLeaderboard: true });
    }, wait);
    this.trailingStatsTimer.unref();
  }

  private releaseWaiters() {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private promptRows(): PromptRow[] {
    return db()
      .select({ id: prompts.id, text: prompts.text, embedding: prompts.embedding, embeddingModel: prompts.embeddingModel })
      .from(prompts)
      .where(eq(prompts.studyId, this.studyId))
      .orderBy(asc(prompts.id))
      .all();
  }

  /** Registers prompts the engine has not seen yet as new arms (growing pool) and returns their features. */
  private claimArms(rows: PromptRow[]): Float64Array[] {
    const features: Float64Array[] = [];
    for (const row of rows) {
      if (this.armOfPrompt.has(row.id)) continue;
      const vector = featuresOf(row, this.featureSource);
      // A prompt whose embedding is not computed yet joins on a later update.
      if (!vector) continue;
      this.armOfPrompt.set(row.id, this.armPromptIds.length);
      this.armPromptIds.push(row.id);
      features.push(vector);
    }
    return features;
  }

  private history(): Duel[] {
    const rows = db()
      .select({ promptAId: assignments.promptAId, promptBId: assignments.promptBId, leftIsA: assignments.leftIsA, choice: votes.choice })
      .from(votes)
      .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
      .where(and(eq(votes.studyId, this.studyId), ne(votes.choice, "skip")))
      .orderBy(asc(votes.id))
      .all();
    const duels: Duel[] = [];
    for (const row of rows) {
      const left = this.armOfPrompt.get(row.leftIsA ? row.promptAId : row.promptBId);
      const right = this.armOfPrompt.get(row.leftIsA ? row.promptBId : row.promptAId);
      const outcome = toOutcome(row.choice);
      if (left === undefined || right === undefined || outcome === null) continue;
      duels.push({ a: left, b: right, outcome });
    }
    return duels;
  }

  private pendingPairs(): [number, number][] {
    const open = db()
      .select({ promptAId: assignments.promptAId, promptBId: assignments.promptBId })
      .from(assignments)
      .where(and(eq(assignments.studyId, this.studyId), eq(assignments.status, "open"), gt(assignments.expiresAt, new Date())))
      .all();
    const pairs: [number, number][] = [];
    for (const { promptAId, promptBId } of open) {
      const a = this.armOfPrompt.get(promptAId);
      const b = this.armOfPrompt.get(promptBId);
      if (a !== undefined && b !== undefined) pairs.push([a, b]);
    }
    return pairs;
  }

  private writeSnapshot(stats: LeaderboardState) {
    if (stats.voteCount === this.lastSnapshotVotes || !this.selection) return;
    this.lastSnapshotVotes = stats.voteCount;
    const { utilities, uncertainties, recommended } = this.selection;
    const statsByArm = new Map(stats.arms.map((row) => [row.arm, row]));
    const promptStats: PromptStat[] = this.armPromptIds.map((promptId, arm) => {
      const row = statsByArm.get(arm);
      return {
        promptId,
        utility: utilities[arm] ?? 0,
        uncertainty: uncertainties[arm] ?? 0,
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
  // eslint-disable-next-line no-var
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
