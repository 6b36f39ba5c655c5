import { and, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { assignments, queries, responses, studies, VOTE_CHOICES, votes, type VoteChoice } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { db, prepared } from "~/db.server";
import { decimalId, jsonId, optionalFormInteger } from "~/utils/strict-fields";
import { COMMENT_MAX, LATENCY_MAX_MS } from "./vote-limits";

const choiceField = z.enum(VOTE_CHOICES, { error: `choice must be one of: ${VOTE_CHOICES.join(", ")}` });
const commentField = z.string({ error: "comment must be text" }).trim().max(COMMENT_MAX, `comment must be at most ${COMMENT_MAX} characters`);
const latencyMessage = `latencyMs must be a whole number of milliseconds from 0 to ${LATENCY_MAX_MS}`;

/** The annotate page's vote form: every field a string. A blank latency means it was not measured (null). */
export const VoteFormSchema = z.object({
  assignmentId: decimalId("assignmentId must be a positive whole number"),
  choice: choiceField,
  comment: commentField.optional().transform((value) => value || null),
  latencyMs: optionalFormInteger({ min: 0, max: LATENCY_MAX_MS, message: latencyMessage }),
});

/** The same vote in a JSON body: exact JSON types; null (or leaving a field out) means "none" and is stored as null. */
export const VoteJsonSchema = z.object({
  assignmentId: jsonId("assignmentId must be a positive whole number"),
  choice: choiceField,
  comment: commentField
    .nullable()
    .optional()
    .transform((value) => value || null),
  latencyMs: z
    .number({ error: latencyMessage })
    .int(latencyMessage)
    .min(0, latencyMessage)
    .max(LATENCY_MAX_MS, latencyMessage)
    .nullable()
    .optional()
    .transform((value) => value ?? null),
});

export interface VoteInput {
  assignmentId: number;
  choice: VoteChoice;
  comment: string | null;
  latencyMs?: number | null;
}

export type RecordVoteResult = { status: "recorded" | "duplicate" } | { status: "not_found" | "forbidden" };

/**
 * Records the annotator's choice for an assignment in one transaction: the vote row and the
 * assignment's status change land together or not at all. A second submit of the same assignment
 * (double click, retry, back button) is a no-op thanks to the unique assignment_id. A vote on an
 * expired assignment still counts once: the click was real.
 */
export function recordVote(studyId: number, annotatorId: number, input: VoteInput): RecordVoteResult {
  const statements = voteStatements();
  return db().transaction(() => {
    const assignment = statements.assignment.get({ assignmentId: input.assignmentId, studyId });
    if (!assignment) return { status: "not_found" as const };
    if (assignment.annotatorId !== annotatorId) return { status: "forbidden" as const };
    const inserted = statements.insert.run({
      assignmentId: assignment.id,
      studyId,
      annotatorId,
      choice: input.choice,
      comment: input.comment,
      latencyMs: input.latencyMs ?? null,
    });
    if (inserted.changes === 0) return { status: "duplicate" as const };
    statements.markAnswered.run({ assignmentId: assignment.id });
    return { status: "recorded" as const };
  });
}

const responseA = alias(responses, "response_a");
const responseB = alias(responses, "response_b");

/**
 * What the annotator sees for an assignment: the query and the two responses, generated with the
 * study's current settings, in display order. Deliberately carries no prompt ids or texts (blind).
 */
export function getAssignmentView(assignmentId: number) {
  const statements = voteStatements();
  const study = statements.studySettings.get({ assignmentId });
  if (!study) return null;
  const row = statements.view.get({ assignmentId, settingsHash: generationSettingsHash(study) });
  if (!row) return null;
  return {
    assignmentId: row.id,
    query: row.query,
    left: (row.leftIsA ? row.responseA : row.responseB) ?? "",
    right: (row.leftIsA ? row.responseB : row.responseA) ?? "",
  };
}

/** The statements every vote and pair view runs, prepared once per connection. */
function voteStatements() {
  return prepared("vote", (database) => ({
    assignment: database
      .select()
      .from(assignments)
      .where(and(eq(assignments.id, sql.placeholder("assignmentId")), eq(assignments.studyId, sql.placeholder("studyId"))))
      .prepare(),
    insert: database
      .insert(votes)
      .values({
        assignmentId: sql.placeholder("assignmentId"),
        studyId: sql.placeholder("studyId"),
        annotatorId: sql.placeholder("annotatorId"),
        choice: sql.placeholder("choice"),
        comment: sql.placeholder("comment"),
        latencyMs: sql.placeholder("latencyMs"),
      })
      .onConflictDoNothing({ target: votes.assignmentId })
      .prepare(),
    markAnswered: database
      .update(assignments)
      .set({ status: "answered" })
      .where(eq(assignments.id, sql.placeholder("assignmentId")))
      .prepare(),
    studySettings: database
      .select({ model: studies.model, temperature: studies.temperature, maxTokens: studies.maxTokens, seed: studies.seed })
      .from(assignments)
      .innerJoin(studies, eq(studies.id, assignments.studyId))
      .where(eq(assignments.id, sql.placeholder("assignmentId")))
      .prepare(),
    view: database
      .select({
        id: assignments.id,
        leftIsA: assignments.leftIsA,
        query: queries.text,
        responseA: responseA.content,
        responseB: responseB.content,
      })
      .from(assignments)
      .innerJoin(queries, eq(queries.id, assignments.queryId))
      .innerJoin(
        responseA,
        and(
          eq(responseA.promptId, assignments.promptAId),
          eq(responseA.queryId, assignments.queryId),
          eq(responseA.settingsHash, sql.placeholder("settingsHash")),
        ),
      )
      .innerJoin(
        responseB,
        and(
          eq(responseB.promptId, assignments.promptBId),
          eq(responseB.queryId, assignments.queryId),
          eq(responseB.settingsHash, sql.placeholder("settingsHash")),
        ),
      )
      .where(eq(assignments.id, sql.placeholder("assignmentId")))
      .prepare(),
  }));
}
