import { env } from "~/env.server";
import { onReliabilityFitStored, scheduleReliabilityFit } from "~/models/reliability-thread.server";
import { existingSingleton, releaseSingleton, singleton } from "~/utils/singleton.server";
import { forgetUsableItems } from "./assign.server";
import { deleteCheckpoint } from "./checkpoints.server";
import { StudyEngine } from "./study-engine.server";
import { EngineWorkerPool } from "./worker-pool.server";

// The pool of study engines (issue 14; ADR 0008): the one place that decides which studies have an
// engine running. At most ENGINE_MAX_LOADED engines run at once, on at most ENGINE_THREADS shared
// threads (worker-pool.server.ts). An engine unused for ENGINE_IDLE_SECONDS is stopped: its snapshot
// brought up to date, its policy state saved, its thread memory freed; the next use starts it again
// from SQLite exactly where it stopped. While every slot is taken, a study that needs an engine waits
// its turn (its annotators get random pairs meanwhile), and an engine that has run for at least
// FAIR_TURN_MS (or the idle period, if shorter) gives its slot up to the longest-waiting study, least
// recently used first.

const FAIR_TURN_MS = 10_000;
const SWEEP_INTERVAL_MS = 1_000;

class EnginePool {
  readonly threads: EngineWorkerPool;
  private readonly engines = new Map<number, StudyEngine>();
  private readonly waiting: StudyEngine[] = [];
  private readonly stopping = new Set<StudyEngine>();
  private sweeper: NodeJS.Timeout | null = null;
  private readonly fairTurnMs: number;

  constructor(
    threadCount: number,
    private readonly maxLoaded: number,
    private readonly idleMs: number,
  ) {
    this.threads = new EngineWorkerPool(threadCount);
    this.fairTurnMs = Math.min(FAIR_TURN_MS, idleMs);
  }

  engine(studyId: number): StudyEngine {
    let engine = this.engines.get(studyId);
    if (!engine || engine.state === "stopped") {
      engine = new StudyEngine(studyId, (gone) => this.forget(gone));
      this.engines.set(studyId, engine);
      this.waiting.push(engine);
      this.admit();
    }
    engine.lastUsedAt = Date.now();
    this.startSweeping();
    return engine;
  }

  /** The engine of the study if one exists (running, waiting or stopping), without starting one. */
  peek(studyId: number): StudyEngine | undefined {
    const engine = this.engines.get(studyId);
    return engine && engine.state !== "stopped" ? engine : undefined;
  }

  /** Stops the study's engine now, as the idle sweep would (saving its state). */
  async stop(studyId: number): Promise<void> {
    const engine = this.engines.get(studyId);
    if (engine) await this.retire(engine);
  }

  /** Stops the study's engine saving nothing, waiting for a stop already under way (which may have saved). */
  async discard(studyId: number): Promise<void> {
    const engine = this.engines.get(studyId);
    if (!engine) return;
    // A stop under way finishes first (it may save a state, which the caller then drops).
    while (this.stopping.has(engine)) await new Promise((resolve) => setImmediate(resolve));
    await engine.close();
  }

  stats() {
    const counts = { waiting: 0, loading: 0, running: 0, stopping: 0 };
    for (const engine of this.engines.values()) if (engine.state !== "stopped") counts[engine.state]++;
    return { ...counts, threads: this.threads.liveThreads() };
  }

  waitingPosition(engine: StudyEngine): number {
    return this.waiting.indexOf(engine) + 1;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    const all = [...this.engines.values()];
    this.engines.clear();
    this.waiting.length = 0;
    await Promise.all(all.map((engine) => engine.close()));
    await this.threads.close();
  }

  private loadedCount(): number {
    let loaded = 0;
    for (const engine of this.engines.values()) if (engine.state === "loading" || engine.state === "running" || engine.state === "stopping") loaded++;
    return loaded;
  }

  /** Starts waiting engines while slots are free; otherwise asks the least recently used engine that had its turn to step aside. */
  private admit() {
    while (this.waiting.length > 0 && this.loadedCount() < this.maxLoaded) {
      const next = this.waiting.shift()!;
      void next.start(this.threads).catch((error: unknown) => {
        console.error(`engine for study ${next.studyId} failed to start:`, error);
        void next.close();
      });
    }
    if (this.waiting.length === 0 || this.stopping.size >= this.waiting.length) return;
    const now = Date.now();
    const candidates = [...this.engines.values()].filter(
      (engine) => engine.state === "running" && !this.stopping.has(engine) && now - engine.runningSince >= this.fairTurnMs,
    );
    candidates.sort((x, y) => x.lastUsedAt - y.lastUsedAt);
    const victim = candidates[0];
    if (victim) void this.retire(victim);
  }

  private async retire(engine: StudyEngine) {
    if (this.stopping.has(engine)) return;
    this.stopping.add(engine);
    try {
      await engine.stop();
    } catch (error) {
      console.error(`engine for study ${engine.studyId} failed to stop cleanly:`, error);
      await engine.close();
    } finally {
      this.stopping.delete(engine);
    }
  }

  private forget(engine: StudyEngine) {
    if (this.engines.get(engine.studyId) === engine) this.engines.delete(engine.studyId);
    const queued = this.waiting.indexOf(engine);
    if (queued >= 0) this.waiting.splice(queued, 1);
    this.admit();
    if (this.engines.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private startSweeping() {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), Math.min(SWEEP_INTERVAL_MS, this.idleMs / 4));
    this.sweeper.unref();
  }

  /** Stops engines nobody used for idleMs, and gives waiting studies their turn. */
  private sweep() {
    const now = Date.now();
    for (const engine of this.engines.values()) {
      if (engine.state === "running" && now - engine.lastUsedAt >= this.idleMs && !engine.busy) void this.retire(engine);
    }
    this.admit();
  }
}

// After a reliability fit's commit, a running engine of the study takes its scales at its next update (ADR 0044); a
// stopped one reads the latest fit when it starts. Never starts an engine.
onReliabilityFitStored("engine pool", (studyId) => existingSingleton<EnginePool>("engine pool")?.peek(studyId)?.reliabilityFitStored());

function pool(): EnginePool {
  return singleton("engine pool", () => {
    const config = env();
    return new EnginePool(config.ENGINE_THREADS, config.ENGINE_MAX_LOADED, config.ENGINE_IDLE_SECONDS * 1000);
  });
}

/** The study's engine, started (rebuilt from SQLite) on first use or queued for a slot; every call counts as use. */
export function getStudyEngine(studyId: number): StudyEngine {
  return pool().engine(studyId);
}

/** The study's engine if one is loaded, without starting one and without counting as use. */
export function loadedStudyEngine(studyId: number): StudyEngine | undefined {
  return pool().peek(studyId);
}

/** New data for the study's engine if one is running (a job committed votes or prompts); a stopped engine reads everything when it starts. */
export function notifyStudyEngine(studyId: number): void {
  const engine = pool().peek(studyId);
  if (engine) engine.requestUpdate();
}

/**
 * Prompts or queries left or rejoined selection (an owner disabled, enabled or restored one; committed): pair
 * selection drops its cached flags at once and a running engine continues on the new sub-pool (docs/decisions/0023).
 */
export function selectionChanged(studyId: number): void {
  forgetUsableItems(studyId);
  // Started if it was not running, so that a new snapshot names a recommendation in selection.
  pool().engine(studyId).selectionChangedInStudy();
}

/** What the dashboard says about the study's engine; never starts one. */
export type EngineStatus =
  | { state: "stopped" }
  | { state: "waiting"; position: number }
  | { state: "loading" | "stopping" }
  | { state: "running"; busy: boolean; votesBehind: number | null; nextStatsAt: number | null };

export function engineStatus(studyId: number): EngineStatus {
  const engine = pool().peek(studyId);
  if (!engine) return { state: "stopped" };
  switch (engine.state) {
    case "waiting":
      return { state: "waiting", position: pool().waitingPosition(engine) };
    case "running":
      return { state: "running", busy: engine.busy, votesBehind: engine.votesBehind, nextStatsAt: engine.nextStatsAt };
    default:
      return { state: engine.state === "loading" ? "loading" : "stopping" };
  }
}

/** Engines and threads alive now (benchmarks, tests). */
export function enginePoolStats() {
  return pool().stats();
}

/** Stops the study's engine as an idle one would be stopped: snapshot current, policy state saved. */
export function stopStudyEngine(studyId: number): Promise<void> {
  return pool().stop(studyId);
}

/**
 * The study's votes changed other than by new ones being added (an annotator undid a vote), or the
 * study is gone: its engine stops without saving and its saved policy state is dropped, so the next
 * use rebuilds it from the votes as they are now (ADR 0011). Until then annotators get random pairs. The reliability
 * fit is scheduled again too.
 */
export async function discardStudyEngine(studyId: number): Promise<void> {
  await pool().discard(studyId);
  deleteCheckpoint(studyId);
  // The cached reliability fit (ADR 0041) read those votes too: fitted again on the reliability thread.
  scheduleReliabilityFit(studyId);
}

/** Stops every engine and thread at once, saving nothing (tests; graceful shutdown). */
export async function closeAllEngines(): Promise<void> {
  await releaseSingleton<EnginePool>("engine pool")?.close();
}
