import { eq } from "drizzle-orm";
import { studies, type JobRequester } from "../../db/schema";
import { actorLabel, type TokenActor, type UserActor } from "~/auth/actor.server";
import { assertPermission, ownerSideActor, type StudyAccess } from "~/auth/authorize.server";
import { connection, db } from "~/db.server";
import { env } from "~/env.server";
import { discardStudyEngine, selectionChanged } from "~/engine/engine.server";
import type { ExportOptions } from "~/export/export-options.server";
import { applyJobIntent } from "~/jobs/job-view.server";
import { createJob, getJob, type Job } from "~/jobs/jobs.server";
import { kickJobs } from "~/jobs/runner.server";
import { ResponseCapError, retryFailedResponses } from "~/llm/generation-queue.server";
import { describePlan, needsConfirmation, type ResponsePlan } from "~/llm/response-plan.server";
import { providerConfig, wakeGeneration } from "~/llm/runtime.server";
import { planGrowth, queueGrowthRound, type GrowthPlan } from "~/llm/growth.server";
import { requestVariants, retryFailedVariantRequests } from "~/llm/variants.server";
import { updateRetirementSettings, type RetirementSettings } from "~/models/retirement.server";
import {
  changeStudyStatus,
  setItemActive,
  updateStudyGuidance,
  type ActiveFormSchema,
  type ChangeStatusResult,
  type GuidanceInput,
  type StatusAction,
} from "~/models/study-lifecycle.server";
import { setQueryTags } from "~/models/query-results.server";
import { planOffThread } from "~/models/setup-parse.server";
import { addToStudy, studyHasPrompt, type NewPrompt, type NewStudy } from "~/models/study-setup.server";
import { getStudy } from "~/models/study.server";
import type { ParsedQuery, ParsedResponse } from "~/utils/study-files.server";
import type { RawUpload } from "~/utils/upload-form.server";
import type { z } from "zod";
import { auditAs, auditStudy } from "./audit.server";

// Owner-side changes to a study. Each one: check the access it is handed, one transaction with its
// audit row, then (after the commit) wake the generation worker, the job thread or the study's engine.
// Operations too big for a request are background jobs (ADR 0010): the job records who queued it and
// writes the audit row in the same transaction as its rows (app/jobs/job.worker.ts).

function requesterOf(actor: UserActor | TokenActor): JobRequester {
  return {
    userId: actor.kind === "user" ? actor.user.id : actor.token.userId,
    tokenId: actor.kind === "token" ? actor.token.id : null,
    label: actorLabel(actor),
  };
}

/** Queues the creation of a study owned by the signed-in account (waiting for a confirmation of its size and cost when `plan` needs one). */
export async function createStudyAs(actor: UserActor, input: NewStudy, plan: ResponsePlan): Promise<Job> {
  const job = await createJob(db(), connection().path, {
    kind: "create-study",
    studyId: null,
    input: { ...input, ownerUserId: actor.user.id },
    plan: { ...plan },
    awaitConfirmation: needsConfirmation(plan),
    requestedBy: requesterOf(actor),
  });
  kickJobs();
  return job;
}

/** A create-study job the account queued (another account's pending study is none of its business). */
export function ownStudyCreationJob(actor: UserActor, jobId: number): Job | undefined {
  const job = getJob(db(), jobId);
  return job && job.kind === "create-study" && job.requestedBy?.userId === actor.user.id ? job : undefined;
}

/** Queues prompts or queries to add, planned first (prompts x queries = responses, their cost); a large one waits for a confirmation. */
export async function queueAdditionAs(access: StudyAccess, additions: { prompts: NewPrompt[]; queries: ParsedQuery[] }, plan: ResponsePlan) {
  assertPermission(access, "study:edit");
  const confirm = needsConfirmation(plan);
  const job = await createJob(db(), connection().path, {
    kind: "add-to-study",
    studyId: access.studyId,
    input: { studyId: access.studyId, ...additions },
    plan: { ...plan },
    awaitConfirmation: confirm,
    requestedBy: requesterOf(ownerSideActor(access)),
  });
  kickJobs();
  return { job, confirm };
}

/**
 * Adds prompts or queries at once (the JSON API): only an addition the setup page would not ask to
 * confirm, within the study's cap. Planned on the parse thread as the setup page's additions are
 * (planOffThread): the plan reads the whole study, however few the additions.
 */
export async function addToStudyAs(
  access: StudyAccess,
  additions: { prompts: NewPrompt[]; queries: ParsedQuery[] },
): Promise<
  | ({ ok: true } & ReturnType<typeof addToStudy>)
  | {
      ok: false;
      error: string;
      plan?: ResponsePlan;
    }
> {
  assertPermission(access, "study:edit");
  const planned = await planOffThread(
    { additions: { promptTexts: additions.prompts.map((prompt) => prompt.text), queryTexts: additions.queries.map((query) => query.text) } },
    { studyId: access.studyId, provider: providerConfig(), responseCap: env().RESPONSES_PER_STUDY_MAX, databasePath: connection().path },
  );
  if (!planned) return { ok: false, error: "Study not found" };
  if ("capError" in planned) return { ok: false, error: planned.capError };
  const plan = planned.plan;
  if (needsConfirmation(plan)) {
    return { ok: false, error: `${describePlan(plan)} An addition this large is confirmed by an owner on the setup page.`, plan };
  }
  const added = db().transaction((tx) => {
    const result = addToStudy(tx, access.studyId, additions);
    if (additions.prompts.length > 0) auditStudy(tx, access, "prompts.added", { added: result.promptsAdded, duplicates: result.promptDuplicates });
    if (additions.queries.length > 0) auditStudy(tx, access, "queries.added", { added: result.queriesAdded, duplicates: result.queryDuplicates });
    return result;
  });
  wakeGeneration();
  return { ok: true, ...added };
}

/** Queues an import of pre-generated responses (checked and written by the job). */
export async function queueResponsesImportAs(access: StudyAccess, responses: ParsedResponse[]): Promise<Job> {
  assertPermission(access, "study:edit");
  const job = await createJob(db(), connection().path, {
    kind: "import-responses",
    studyId: access.studyId,
    input: { studyId: access.studyId, responses },
    requestedBy: requesterOf(ownerSideActor(access)),
  });
  kickJobs();
  return job;
}

/**
 * Queues a raw JSONL log import: the upload's bytes are stored as they came; the job decodes, checks
 * and writes them all or nothing; the engine hears of the votes after its commit.
 */
export async function queueRawLogImportAs(access: StudyAccess, log: RawUpload): Promise<Job> {
  assertPermission(access, "study:edit");
  const job = await createJob(db(), connection().path, {
    kind: "import-log",
    studyId: access.studyId,
    input: { studyId: access.studyId, fileName: log.name },
    attachment: log.bytes,
    requestedBy: requesterOf(ownerSideActor(access)),
  });
  kickJobs();
  return job;
}

const JOB_INTENT_AUDIT = { "confirm-job": "job.confirmed", "cancel-job": "job.cancelled", "retry-job": "job.retried" } as const;

/**
 * An owner's confirm / cancel / retry of one of the study's jobs, audited. Confirming is a person's
 * decision (issue 14: the owner sees the figures and confirms them): an API token may queue a large
 * addition and cancel it, never confirm its size and cost, or a script could spend past the threshold.
 */
export function applyJobIntentAs(access: StudyAccess, fields: Record<string, unknown>): ReturnType<typeof applyJobIntent> {
  assertPermission(access, "study:edit");
  if (fields.intent === "confirm-job" && access.actor.kind === "token")
    return { ok: false, error: "An API token cannot confirm a job: a person signed in to the study confirms its figures on the setup page" };
  const applied = db().transaction((tx) => {
    const applied = applyJobIntent(fields, access.studyId);
    if (applied.ok) auditStudy(tx, access, JOB_INTENT_AUDIT[applied.intent], { jobId: applied.jobId });
    return applied;
  });
  // After the commit: the job thread reads the job on its own connection.
  if (applied.ok) kickJobs();
  return applied;
}

/** The same for a study being created, by the account that queued it. */
export function applyStudyCreationIntentAs(actor: UserActor, fields: Record<string, unknown>) {
  const jobId = Number(fields.jobId);
  if (!Number.isSafeInteger(jobId) || !ownStudyCreationJob(actor, jobId))
    return { ok: false as const, error: `No study of yours is being created as job #${String(fields.jobId)}` };
  const applied = db().transaction((tx) => {
    const applied = applyJobIntent(fields, null);
    if (applied.ok) auditAs(tx, actor, null, JOB_INTENT_AUDIT[applied.intent], { jobId: applied.jobId });
    return applied;
  });
  if (applied.ok) kickJobs();
  return applied;
}

export type GrowPoolResult =
  | { ok: true; roundId: number; parents: number[] }
  | { ok: false; error: string }
  | { ok: false; confirm: true; description: string; plan: ResponsePlan };

/**
 * Queues a round growing the pool by `count` prompts from the top `parents` prompts in selection (app/llm/growth.server.ts).
 * Refused without a provider, past the pool cap or the response cap. A round whose responses and calls pass the
 * confirmation thresholds asks for a person's confirmation first (`confirmed`), as additions do: an API token cannot
 * give it.
 */
export function growPoolAs(access: StudyAccess, request: { count: number; parents: number; confirmed: boolean }): GrowPoolResult {
  assertPermission(access, "study:edit");
  const provider = providerConfig();
  if (!provider)
    return { ok: false, error: "Growing the pool asks an LLM for new prompts: configure a provider (OPENAI_BASE_URL, OPENAI_API_KEY) first." };
  const outcome = db().transaction((tx): GrowPoolResult => {
    let growth: GrowthPlan | null;
    try {
      growth = planGrowth(tx, access.studyId, request.count, request.parents, provider);
    } catch (error) {
      if (error instanceof ResponseCapError) return { ok: false, error: error.message };
      throw error;
    }
    if (!growth) return { ok: false, error: "The study has no prompt in selection to grow from." };
    const study = getStudy(access.studyId)!;
    if (study.poolCap !== null && growth.inSelectionAfter > study.poolCap) {
      return {
        ok: false,
        error: `The pool would hold ${growth.inSelectionAfter} prompts in selection, above its cap of ${study.poolCap}: retire or disable some first, grow by fewer, or raise the cap.`,
      };
    }
    const description = `${request.count} mutation calls to ${study.model}, then: ${describePlan(growth.plan)}`;
    if (needsConfirmation(growth.plan) && !(request.confirmed && access.actor.kind !== "token")) {
      return { ok: false, confirm: true, description, plan: growth.plan };
    }
    const roundId = queueGrowthRound(tx, {
      studyId: access.studyId,
      count: request.count,
      model: study.model,
      leaders: growth.leaders,
      instruction: growth.instruction,
      requestedBy: requesterOf(ownerSideActor(access)),
    });
    auditStudy(tx, access, "pool.grown", { roundId, requested: request.count, parents: growth.leaders.map((leader) => leader.promptId) });
    return { ok: true, roundId, parents: growth.leaders.map((leader) => leader.promptId) };
  });
  if (outcome.ok) wakeGeneration();
  return outcome;
}

/** The retirement rule's settings and the pool cap; applied from the study's next snapshot on. */
export function updateRetirementAs(access: StudyAccess, settings: RetirementSettings): void {
  assertPermission(access, "study:edit");
  db().transaction((tx) => {
    updateRetirementSettings(tx, access.studyId, settings);
    auditStudy(tx, access, "study.retirement_changed", { ...settings });
  });
  // The rule runs after the engine's next statistics: ask for them now rather than at the next vote.
  selectionChanged(access.studyId);
}

/** Asks the provider for `count` variants of one of the study's prompts; false (nothing written) when the seed is not the study's. */
export function requestVariantsAs(access: StudyAccess, request: { seedPromptId: number; count: number }): boolean {
  assertPermission(access, "study:edit");
  const requested = db().transaction((tx) => {
    if (!studyHasPrompt(tx, access.studyId, request.seedPromptId)) return false;
    requestVariants(tx, { studyId: access.studyId, ...request });
    auditStudy(tx, access, "variants.requested", request);
    return true;
  });
  if (requested) wakeGeneration();
  return requested;
}

export function retryFailedAs(access: StudyAccess): number {
  assertPermission(access, "study:edit");
  const retried = db().transaction((tx) => {
    const count = retryFailedResponses(tx, access.studyId) + retryFailedVariantRequests(tx, access.studyId);
    auditStudy(tx, access, "generation.retried", { items: count });
    return count;
  });
  wakeGeneration();
  return retried;
}

/** Start, pause, resume, close, reopen or archive the study. */
export function changeStudyStatusAs(access: StudyAccess, action: StatusAction): ChangeStatusResult {
  assertPermission(access, "study:edit");
  return db().transaction((tx) => {
    const result = changeStudyStatus(access.studyId, action);
    if (result.ok) auditStudy(tx, access, "study.status_changed", { action });
    return result;
  });
}

/** What annotators see: guidelines, their goal, whether the winner is revealed; and whether convergence closes the study. */
export function updateGuidanceAs(access: StudyAccess, guidance: GuidanceInput): void {
  assertPermission(access, "study:edit");
  db().transaction((tx) => {
    updateStudyGuidance(access.studyId, guidance);
    auditStudy(tx, access, "study.guidance_changed", {
      ...guidance,
      guidelines: guidance.guidelines === null ? null : `${guidance.guidelines.length} characters`,
    });
  });
}

/**
 * Enables or disables a prompt or query (enabling a retired prompt brings it back); pair selection sees it at once
 * and the study's engine after the commit. False when the study has no such item.
 */
export function setItemActiveAs(access: StudyAccess, input: z.infer<typeof ActiveFormSchema>): boolean {
  assertPermission(access, "study:edit");
  const changed = db().transaction((tx) => {
    const result = setItemActive(access.studyId, input);
    if (!result) return false;
    const action = result.wasRetired ? "prompt.restored" : input.active ? "item.enabled" : "item.disabled";
    auditStudy(tx, access, action, { kind: input.kind, id: input.id });
    return true;
  });
  if (changed) selectionChanged(access.studyId);
  return changed;
}

/** Replaces a query's tags (normalised, app/models/query-tags.ts); false when the query is not in the study. */
export function setQueryTagsAs(access: StudyAccess, input: { queryId: number; tags: string[] }): boolean {
  assertPermission(access, "study:edit");
  return db().transaction((tx) => {
    if (!setQueryTags(tx, access.studyId, input.queryId, input.tags)) return false;
    auditStudy(tx, access, "query.tags_changed", { queryId: input.queryId, tags: input.tags });
    return true;
  });
}

/** Records that an export was downloaded (the file itself streams from a read-only connection). */
export function recordExportAs(access: StudyAccess, options: ExportOptions): void {
  assertPermission(access, "study:export");
  db().transaction((tx) => auditStudy(tx, access, "export.downloaded", { ...options }));
}

/**
 * Deletes the study and everything in it (prompts, responses, votes, links, tokens, memberships);
 * its audit log stays, ending with the deletion. `confirmName` must repeat the study's name.
 */
export async function deleteStudyAs(access: StudyAccess, confirmName: string): Promise<{ ok: true } | { ok: false; message: string }> {
  assertPermission(access, "study:manage");
  const deleted = db().transaction((tx) => {
    const study = tx.select({ name: studies.name }).from(studies).where(eq(studies.id, access.studyId)).get();
    if (!study) return { ok: false, message: "Study not found" } as const;
    if (study.name.trim() !== confirmName.trim())
      return { ok: false, message: "Type the study's name exactly to confirm; nothing was deleted." } as const;
    auditStudy(tx, access, "study.deleted", { name: study.name });
    tx.delete(studies).where(eq(studies.id, access.studyId)).run();
    return { ok: true } as const;
  });
  // After the commit: the study's engine has nothing left to learn from.
  if (deleted.ok) await discardStudyEngine(access.studyId);
  return deleted;
}
