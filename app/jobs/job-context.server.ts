import type { DB } from "../../db/client";

// What a job's work sees on the job thread (job.worker.ts; ADR 0010). A job reads and prepares
// everything first, reporting progress, and writes in one transaction: ctx.commit, which also marks
// the job succeeded, so its rows and its "done" are one commit and a crash leaves neither. A job whose
// rows are many (a raw-log import) writes them invisibly in ctx.chunk transactions first and keeps
// ctx.commit for the small step that makes them visible (ADR 0036).

export type Transaction = Parameters<Parameters<DB["transaction"]>[0]>[0];

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
}

/** The job's input cannot be used as it is (the messages say why, line by line): it fails without retrying. */
export class JobInputError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join("\n"));
  }
}

export type JobHandler = (ctx: JobContext, input: unknown) => JobResult;
