import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { asc, count, eq, inArray } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { jobs, pendingImports, prompts, queries, responses, studies } from "../../db/schema";
import { useTempAppDatabase, useTempDir } from "../../tests/helpers/temp-database";
import { connection, db } from "~/db.server";
import { cleanUpPendingImports } from "./staged-writes.server";
import { createJob, getJob, MAX_JOB_ATTEMPTS, retryJob } from "./jobs.server";
import { kickJobs, stopJobs, whenJobSettled } from "./runner.server";

// The job thread's wait for SQLite's write lock (job.worker.ts, whenLockFree; ADR 0043): a chunk or
// the publishing commit that meets another connection's lock asks again until the lock is free, or
// until its budget has passed, when the attempt fails saying why. The tests hold the lock from a
// connection of their own while the job is paused between two chunks (PROMPTDUEL_TEST_PAUSE_JOB_CHUNK),
// and learn from the job thread's marker (PROMPTDUEL_TEST_JOB_LOCK_MARKER) that it met the lock.

const HOOKS = ["PROMPTDUEL_TEST_HOOKS", "PROMPTDUEL_TEST_PAUSE_JOB_CHUNK", "PROMPTDUEL_TEST_JOB_LOCK_MARKER", "PROMPTDUEL_TEST_JOB_LOCK_WAIT_MS"];

const n = (row: { n: number } | undefined) => row?.n ?? 0;

describe("a job whose write meets another connection's lock", () => {
  const database = useTempAppDatabase();
  const dir = useTempDir();

  afterEach(async () => {
    await stopJobs();
    for (const name of HOOKS) Reflect.deleteProperty(process.env, name);
  });

  /** A fresh job thread with the hooks on, `lockWaitMs` its lock budget (unset: the product's 120 s). */
  async function hookedThread(name: string, lockWaitMs?: number) {
    await stopJobs();
    const markers = { chunk: path.join(dir(), `${name}.chunk`), lock: path.join(dir(), `${name}.lock`) };
    process.env.PROMPTDUEL_TEST_HOOKS = "1";
    process.env.PROMPTDUEL_TEST_PAUSE_JOB_CHUNK = markers.chunk;
    process.env.PROMPTDUEL_TEST_JOB_LOCK_MARKER = markers.lock;
    if (lockWaitMs !== undefined) process.env.PROMPTDUEL_TEST_JOB_LOCK_WAIT_MS = String(lockWaitMs);
    return markers;
  }

  const lockEvents = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : []);

  function study() {
    const studyId = db().select({ id: studies.id }).from(studies).orderBy(asc(studies.id)).get()!.id;
    const promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((row) => row.id);
    return { studyId, promptIds };
  }

  /** How many times each text is a query of the study, and each of its prompts has a response to it. */
  function copies(studyId: number, promptIds: number[], texts: string[]) {
    const rows = db()
      .select({ id: queries.id, text: queries.text })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .all()
      .filter((row) => texts.includes(row.text));
    const responseCount = n(
      db()
        .select({ n: count() })
        .from(responses)
        .where(
          inArray(
            responses.queryId,
            rows.map((row) => row.id),
          ),
        )
        .get(),
    );
    return { queries: rows.length, distinct: new Set(rows.map((row) => row.text)).size, responses: responseCount, prompts: promptIds.length };
  }

  const stagedRows = () => n(db().select({ n: count() }).from(pendingImports).get());

  /** Queues an addition of `texts` and waits until its job has committed its second chunk and paused. */
  async function pausedAddition(studyId: number, texts: string[], chunkMarker: string, attemptsUsed = 0) {
    const job = await createJob(db(), connection().path, {
      kind: "add-to-study",
      studyId,
      input: { studyId, prompts: [], queries: texts.map((text) => ({ text, notes: null })) },
    });
    if (attemptsUsed > 0) db().update(jobs).set({ attempts: attemptsUsed }).where(eq(jobs.id, job.id)).run();
    kickJobs();
    await expect.poll(() => fs.existsSync(chunkMarker), { timeout: 60_000 }).toBe(true);
    return job.id;
  }

  /** Takes the write lock on a connection of the test's own, as a long writer would. */
  function holdLock() {
    const holder = new Database(database.path());
    holder.prepare("begin immediate").run();
    holder.prepare("update studies set guidelines = 'held by the test' where id = (select min(id) from studies)").run();
    return {
      release() {
        holder.prepare("rollback").run();
        holder.close();
      },
    };
  }

  it("waits while the lock is held, then completes with exactly one copy of its rows", async () => {
    const markers = await hookedThread("waits");
    const { studyId, promptIds } = study();
    const texts = Array.from({ length: 6 }, (_, k) => `Asked while the lock was held ${k}?`);
    const jobId = await pausedAddition(studyId, texts, markers.chunk);

    const lock = holdLock();
    fs.rmSync(markers.chunk);
    // The job's next chunk met the lock (after its connection's own 5 s busy wait) and keeps asking.
    await expect.poll(() => lockEvents(markers.lock), { timeout: 60_000 }).toContain(`waiting ${jobId}`);
    expect(getJob(db(), jobId)).toMatchObject({ state: "running", attempts: 1 });
    expect(copies(studyId, promptIds, texts)).toMatchObject({ queries: 0, responses: 0 });
    lock.release();

    await whenJobSettled(jobId);
    expect(getJob(db(), jobId)).toMatchObject({ state: "succeeded", attempts: 1, errors: null, result: { queriesAdded: 6 } });
    expect(lockEvents(markers.lock)).not.toContain(`gave up ${jobId}`);
    expect(copies(studyId, promptIds, texts)).toEqual({ queries: 6, distinct: 6, responses: 6 * promptIds.length, prompts: promptIds.length });
    expect(stagedRows()).toBe(0);
  });

  it("gives up after its budget with a job error saying why, nothing published; retried, it adds its rows once", async () => {
    // A budget of 0: the first SQLITE_BUSY (after the connection's 5 s busy wait) ends the attempt.
    const markers = await hookedThread("gives-up", 0);
    const { studyId, promptIds } = study();
    const texts = Array.from({ length: 6 }, (_, k) => `Asked until the job gave up ${k}?`);
    // Its last attempt: the failure is final rather than queued again.
    const jobId = await pausedAddition(studyId, texts, markers.chunk, MAX_JOB_ATTEMPTS - 1);

    const lock = holdLock();
    fs.rmSync(markers.chunk);
    await expect.poll(() => lockEvents(markers.lock), { timeout: 60_000 }).toContain(`gave up ${jobId}`);
    expect(lockEvents(markers.lock)).toEqual([`waiting ${jobId}`, `gave up ${jobId}`]);
    // The runner records the failure on the request thread's connection: it waits for the lock too.
    lock.release();

    await whenJobSettled(jobId);
    const failed = getJob(db(), jobId)!;
    expect(failed).toMatchObject({ state: "failed", attempts: MAX_JOB_ATTEMPTS });
    expect(failed.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^chunk 3 of job #${jobId} waited \\d+\\.\\d s for the database's write lock, which another connection kept; nothing of this attempt was published \\(after ${MAX_JOB_ATTEMPTS} attempts; nothing was written\\)$`,
        ),
      ),
    ]);
    // Its first two chunks were seen by no one (and removed, or left to the next run when the lock was still taken).
    expect(copies(studyId, promptIds, texts)).toMatchObject({ queries: 0, responses: 0 });

    // The owner's Retry: the next run removes the staged rows first and writes every row once (on a
    // new thread, the queue having emptied: one that does not pause).
    delete process.env.PROMPTDUEL_TEST_PAUSE_JOB_CHUNK;
    expect(retryJob(db(), connection().path, jobId, studyId)).toBe(true);
    kickJobs();
    await whenJobSettled(jobId);
    expect(getJob(db(), jobId)).toMatchObject({ state: "succeeded", attempts: 1, result: { queriesAdded: 6 } });
    expect(copies(studyId, promptIds, texts)).toEqual({ queries: 6, distinct: 6, responses: 6 * promptIds.length, prompts: promptIds.length });
    expect(stagedRows()).toBe(0);
    expect(cleanUpPendingImports(db())).toBe(0);
  });
});
