import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { env } from "~/env.server";
import { repoRoot } from "~/utils/repo-root.server";
import type { FromWorker, ToWorker, UnloadedState } from "./protocol";

// The engine threads every study shares (issue 14; ADR 0008): at most `threadCount` worker threads,
// each started when a study is placed on it and stopped once it hosts none, so an idle server holds
// no engine thread at all. With two or more threads, the first half run the studies' selection
// (policy fits and next pairs) and the others their statistics (bootstrap leaderboard), so slow
// statistics never delay pairs; with one, both share it. A study goes to the thread of its role that
// hosts the fewest studies. A thread works through its messages in order and a study has at most one
// request of each kind outstanding (study-engine.server.ts coalesces), so busy studies take turns.

/** What a study's engine hears from the threads. */
export interface StudyListener {
  onMessage(message: FromWorker): void;
  /** The thread holding this study's state died; the engine must be rebuilt. */
  onCrash(error: Error): void;
}

/** A study's line to its two threads. */
export interface StudyChannel {
  toSelection(message: ToWorker): void;
  toStats(message: ToWorker): void;
  /** Forgets the study on both threads; resolves with the policy's saved state (or null). */
  release(): Promise<UnloadedState["saved"]>;
}

interface EngineThread {
  worker: Worker;
  studies: Set<number>;
}

export class EngineWorkerPool {
  private readonly slots: (EngineThread | null)[];
  private readonly listeners = new Map<number, StudyListener>();
  private readonly releases = new Map<number, (saved: UnloadedState["saved"]) => void>();
  private readonly selectionSlots: number[];
  private readonly statsSlots: number[];

  constructor(threadCount: number) {
    if (!Number.isInteger(threadCount) || threadCount < 1) throw new Error("EngineWorkerPool requires at least one thread");
    this.slots = Array.from({ length: threadCount }, () => null);
    const selectionCount = threadCount === 1 ? 1 : Math.ceil(threadCount / 2);
    this.selectionSlots = Array.from({ length: selectionCount }, (_, k) => k);
    this.statsSlots = threadCount === 1 ? [0] : Array.from({ length: threadCount - selectionCount }, (_, k) => selectionCount + k);
  }

  /** Threads running now. */
  liveThreads(): number {
    return this.slots.filter((slot) => slot !== null).length;
  }

  /** Places the study on a selection and a statistics thread (starting them if needed). */
  attach(studyId: number, listener: StudyListener): StudyChannel {
    if (this.listeners.has(studyId)) throw new Error(`EngineWorkerPool: study ${studyId} is already attached`);
    this.listeners.set(studyId, listener);
    const selection = this.place(this.selectionSlots, studyId);
    const stats = this.place(this.statsSlots, studyId);
    let released = false;
    return {
      toSelection: (message) => {
        if (!released) this.slots[selection]?.worker.postMessage(message);
      },
      toStats: (message) => {
        if (!released) this.slots[stats]?.worker.postMessage(message);
      },
      release: () => {
        if (released) return Promise.resolve(null);
        released = true;
        const selectionThread = this.slots[selection];
        const statsThread = this.slots[stats];
        const saved = new Promise<UnloadedState["saved"]>((resolve) => {
          if (!selectionThread) return resolve(null);
          this.releases.set(studyId, resolve);
          selectionThread.worker.postMessage({ type: "unload", studyId, save: true } satisfies ToWorker);
        });
        if (statsThread && statsThread !== selectionThread)
          statsThread.worker.postMessage({ type: "unload", studyId, save: false } satisfies ToWorker);
        return saved.finally(() => {
          this.listeners.delete(studyId);
          this.leave(selection, studyId);
          this.leave(stats, studyId);
        });
      },
    };
  }

  /** Stops every thread at once (tests; shutdown). Attached studies hear nothing more. */
  async close(): Promise<void> {
    const threads = this.slots.filter((slot): slot is EngineThread => slot !== null);
    this.slots.fill(null);
    this.listeners.clear();
    for (const resolve of this.releases.values()) resolve(null);
    this.releases.clear();
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private place(candidates: number[], studyId: number): number {
    let best = candidates[0]!;
    for (const slot of candidates) if ((this.slots[slot]?.studies.size ?? 0) < (this.slots[best]?.studies.size ?? 0)) best = slot;
    const thread = (this.slots[best] ??= this.startThread(best));
    thread.studies.add(studyId);
    return best;
  }

  private leave(slot: number, studyId: number) {
    const thread = this.slots[slot];
    if (!thread) return;
    thread.studies.delete(studyId);
    if (thread.studies.size > 0) return;
    this.slots[slot] = null;
    void thread.worker.terminate();
  }

  private startThread(slot: number): EngineThread {
    const root = repoRoot();
    const worker = new Worker(path.join(root, "app/engine/worker-bootstrap.mjs"), {
      workerData: { entry: pathToFileURL(path.join(root, "app/engine/engine.worker.ts")).href, priority: env().BACKGROUND_THREAD_PRIORITY },
    });
    worker.unref();
    const thread: EngineThread = { worker, studies: new Set() };
    worker.on("message", (message: FromWorker) => {
      if (message.type === "unloaded") {
        const resolve = this.releases.get(message.studyId);
        this.releases.delete(message.studyId);
        resolve?.(message.saved);
        return;
      }
      this.listeners.get(message.studyId)?.onMessage(message);
    });
    worker.on("error", (error) => {
      if (this.slots[slot] !== thread) return;
      this.slots[slot] = null;
      console.error(`engine thread ${slot} crashed:`, error);
      for (const studyId of thread.studies) {
        this.releases.get(studyId)?.(null);
        this.releases.delete(studyId);
        this.listeners.get(studyId)?.onCrash(error);
      }
    });
    return thread;
  }
}
