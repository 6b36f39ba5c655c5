import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { retryWhenBusy } from "../../db/busy";
import { jobs, type JobKind, type JobRequester, type JobState } from "../../db/schema";
import type { Queryable } from "~/llm/queryable.server";

// The jobs table (db/schema.ts; ADR 0010) and the job inputs beside the database. Every function
// takes the database, so the request thread and the job thread (its own connection) share them.

export type Job = typeof jobs.$inferSelect;

/** How often a job is started before it counts as failed (a crash or kill in the middle is one start). */
export const MAX_JOB_ATTEMPTS = 3;

/** The folder of job inputs: `jobs/` beside the database file. */
export function jobsFolder(databasePath: string): string {
  return path.join(path.dirname(path.resolve(databasePath)), "jobs");
}

/**
 * Queues a job (or parks it until the owner confirms it): writes its input to a file first (synced
 * to disk, off the request thread), then the row, so a row never names a missing input.
 */
export async function createJob(
  db: Queryable,
  databasePath: string,
  job: {
    kind: JobKind;
    studyId: number | null;
    input: unknown;
    /** Bytes stored after the input as they are (an upload), read back as `attachment` (readJobInput). */
    attachment?: Uint8Array;
    plan?: Record<string, unknown>;
    awaitConfirmation?: boolean;
    requestedBy?: JobRequester;
  },
): Promise<Job> {
  const folder = jobsFolder(databasePath);
  await fs.promises.mkdir(folder, { recursive: true });
  const inputFile = `${randomUUID()}.json`;
  const handle = await fs.promises.open(path.join(folder, inputFile), "wx");
  try {
    // JSON.stringify never writes a raw line feed, so the first one ends the input.
    await handle.writeFile(job.attachment ? `${JSON.stringify(job.input)}\n` : JSON.stringify(job.input));
    if (job.attachment) await handle.writeFile(job.attachment);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The row after the file: retried asynchronously should the job thread hold the lock (ADR 0036).
  return retryWhenBusy(() =>
    db
      .insert(jobs)
      .values({
        kind: job.kind,
        studyId: job.studyId,
        inputFile,
        plan: job.plan ?? null,
        requestedBy: job.requestedBy ?? null,
        state: job.awaitConfirmation ? "awaiting_confirmation" : "queued",
      })
      .returning()
      .get(),
  );
}

export function getJob(db: Queryable, jobId: number): Job | undefined {
  return db.select().from(jobs).where(eq(jobs.id, jobId)).get();
}

/** The study's jobs, newest first: what the owner's pages show. */
export function studyJobs(db: Queryable, studyId: number, kinds: readonly JobKind[], limit = 5): Job[] {
  return db
    .select()
    .from(jobs)
    .where(and(eq(jobs.studyId, studyId), inArray(jobs.kind, [...kinds])))
    .orderBy(desc(jobs.id))
    .limit(limit)
    .all();
}

/** Reads a job's input (on the job thread). */
/** A job's input, with the bytes stored after it (createJob's `attachment`) as `attachment` when there are any. */
export function readJobInput(databasePath: string, job: Job): unknown {
  const file = fs.readFileSync(path.join(jobsFolder(databasePath), job.inputFile));
  const end = file.indexOf(0x0a);
  if (end < 0) return JSON.parse(file.toString("utf8"));
  return { ...(JSON.parse(file.subarray(0, end).toString("utf8")) as object), attachment: file.subarray(end + 1) };
}

/** Deletes a job's input once the job can no longer run (done, cancelled, or failed on its input). */
export function removeJobInput(databasePath: string, job: Pick<Job, "inputFile">): void {
  fs.rmSync(path.join(jobsFolder(databasePath), job.inputFile), { force: true });
}

/** The owner said yes: the job may run. False when it was not waiting for that (already confirmed, cancelled). */
export function confirmJob(db: Queryable, jobId: number, studyId: number | null): boolean {
  const scope = studyId === null ? sql`${jobs.studyId} is null` : eq(jobs.studyId, studyId);
  return (
    db
      .update(jobs)
      .set({ state: "queued" })
      .where(and(eq(jobs.id, jobId), scope, eq(jobs.state, "awaiting_confirmation")))
      .run().changes > 0
  );
}

/** The owner said no: the job is removed with its input, nothing having been written. */
export function cancelJob(db: Queryable, databasePath: string, jobId: number, studyId: number | null): boolean {
  const scope = studyId === null ? sql`${jobs.studyId} is null` : eq(jobs.studyId, studyId);
  const removed = db
    .delete(jobs)
    .where(and(eq(jobs.id, jobId), scope, eq(jobs.state, "awaiting_confirmation")))
    .returning()
    .get();
  if (removed) removeJobInput(databasePath, removed);
  return removed !== undefined;
}

/** A job of `studyId` (null: a study being created) that failed with its input kept (it was stopped too often, or an error it may not meet again) goes back in the queue. */
export function retryJob(db: Queryable, databasePath: string, jobId: number, studyId: number | null): boolean {
  const scope = studyId === null ? sql`${jobs.studyId} is null` : eq(jobs.studyId, studyId);
  const job = db
    .select()
    .from(jobs)
    .where(and(eq(jobs.id, jobId), scope, eq(jobs.state, "failed")))
    .get();
  if (!job || !fs.existsSync(path.join(jobsFolder(databasePath), job.inputFile))) return false;
  db.update(jobs).set({ state: "queued", attempts: 0, errors: null, finishedAt: null }).where(eq(jobs.id, jobId)).run();
  return true;
}

/** Takes the oldest queued job: running, one more attempt. */
export function claimNextJob(db: Queryable): Job | undefined {
  return db
    .update(jobs)
    .set({ state: "running", attempts: sql`${jobs.attempts} + 1`, startedAt: new Date(), phase: null, progressDone: 0, progressTotal: 0 })
    .where(eq(jobs.id, sql`(select id from ${jobs} where ${jobs.state} = 'queued' order by ${jobs.id} limit 1)`))
    .returning()
    .get();
}

/**
 * At start-up: jobs left running by a crash go back in the queue, unless they already used every
 * attempt. Nothing of theirs was written: a job writes only in its final transaction.
 */
export function requeueInterrupted(db: Queryable): void {
  db.update(jobs)
    .set({ state: "queued" })
    .where(and(eq(jobs.state, "running"), sql`${jobs.attempts} < ${MAX_JOB_ATTEMPTS}`))
    .run();
  db.update(jobs)
    .set({
      state: "failed",
      errors: [`Stopped ${MAX_JOB_ATTEMPTS} times before it could finish; nothing was written. Retry it when the server is quiet.`],
    })
    .where(eq(jobs.state, "running"))
    .run();
}

export function recordProgress(db: Queryable, jobId: number, phase: string, done: number, total: number): void {
  db.update(jobs).set({ phase, progressDone: done, progressTotal: total }).where(eq(jobs.id, jobId)).run();
}

/** Inside the job's own write transaction: it succeeded, with this result (and, for a new study, its id). */
export function markSucceeded(tx: Queryable, jobId: number, result: Record<string, unknown>, studyId?: number): void {
  tx.update(jobs)
    .set({ state: "succeeded", result, finishedAt: new Date(), phase: null, ...(studyId === undefined ? {} : { studyId }) })
    .where(eq(jobs.id, jobId))
    .run();
}

/** The job will not run again as it is: its input was wrong, or it failed too often. */
export function markFailed(db: Queryable, jobId: number, errors: string[]): void {
  db.update(jobs).set({ state: "failed", errors, finishedAt: new Date(), phase: null }).where(eq(jobs.id, jobId)).run();
}

/** Back in the queue after an error on an attempt that may succeed next time. */
export function markRetry(db: Queryable, jobId: number, error: string): void {
  db.update(jobs)
    .set({ state: "queued", errors: [error], phase: null })
    .where(eq(jobs.id, jobId))
    .run();
}

/** Job states in which a job still has work ahead. */
export const PENDING_JOB_STATES: readonly JobState[] = ["awaiting_confirmation", "queued", "running"];

/** Input files no job row names any more (a crash between writing the file and the row): removed at start-up. */
export function removeOrphanInputs(db: Queryable, databasePath: string): void {
  const folder = jobsFolder(databasePath);
  if (!fs.existsSync(folder)) return;
  const named = new Set(
    db
      .select({ inputFile: jobs.inputFile })
      .from(jobs)
      .where(inArray(jobs.state, [...PENDING_JOB_STATES, "failed"]))
      .orderBy(asc(jobs.id))
      .all()
      .map((row) => row.inputFile),
  );
  for (const file of fs.readdirSync(folder)) if (!named.has(file)) fs.rmSync(path.join(folder, file), { force: true });
}
