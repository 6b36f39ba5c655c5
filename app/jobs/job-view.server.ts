import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { connection, db } from "~/db.server";
import { describePlan, type ResponsePlan } from "~/llm/response-plan.server";
import { decimalId } from "~/utils/strict-fields";
import { cancelJob, confirmJob, jobsFolder, retryJob, type Job } from "./jobs.server";

// Jobs as the owner's pages show them (app/components/job-status.tsx) and the three things an owner
// does with one: confirm it, cancel it (only while it waits for that) or retry it.

export interface JobView {
  id: number;
  kind: Job["kind"];
  state: Job["state"];
  phase: string | null;
  progressDone: number;
  progressTotal: number;
  attempts: number;
  errors: string[];
  result: Record<string, unknown> | null;
  /** The figures to confirm, while the job waits for the owner. */
  confirmation: string | null;
  /** Whether Retry would run it again (it failed with its input kept). */
  retryable: boolean;
}

export function jobView(job: Job): JobView {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    phase: job.phase,
    progressDone: job.progressDone,
    progressTotal: job.progressTotal,
    attempts: job.attempts,
    errors: job.errors ?? [],
    result: job.result,
    confirmation:
      job.state === "awaiting_confirmation" && job.plan ? `${describePlan(job.plan as unknown as ResponsePlan)} Confirm to go ahead.` : null,
    retryable: job.state === "failed" && fs.existsSync(path.join(jobsFolder(connection().path), job.inputFile)),
  };
}

export const JOB_INTENTS = ["confirm-job", "cancel-job", "retry-job"] as const;

const JobIntentSchema = z.object({
  intent: z.enum(JOB_INTENTS),
  jobId: decimalId("jobId must be a job id"),
});

/**
 * Applies an owner's confirm / cancel / retry to a job of `studyId` (null: a study being created).
 * Answers what to tell the owner, or the problem (a 400 for the page). The caller kicks the job
 * queue after its transaction commits (app/services): the job thread reads the job on its own connection.
 */
export function applyJobIntent(
  fields: Record<string, unknown>,
  studyId: number | null,
): { ok: true; notice: string; intent: (typeof JOB_INTENTS)[number]; jobId: number } | { ok: false; error: string } {
  const parsed = JobIntentSchema.safeParse(fields);
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((issue) => issue.message).join("; ") };
  const { intent, jobId } = parsed.data;
  switch (intent) {
    case "confirm-job":
      if (!confirmJob(db(), jobId, studyId)) return { ok: false, error: `Job #${jobId} is not waiting for a confirmation` };
      return { ok: true, intent, jobId, notice: `Job #${jobId} confirmed: it runs in the background.` };
    case "cancel-job":
      if (!cancelJob(db(), connection().path, jobId, studyId)) return { ok: false, error: `Job #${jobId} is not waiting for a confirmation` };
      return { ok: true, intent, jobId, notice: `Job #${jobId} cancelled: nothing was written.` };
    case "retry-job":
      if (!retryJob(db(), connection().path, jobId, studyId)) return { ok: false, error: `Job #${jobId} cannot be retried` };
      return { ok: true, intent, jobId, notice: `Job #${jobId} queued again.` };
  }
}

export function isJobIntent(intent: unknown): boolean {
  return typeof intent === "string" && (JOB_INTENTS as readonly string[]).includes(intent);
}
