import { and, count, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { assignments, prompts, queries, responses, studies, votePublished, votes, type STUDY_STATUSES } from "../../db/schema";
import { db } from "~/db.server";
import { decimalId } from "~/utils/strict-fields";
import type { Availability } from "~/utils/annotate";

// A study's whole life (draft → running ⇄ paused → closed ⇄ archived), the owner's switches on it
// (guidance, goal, reveal, closing on convergence, disabled prompts and queries) and its deletion.

export type StudyStatus = (typeof STUDY_STATUSES)[number];

/** What an owner can do to a study's status, from which statuses, and where it leads. */
export const STATUS_ACTIONS = {
  start: { from: ["draft"], to: "running", label: "Start the study" },
  pause: { from: ["running"], to: "paused", label: "Pause" },
  resume: { from: ["paused"], to: "running", label: "Resume" },
  close: { from: ["draft", "running", "paused"], to: "closed", label: "Close the study" },
  reopen: { from: ["closed"], to: "running", label: "Reopen" },
  archive: { from: ["closed"], to: "archived", label: "Archive" },
  unarchive: { from: ["archived"], to: "closed", label: "Unarchive" },
} as const satisfies Record<string, { from: readonly StudyStatus[]; to: StudyStatus; label: string }>;

export type StatusAction = keyof typeof STATUS_ACTIONS;
const STATUS_ACTION_NAMES = Object.keys(STATUS_ACTIONS) as [StatusAction, ...StatusAction[]];

export const StatusActionSchema = z.object({
  statusAction: z.enum(STATUS_ACTION_NAMES, { error: `statusAction must be one of: ${STATUS_ACTION_NAMES.join(", ")}` }),
});

/** The actions open to an owner in this status, in the order the page offers them. */
export function statusActionsFrom(status: StudyStatus): StatusAction[] {
  return STATUS_ACTION_NAMES.filter((name) => (STATUS_ACTIONS[name].from as readonly StudyStatus[]).includes(status));
}

export type ChangeStatusResult = { ok: true; status: StudyStatus } | { ok: false; error: string };

/**
 * Moves the study along its life if the action applies to its current status (checked inside the
 * write, so two owners clicking at once cannot skip a step). Closing records that the owner did it.
 */
export function changeStudyStatus(studyId: number, action: StatusAction): ChangeStatusResult {
  const { from, to } = STATUS_ACTIONS[action];
  return db().transaction((tx): ChangeStatusResult => {
    const study = tx.select({ status: studies.status }).from(studies).where(eq(studies.id, studyId)).get();
    if (!study) return { ok: false, error: "Study not found" };
    if (!(from as readonly StudyStatus[]).includes(study.status)) {
      return { ok: false, error: `A ${study.status} study cannot ${action === "close" ? "be closed" : action}; it is ${study.status}.` };
    }
    const closedReason = to === "closed" && action === "close" ? "owner" : to === "running" ? null : undefined;
    tx.update(studies)
      .set({ status: to, ...(closedReason !== undefined ? { closedReason } : {}) })
      .where(eq(studies.id, studyId))
      .run();
    return { ok: true, status: to };
  });
}

/**
 * Called when the stopping rule fires: a running study that closes on convergence becomes closed
 * (reason "converged"), so annotators are told it is complete. Returns whether it closed.
 */
export function closeStudyOnConvergence(studyId: number): boolean {
  const result = db()
    .update(studies)
    .set({ status: "closed", closedReason: "converged" })
    .where(and(eq(studies.id, studyId), eq(studies.status, "running"), eq(studies.closeOnConvergence, true)))
    .run();
  return result.changes > 0;
}

export function annotationAvailability(status: StudyStatus): Availability {
  switch (status) {
    case "running":
      return "open";
    case "draft":
      return "not_started";
    case "paused":
      return "paused";
    case "closed":
    case "archived":
      return "complete";
  }
}

const optionalWholeNumber = z.preprocess(
  (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
  z.coerce
    .number({ error: "The goal must be a whole number of votes" })
    .int("The goal must be a whole number of votes")
    .min(1, "The goal must be at least 1 vote")
    .max(100_000, "The goal must be at most 100000 votes")
    .optional(),
);

// A checkbox posts "on" when ticked and nothing when not.
const checkbox = z.preprocess((value) => value === "on" || value === "true", z.boolean());

export const GuidanceFormSchema = z.object({
  guidelines: z
    .string()
    .max(20_000, "The guidelines must be at most 20000 characters")
    .optional()
    .transform((value) => (value && value.trim() !== "" ? value.trim() : null)),
  annotatorGoal: optionalWholeNumber.transform((value) => value ?? null),
  revealWinner: checkbox,
  closeOnConvergence: checkbox,
});

export type GuidanceInput = z.infer<typeof GuidanceFormSchema>;

/** Saves what annotators are told and how the study behaves for them. */
export function updateStudyGuidance(studyId: number, input: GuidanceInput): void {
  db().update(studies).set(input).where(eq(studies.id, studyId)).run();
}

export const ActiveFormSchema = z.object({
  kind: z.enum(["prompt", "query"], { error: "kind must be prompt or query" }),
  id: decimalId("id must be a positive whole number"),
  active: z.enum(["true", "false"], { error: "active must be true or false" }).transform((value) => value === "true"),
});

/**
 * Enables or disables a prompt or a query of this study. A disabled one leaves selection (the engine's arms and
 * proposals, the random fallback, the recommendation); its responses and votes stay, marked in exports. Enabling a
 * prompt the retirement rule retired brings it back: it rejoins selection and the rule leaves it alone from then on
 * (its retirement figures stay on record). Returns null when the id is not in this study, else whether the prompt
 * had been retired.
 */
export function setItemActive(studyId: number, input: z.infer<typeof ActiveFormSchema>): { wasRetired: boolean } | null {
  if (input.kind === "query") {
    const result = db()
      .update(queries)
      .set({ active: input.active })
      .where(and(eq(queries.id, input.id), eq(queries.studyId, studyId)))
      .run();
    return result.changes > 0 ? { wasRetired: false } : null;
  }
  const where = and(eq(prompts.id, input.id), eq(prompts.studyId, studyId));
  const before = db().select({ retiredAt: prompts.retiredAt }).from(prompts).where(where).get();
  if (!before) return null;
  const wasRetired = input.active && before.retiredAt !== null;
  db()
    .update(prompts)
    .set(wasRetired ? { active: true, retiredAt: null, keptByOwner: true } : { active: input.active })
    .where(where)
    .run();
  return { wasRetired };
}

/** What deleting the study would destroy, for the confirmation page. */
export function studyDeletionSummary(studyId: number) {
  const n = (query: { get(): { n: number } | undefined }) => query.get()?.n ?? 0;
  const promptIds = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId));
  return {
    prompts: n(db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId))),
    queries: n(db().select({ n: count() }).from(queries).where(eq(queries.studyId, studyId))),
    responses: n(db().select({ n: count() }).from(responses).where(inArray(responses.promptId, promptIds))),
    votes: n(
      db()
        .select({ n: count() })
        .from(votes)
        .where(and(eq(votes.studyId, studyId), votePublished)),
    ),
    annotators: n(
      db()
        .select({ n: sql<number>`count(distinct ${votes.annotatorId})` })
        .from(votes)
        .where(and(eq(votes.studyId, studyId), votePublished)),
    ),
    comments: n(
      db()
        .select({ n: count() })
        .from(votes)
        .where(and(eq(votes.studyId, studyId), votePublished, sql`${votes.comment} is not null`)),
    ),
    assignments: n(db().select({ n: count() }).from(assignments).where(eq(assignments.studyId, studyId))),
  };
}

/**
 * Deletes the study and everything in it (prompts, queries, responses, assignments, votes, engine
 * snapshots: the foreign keys cascade) in one transaction. The caller stops its engine afterwards.
 */
export function deleteStudy(studyId: number): boolean {
  return db().delete(studies).where(eq(studies.id, studyId)).run().changes > 0;
}
