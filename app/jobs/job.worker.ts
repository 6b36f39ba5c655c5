// The job thread (ADR 0010): owner operations too big for a request run here, one at a time, on a
// connection of their own, so the request thread only ever waits for their final commit. Loaded
// through app/engine/worker-bootstrap.mjs (tsx), like the engine threads.
import fs from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, type SynchronousMode } from "../../db/client";
import { capErrors } from "~/export/raw-log-schema.server";
import { runImportLogJob } from "~/export/raw-log-import.server";
import { cleanUpPendingImports } from "./staged-writes.server";
import { runReembedJob } from "~/llm/embeddings.server";
import { runAddToStudyJob, runCreateStudyJob, runImportResponsesJob } from "~/models/study-setup-jobs.server";
import { recordAudit } from "~/models/audit.server";
import { JobInputError, type JobContext, type JobHandler, type JobResult, type Transaction } from "./job-context.server";
import { getJob, markFailed, markSucceeded, readJobInput, recordProgress, removeJobInput } from "./jobs.server";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";
import { isBusy } from "../../db/busy";
import type { FromJobThread, ToJobThread } from "./runner.server";
import type { AuditAction, JobKind, JobRequester } from "../../db/schema";

const port = parentPort;
if (!port) throw new Error("job.worker must run in a worker thread");
const options = workerData as {
  priority: BackgroundThreadPriority;
  databasePath: string;
  synchronous: SynchronousMode;
  pauseInCommitMarker: string | null;
  pauseBetweenChunksMarker: string | null;
  lockWaitMarker: string | null;
  lockBudgetMs: number;
};
// Requests first: this thread's parsing and writing take the CPU the request thread leaves (ADR 0036).
applyBackgroundThreadPriority(options.priority, "job");
const { db } = openDatabase(options.databasePath, { synchronous: options.synchronous });

// What each kind of job records in the audit log when it commits, as whoever queued it.
const AUDIT_ACTIONS: Record<JobKind, (result: JobResult) => AuditAction | null> = {
  "import-log": () => "votes.imported",
  "create-study": () => "study.created",
  "add-to-study": (result) => (Number(result.promptsAdded ?? 0) > 0 ? "prompts.added" : "queries.added"),
  "import-responses": () => "responses.imported",
  reembed: () => null,
};

function recordJobAudit(tx: Transaction, kind: JobKind, requester: JobRequester, studyId: number | null, result: JobResult) {
  const action = AUDIT_ACTIONS[kind](result);
  if (!action) return;
  const { studyId: _studyId, restartEngines: _restart, ...details } = result;
  recordAudit(tx, { studyId, actorUserId: requester.userId, actorTokenId: requester.tokenId, actor: requester.label, action, details });
}

const HANDLERS: Record<JobKind, JobHandler> = {
  "import-log": runImportLogJob,
  "create-study": runCreateStudyJob,
  "add-to-study": runAddToStudyJob,
  "import-responses": runImportResponsesJob,
  reembed: runReembedJob,
};

// After each chunk of a chunked job (ADR 0036), the job thread waits as long as the chunk took, and at least this.
const CHUNK_GAP_MIN_MS = 2;
const chunkGap = new Int32Array(new SharedArrayBuffer(4));

// Progress is written at most this often: each write is a small transaction of its own.
const PROGRESS_INTERVAL_MS = 250;

const lockPause = new Int32Array(new SharedArrayBuffer(4));

/** Test hook (PROMPTDUEL_TEST_JOB_LOCK_MARKER): one line per event of a job's wait for the lock. */
function markLockWait(event: "waiting" | "gave up", jobId: number) {
  if (options.lockWaitMarker) fs.appendFileSync(options.lockWaitMarker, `${event} ${jobId}\n`);
}

/**
 * Runs `transaction` (a write of job `jobId`: `what`) again every millisecond while it fails with
 * SQLITE_BUSY, up to the lock budget (JOB_LOCK_BUDGET_MS, job-context.server.ts); then the attempt fails
 * with an error saying so, retried by the runner as any failed attempt (its staged rows stay invisible
 * and go before the next run). Safe: every transaction begins IMMEDIATE (db/client.ts), so SQLITE_BUSY
 * comes at BEGIN, before it did anything. Meanwhile the connection does not wait in SQLite's busy
 * handler: that backs off to one try every 100 ms, and a request thread voting back to back holds the
 * write lock most of the time, so a job waiting there rarely found it free (an import of 100,000 votes
 * beside one annotator voting as fast as the server answers took over 20 minutes, its thread idle 97 %
 * of the time).
 */
function whenLockFree<T>(jobId: number, what: string, transaction: () => T): T {
  const started = Date.now();
  let waiting = false;
  const sqlite = db.$client;
  const busyTimeoutMs = sqlite.pragma("busy_timeout", { simple: true }) as number;
  sqlite.pragma("busy_timeout = 0");
  try {
    for (;;) {
      try {
        return transaction();
      } catch (error) {
        if (!isBusy(error)) throw error;
        if (!waiting) markLockWait("waiting", jobId);
        waiting = true;
        const waited = Date.now() - started;
        if (waited >= options.lockBudgetMs) {
          markLockWait("gave up", jobId);
          throw new Error(
            `${what} waited ${(waited / 1000).toFixed(1)} s for the database's write lock, which another connection kept; nothing of this attempt was published`,
          );
        }
        Atomics.wait(lockPause, 0, 0, 1);
      }
    }
  } finally {
    sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}

/** Progress is for the owner's page only: a report that meets a taken lock is skipped, never the job. */
function reportProgress(jobId: number, phase: string, done: number, total: number) {
  try {
    recordProgress(db, jobId, phase, done, total);
  } catch (error) {
    if (!isBusy(error)) throw error;
  }
}

function post(message: FromJobThread) {
  port!.postMessage(message);
}

/**
 * Test hook (PROMPTDUEL_TEST_HOOKS=1 with PROMPTDUEL_TEST_PAUSE_JOB_COMMIT=<file>): with every row
 * of the job written but not committed, say so in that file and stop here for good, so a test can
 * kill the server at the one moment a half-written job could exist.
 */
function pauseInCommit(jobId: number) {
  if (!options.pauseInCommitMarker) return;
  fs.writeFileSync(options.pauseInCommitMarker, String(jobId));
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/**
 * Test hook (PROMPTDUEL_TEST_HOOKS=1 with PROMPTDUEL_TEST_PAUSE_JOB_CHUNK=<file>): after a job's
 * second chunk has committed (its rows written, invisible, the write lock free), say so in that file
 * and wait until the test deletes it, so a test can write meanwhile or kill the server there.
 */
let pausedBetweenChunks = false;
function pauseBetweenChunks(jobId: number, chunk: number) {
  const marker = options.pauseBetweenChunksMarker;
  if (!marker || pausedBetweenChunks || chunk !== 2) return;
  pausedBetweenChunks = true;
  fs.writeFileSync(marker, String(jobId));
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (fs.existsSync(marker)) Atomics.wait(sleeper, 0, 0, 20);
}

function run(jobId: number) {
  const job = getJob(db, jobId);
  if (!job || job.state !== "running") return post({ type: "done", jobId, outcome: { state: "skipped" } });
  let lastProgressAt = 0;
  let chunks = 0;
  let committed: JobResult | null = null;
  const context: JobContext = {
    db,
    jobId,
    progress(phase, done, total) {
      const now = Date.now();
      if (now - lastProgressAt < PROGRESS_INTERVAL_MS && done < total) return;
      lastProgressAt = now;
      reportProgress(jobId, phase, done, total);
    },
    chunk(write) {
      let heldMs = 0;
      whenLockFree(jobId, `chunk ${chunks + 1} of job #${jobId}`, () =>
        db.transaction((tx) => {
          const locked = performance.now();
          write(tx);
          heldMs = performance.now() - locked;
        }),
      );
      // Leave the lock free for as long as the chunk held it (not for the time spent waiting for it):
      // a request's write waiting for it (it polls, db/busy.ts) finds it free half the time, not only
      // in the instant between two chunks.
      Atomics.wait(chunkGap, 0, 0, Math.max(CHUNK_GAP_MIN_MS, heldMs));
      pauseBetweenChunks(jobId, ++chunks);
    },
    commit(write) {
      if (chunks === 0) reportProgress(jobId, "writing", 0, 0);
      committed = whenLockFree(jobId, `the publishing commit of job #${jobId}`, () =>
        db.transaction((tx) => {
          const result = write(tx);
          if (job.requestedBy) recordJobAudit(tx, job.kind, job.requestedBy, job.studyId ?? result.studyId ?? null, result);
          pauseInCommit(jobId);
          markSucceeded(tx, jobId, result, job.studyId === null ? result.studyId : undefined);
          return result;
        }),
      );
      return committed;
    },
    discardStaged() {
      try {
        cleanUpPendingImports(db);
      } catch (error) {
        if (!isBusy(error)) throw error;
      }
    },
  };
  try {
    // What an earlier attempt (or another import) wrote and never published: nobody sees it; it goes now.
    cleanUpPendingImports(db, (write) => whenLockFree(jobId, `the clean-up before job #${jobId}`, () => db.transaction(write)));
    const result = HANDLERS[job.kind](context, readJobInput(options.databasePath, job));
    if (committed === null) throw new Error(`the ${job.kind} job ended without writing`);
    removeJobInput(options.databasePath, job);
    post({ type: "done", jobId, outcome: { state: "succeeded", result } });
  } catch (error) {
    if (committed !== null) {
      // Written and marked succeeded already: only the clean-up failed.
      post({ type: "done", jobId, outcome: { state: "succeeded", result: committed } });
    } else if (error instanceof JobInputError) {
      whenLockFree(jobId, `marking job #${jobId} failed`, () => db.transaction((tx) => markFailed(tx, jobId, capErrors(error.errors))));
      removeJobInput(options.databasePath, job);
      post({ type: "done", jobId, outcome: { state: "failed" } });
    } else {
      post({ type: "done", jobId, outcome: { state: "error", message: error instanceof Error ? error.message : String(error) } });
    }
  }
}

port.on("message", (message: ToJobThread) => run(message.jobId));
