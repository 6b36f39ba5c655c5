import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { connection, db } from "~/db.server";
import { notifyStudyEngine, stopStudyEngine } from "~/engine/engine.server";
import { env } from "~/env.server";
import { pendingImportCleanUp } from "./staged-writes.server";
import { countStaleLexical } from "~/llm/embeddings.server";
import { embedsLexically, wakeGeneration } from "~/llm/runtime.server";
import { repoRoot } from "~/utils/repo-root.server";
import { releaseSingleton, singleton } from "~/utils/singleton.server";
import { isBusy, retryWhenBusy } from "../../db/busy";
import { JOB_LOCK_BUDGET_MS, type JobResult } from "./job-context.server";
import { and, eq, inArray } from "drizzle-orm";
import { jobs } from "../../db/schema";
import {
  claimNextJob,
  createJob,
  getJob,
  markFailed,
  markRetry,
  MAX_JOB_ATTEMPTS,
  requeueInterrupted,
  removeOrphanInputs,
  type Job,
} from "./jobs.server";

// Runs the jobs (ADR 0010): one job thread, started when a job is queued and stopped when the queue
// is empty, takes the oldest queued job at a time. After a job commits, the study's engine and the
// generation worker hear of it. A job whose thread dies (or whose attempt fails for another reason
// than its input) is queued again, up to MAX_JOB_ATTEMPTS starts; a crash of the whole server is
// handled at the next start (requeueInterrupted). The runner's own writes (claiming a job, queueing it
// again, failing it) are on the request thread's connection, which waits 50 ms for the write lock
// (db/busy.ts): one that meets a longer writer is asked again asynchronously, never thrown out of a
// thread's message handler.

export type ToJobThread = { type: "run"; jobId: number };
export type FromJobThread = {
  type: "done";
  jobId: number;
  outcome: { state: "succeeded"; result: JobResult } | { state: "failed" } | { state: "error"; message: string } | { state: "skipped" };
};

/** How soon a claim that met a taken write lock is tried again. */
const CLAIM_RETRY_MS = 20;
/** How long the runner keeps asking for the lock to record a failed attempt. */
const RUNNER_WRITE_BUDGET_MS = 10 * 60_000;

function repoFile(relative: string): string {
  return path.join(repoRoot(), relative);
}

class JobRunner {
  private worker: Worker | null = null;
  private current: Job | null = null;
  private readonly waiters = new Map<number, (() => void)[]>();
  private closed = false;

  /** Takes the next queued job if the thread is free. */
  kick(): void {
    if (this.closed || this.current) return;
    let job: Job | undefined;
    try {
      job = claimNextJob(db());
    } catch (error) {
      if (!isBusy(error)) throw error;
      // Another connection holds the write lock longer than this thread waits: ask again shortly.
      setTimeout(() => this.kick(), CLAIM_RETRY_MS).unref();
      return;
    }
    if (!job) {
      this.stopThread();
      return;
    }
    this.current = job;
    this.thread().postMessage({ type: "run", jobId: job.id } satisfies ToJobThread);
  }

  /** Resolves once the job is no longer queued or running (it succeeded, failed or waits for a confirmation). */
  whenSettled(jobId: number): Promise<void> {
    const job = getJob(db(), jobId);
    if (!job || job.state === "succeeded" || job.state === "failed" || job.state === "awaiting_confirmation") return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(jobId) ?? [];
      list.push(resolve);
      this.waiters.set(jobId, list);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
    for (const list of this.waiters.values()) for (const resolve of list) resolve();
    this.waiters.clear();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const config = env();
    const hooks = config.PROMPTDUEL_TEST_HOOKS === "1";
    const worker = new Worker(repoFile("app/engine/worker-bootstrap.mjs"), {
      workerData: {
        entry: pathToFileURL(repoFile("app/jobs/job.worker.ts")).href,
        priority: config.BACKGROUND_THREAD_PRIORITY,
        databasePath: connection().path,
        synchronous: config.SQLITE_SYNCHRONOUS,
        pauseInCommitMarker: hooks ? (config.PROMPTDUEL_TEST_PAUSE_JOB_COMMIT ?? null) : null,
        pauseBetweenChunksMarker: hooks ? (config.PROMPTDUEL_TEST_PAUSE_JOB_CHUNK ?? null) : null,
        lockWaitMarker: hooks ? (config.PROMPTDUEL_TEST_JOB_LOCK_MARKER ?? null) : null,
        lockBudgetMs: (hooks ? config.PROMPTDUEL_TEST_JOB_LOCK_WAIT_MS : undefined) ?? JOB_LOCK_BUDGET_MS,
      },
    });
    worker.unref();
    worker.on("message", (message: FromJobThread) => this.finished(message));
    worker.on("error", (error) => this.lost(worker, error));
    worker.on("exit", (code) => this.lost(worker, new Error(`the job thread exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private stopThread() {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate();
  }

  private finished(message: FromJobThread) {
    if (message.outcome.state === "succeeded") this.notify(message.outcome.result);
    void this.afterAttempt(message.jobId, message.outcome.state === "error" ? message.outcome.message : null);
  }

  /**
   * The current job's attempt ended (`error`: it failed and may run again): its state is written, its
   * waiters hear, the next job starts. The thread stays taken until then, so no other job starts
   * before this one is queued again.
   */
  private async afterAttempt(jobId: number, error: string | null) {
    const job = this.current;
    if (error !== null && job) {
      try {
        await retryWhenBusy(() => this.retryOrFail(job, error), RUNNER_WRITE_BUDGET_MS);
      } catch (failure) {
        // Left running: the next start queues it again (requeueInterrupted).
        console.error(`job #${job.id}: its failed attempt could not be recorded:`, failure);
      }
    }
    if (this.current === job) this.current = null;
    this.settle(jobId);
    this.kick();
  }

  /** The thread died: its job goes back in the queue (or fails after too many starts) and a new thread takes over. */
  private lost(worker: Worker, error: Error) {
    if (this.worker !== worker) return;
    this.worker = null;
    if (this.closed) return;
    console.error("the job thread stopped:", error);
    if (this.current) void this.afterAttempt(this.current.id, error.message);
    else this.kick();
  }

  private retryOrFail(job: Job, message: string) {
    const current = getJob(db(), job.id);
    if (!current || current.state !== "running") return;
    if (current.attempts >= MAX_JOB_ATTEMPTS) markFailed(db(), job.id, [`${message} (after ${current.attempts} attempts; nothing was written)`]);
    else markRetry(db(), job.id, message);
  }

  private settle(jobId: number) {
    const job = getJob(db(), jobId);
    if (job && (job.state === "queued" || job.state === "running")) return;
    for (const resolve of this.waiters.get(jobId) ?? []) resolve();
    this.waiters.delete(jobId);
  }

  private notify(result: JobResult) {
    if (result.studyId !== undefined) notifyStudyEngine(result.studyId);
    for (const studyId of result.restartEngines ?? []) void stopStudyEngine(studyId);
    if (result.responsesQueued) wakeGeneration();
  }
}

function runner(): JobRunner {
  return singleton("job runner", () => new JobRunner());
}

/**
 * At server start: jobs a crash interrupted go back in the queue, stray inputs are removed, prompts
 * whose embedding is not the offline one (when the app embeds offline) get a re-embedding job, and
 * the queue starts.
 */
export async function startJobs(): Promise<void> {
  requeueInterrupted(db());
  removeOrphanInputs(db(), connection().path);
  const reembedding = db()
    .select({ id: jobs.id })
    .from(jobs)
    .where(and(eq(jobs.kind, "reembed"), inArray(jobs.state, ["queued", "running"])))
    .get();
  if (embedsLexically() && !reembedding && countStaleLexical(db()) > 0) {
    await createJob(db(), connection().path, { kind: "reembed", studyId: null, input: {} });
  }
  runner().kick();
  void removeStoppedImports();
}

/**
 * The invisible rows of imports whose job will not run again (it failed on its last attempt before a
 * crash): removed a short transaction at a time, letting requests run in between (ADR 0036). Those of
 * jobs still queued are the job thread's to clean before it runs them.
 */
async function removeStoppedImports(): Promise<void> {
  for (const _ of pendingImportCleanUp(db(), true)) await new Promise((resolve) => setImmediate(resolve));
}

/** A job was queued (or confirmed): start it if the thread is free. */
export function kickJobs(): void {
  runner().kick();
}

/** Resolves when the job has stopped running: succeeded, failed, or waiting for the owner. */
export function whenJobSettled(jobId: number): Promise<void> {
  return runner().whenSettled(jobId);
}

/** Stops the job thread (tests; shutdown). A running job is interrupted, as by a crash. */
export async function stopJobs(): Promise<void> {
  await releaseSingleton<JobRunner>("job runner")?.close();
}
