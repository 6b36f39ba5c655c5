import type { DB } from "../../db/client";

// What a job's work sees on the job thread (job.worker.ts; ADR 0010). A job reads and prepares
// everything first, reporting progress, and writes in one transaction: ctx.commit, which also marks
// the job succeeded, so its rows and its "done" are one commit and a crash leaves neither. A job whose
// rows are many (a raw-log import) writes them invisibly in ctx.chunk transactions first and keeps
// ctx.commit for the small step that makes them visible (ADR 0036).

export type Transaction = Parameters<Parameters<DB["transaction"]>[0]>[0];

/**
 * How long a job's chunk or publishing commit keeps asking for SQLite's write lock before its attempt
 * fails (ADR 0043, 0046). On a loaded machine the job thread, 10 nice steps below the requests, can
 * meet a taken lock at every poll of its 5 s busy timeout while requests write; failing there threw
 * away every chunk written so far.
 */
export const JOB_LOCK_BUDGET_MS = 120_000;

/** What a finished job reports: shown to the owner; `studyId`, `votes` and `responses` also tell the app whom to notify. */
export interface JobResult {
  /** The study the job wrote to (a created study's id); none for a job over every study (re-embedding). */
  studyId?: number;
  /** Votes added (the study's engine then takes them in). */
  votes?: number;
  /** Responses queued for generation (the generation worker is woken). */
  responsesQueued?: number;
  /** Studies whose prompts' features changed: their running engines start again on the new ones. */
  restartEngines?: number[];
  [detail: string]: unknown;
}

export interface JobContext {
  /** The job thread's own connection. */
  db: DB;
  jobId: number;
  /** What the job is doing, for the owner's progress line (written at most a few times a second). */
  progress(phase: string, done: number, total: number): void;
  /**
   * Runs `write` in a short transaction of its own, committed at once (ADR 0036): for a job that
   * writes in chunks rows nobody sees until its `commit` publishes them.
   */
  chunk(write: (tx: Transaction) => void): void;
  /** Runs `write` in one transaction that also marks the job succeeded with what `write` returns. */
  commit(write: (tx: Transaction) => JobResult): JobResult;
  /**
   * After a failed attempt: removes what it staged, invisible anyway, now rather than at the next
   * run. Skipped when the write lock stays taken (the next run removes it first), so the attempt's
   * own error is the one reported.
   */
  discardStaged(): void;
}

/** The job's input cannot be used as it is (the messages say why, line by line): it fails without retrying. */
export class JobInputError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
  }
}

export type JobHandler = (ctx: JobContext, input: unknown) => JobResult;
