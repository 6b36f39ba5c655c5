import { eq, inArray, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import { annotators, pendingImports, studies } from "../../db/schema";
import type { Transaction } from "./job-context.server";

// Jobs that write many rows (raw-log imports, study creation, additions; ADR 0036, 0043) write them in
// short chunks nobody sees and publish them in one small commit. While the job's pending_imports row
// exists, what it wrote belongs to a staging study (a study row nobody is a member of; for a study
// being created, that study itself), and votes it wrote carry its job id (votePublished). The
// publishing commit moves the staged rows into the study and deletes the pending row; a crash before
// it leaves only invisible rows, which pendingImportCleanUp removes before the next job runs.

/**
 * How the writing is cut (ADR 0036): each chunk is one short IMMEDIATE transaction of at most
 * STAGED_CHUNK_ROWS rows, ended early once its rows took STAGED_CHUNK_MS (its commit then takes about
 * as long again: ~20 ms a chunk at load 8); the request thread's writes slip in between chunks.
 */
export const STAGED_CHUNK_ROWS = 1_000;
export const STAGED_CHUNK_MS = 10;

/** Runs a staged job's writes: `chunk` commits each chunk on its own, `publish` is the one commit that makes them visible. */
export interface StagedWriter<T> {
  chunk(write: (tx: Transaction) => void): void;
  publish(write: (tx: Transaction) => T): T;
}

/** Writes `rows` in chunks of at most `chunkRows` rows and STAGED_CHUNK_MS each; `write` writes one row. */
export function inChunks<T>(
  chunkRows: number,
  writer: StagedWriter<unknown>,
  rows: readonly T[],
  write: (tx: Transaction, row: T) => void,
  after?: (tx: Transaction, from: number, to: number) => void,
) {
  let next = 0;
  while (next < rows.length) {
    writer.chunk((tx) => {
      const from = next;
      const started = performance.now();
      let k = next;
      while (k < rows.length && k - from < chunkRows && (k === from || performance.now() - started < STAGED_CHUNK_MS)) {
        write(tx, rows[k]!);
        k++;
      }
      after?.(tx, from, k);
      next = k;
    });
  }
}

/**
 * Writes rows 0 … total − 1 in chunks through `write(tx, from, to)`, which writes a range at once (a
 * function that prepares its statements per call, such as the setup's prompt insertion). A range
 * is at most `chunkRows` long and is shortened or lengthened after each chunk so that it takes
 * about STAGED_CHUNK_MS.
 */
export function inRanges(
  chunkRows: number,
  writer: StagedWriter<unknown>,
  total: number,
  write: (tx: Transaction, from: number, to: number) => void,
) {
  let next = 0;
  let size = Math.min(chunkRows, 50);
  while (next < total) {
    const from = next;
    const to = Math.min(total, from + size);
    let took = 0;
    writer.chunk((tx) => {
      const started = performance.now();
      write(tx, from, to);
      took = performance.now() - started;
    });
    next = to;
    size = Math.max(1, Math.min(chunkRows, Math.round((size * STAGED_CHUNK_MS) / Math.max(took, 0.5))));
  }
}

/**
 * The first chunk of a staged job: its pending row, naming `stagingStudyId` (a study created for the
 * job in the same chunk). A row per job: a second call for the same job fails.
 */
export function openStaging(tx: Transaction, jobId: number, studyId: number, stagingStudyId: number): void {
  tx.insert(pendingImports).values({ jobId, studyId, stagingStudyId }).run();
}

/** Whether the job's staged rows are still there to publish (a clean-up may have removed them meanwhile). */
export function stagingExists(tx: Transaction, jobId: number): boolean {
  return tx.select({ jobId: pendingImports.jobId }).from(pendingImports).where(eq(pendingImports.jobId, jobId)).get() !== undefined;
}

/**
 * What the study gained meanwhile that clashes with the staged rows: a prompt of the same normalised text, or a query
 * of the same text (the study's uniqueness rules); null when nothing does. The publishing commit then refuses.
 */
export function stagingClash(tx: Transaction, studyId: number, stagingStudyId: number): "prompt" | "query" | null {
  const prompt = tx.get<{ n: number }>(
    sql`select count(*) as n from prompts p join prompts s on s.normalized_text = p.normalized_text where p.study_id = ${studyId} and s.study_id = ${stagingStudyId}`,
  );
  if (prompt.n > 0) return "prompt";
  const query = tx.get<{ n: number }>(
    sql`select count(*) as n from queries q join queries s on s.text = q.text where q.study_id = ${studyId} and s.study_id = ${stagingStudyId}`,
  );
  return query.n > 0 ? "query" : null;
}

/** Runs one transaction of the clean-up: `db.transaction`, or the job thread's, which waits for a taken lock. */
export type Transact = <T>(write: (tx: Transaction) => T) => T;

/** Rows deleted per clean-up chunk. */
const CLEAN_UP_CHUNK_ROWS = 2_000;

/**
 * Removes what unpublished staged jobs wrote (a crashed or failed attempt; ADR 0036), one short
 * transaction at a time, yielding after each: their assignments (and with them their votes, which no
 * tally counted), the responses, queries and prompts of the staging study (with the responses of the
 * study's own prompts to staged queries), their annotators, the staging study, and last the pending
 * row. `onlyStopped`: only jobs that will not run again (failed, or gone), for a caller other than
 * the job thread, which is the only writer of staged rows and cleans every one up before each job
 * and after a failed one.
 */
export function* pendingImportCleanUp(
  db: DB,
  onlyStopped = false,
  transact: Transact = (write) => db.transaction(write),
): Generator<void, void, void> {
  for (;;) {
    const pending = db
      .select()
      .from(pendingImports)
      .where(onlyStopped ? sql`${pendingImports.jobId} not in (select id from jobs where state in ('queued', 'running'))` : undefined)
      .orderBy(pendingImports.jobId)
      .limit(1)
      .get();
    if (!pending) return;
    const { jobId, stagingStudyId } = pending;
    const steps = [
      sql`delete from assignments where id in (select assignment_id from votes where import_job_id = ${jobId} limit ${CLEAN_UP_CHUNK_ROWS})`,
      sql`delete from responses where id in (select r.id from responses r join prompts p on p.id = r.prompt_id where p.study_id = ${stagingStudyId} limit ${CLEAN_UP_CHUNK_ROWS})`,
      sql`delete from responses where id in (select r.id from responses r join queries q on q.id = r.query_id where q.study_id = ${stagingStudyId} limit ${CLEAN_UP_CHUNK_ROWS})`,
      sql`delete from queries where id in (select id from queries where study_id = ${stagingStudyId} limit ${CLEAN_UP_CHUNK_ROWS})`,
      sql`delete from prompts where id in (select id from prompts where study_id = ${stagingStudyId} limit ${CLEAN_UP_CHUNK_ROWS})`,
    ];
    for (const statement of steps) {
      while (transact((tx) => tx.run(statement).changes) > 0) yield;
    }
    transact((tx) => {
      if (pending.annotatorIds.length > 0) tx.delete(annotators).where(inArray(annotators.id, pending.annotatorIds)).run();
      tx.delete(studies).where(eq(studies.id, stagingStudyId)).run();
      tx.delete(pendingImports).where(eq(pendingImports.jobId, jobId)).run();
    });
    yield;
  }
}

/** pendingImportCleanUp to the end, at once (the job thread, tests). Returns the transactions it took. */
export function cleanUpPendingImports(db: DB, transact?: Transact): number {
  let chunks = 0;
  for (const _ of pendingImportCleanUp(db, false, transact)) chunks++;
  return chunks;
}
