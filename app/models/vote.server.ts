import { and, count, desc, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { assignments, prompts, queries, responses, studies, VOTE_CHOICES, votes, type VoteChoice } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { db, prepared } from "~/db.server";
import { UNDO_WINDOW_MS } from "~/utils/annotate";
import { decimalId, jsonId, optionalFormInteger } from "~/utils/strict-fields";
import { issueAssignment } from "./assignment.server";
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

export type RecordVoteResult =
  | { status: "recorded" }
  // The assignment was already answered: with this same choice (a double click, a retry), or with
  // another one (a stale tab), which is then ignored; either way the first vote is the one counted.
  | { status: "duplicate" | "conflict"; recordedChoice: VoteChoice }
  // Its vote was undone and the pair handed out again as a newer assignment: a late vote here is refused.
  | { status: "withdrawn" }
  | { status: "not_found" | "forbidden" };

/**
 * Records the annotator's choice for an assignment in one transaction: the vote row and the
 * assignment's status change land together or not at all. A second submit of the same assignment
 * (double click, retry, back button, a stale tab) changes nothing thanks to the unique assignment_id,
 * and says whether it agreed with the vote already counted. A vote on an expired assignment still
 * counts once: the click was real.
 */
export function recordVote(studyId: number, annotatorId: number, input: VoteInput): RecordVoteResult {
  const statements = voteStatements();
  return db().transaction((): RecordVoteResult => {
    const assignment = statements.assignment.get({ assignmentId: input.assignmentId, studyId });
    if (!assignment) return { status: "not_found" };
    if (assignment.annotatorId !== annotatorId) return { status: "forbidden" };
    if (assignment.status === "withdrawn") return { status: "withdrawn" };
    const inserted = statements.insert.run({
      assignmentId: assignment.id,
      studyId,
      annotatorId,
      choice: input.choice,
      comment: input.comment,
      latencyMs: input.latencyMs ?? null,
    });
    if (inserted.changes === 0) {
      const recordedChoice = statements.choiceOf.get({ assignmentId: assignment.id })!.choice;
      return { status: recordedChoice === input.choice ? "duplicate" : "conflict", recordedChoice };
    }
    statements.markAnswered.run({ assignmentId: assignment.id });
    return { status: "recorded" };
  });
}

export const UndoFormSchema = z.object({
  assignmentId: z.coerce.number({ error: "assignmentId must be a number" }).int().positive(),
});

export type UndoVoteResult = { status: "undone"; assignmentId: number; comment: string | null } | { status: "too_late" | "not_found" };

// Slack on the server for a click made as the Undo button was about to go (network, a slow render).
const UNDO_GRACE_MS = 3_000;

/**
 * Takes back the annotator's latest vote in this study, within UNDO_WINDOW_MS of casting it, in one
 * transaction: the vote row is deleted, its assignment marked withdrawn (a late vote on it is refused),
 * the pair they were handed next returns to the pool, and the same pair, query and sides are handed
 * to them again as a new assignment (their latest, so it is the one the page shows). Voting again then
 * records one vote: the first is replaced, never counted twice. The caller tells the engine that the
 * study's history changed, after the commit.
 */
export function undoVote(studyId: number, annotatorId: number, assignmentId: number, now: Date = new Date()): UndoVoteResult {
  const statements = voteStatements();
  return db().transaction((): UndoVoteResult => {
    const latest = statements.latestVoteOf.get({ studyId, annotatorId });
    if (!latest || latest.assignmentId !== assignmentId) return { status: "not_found" };
    if (now.getTime() - latest.createdAt.getTime() > UNDO_WINDOW_MS + UNDO_GRACE_MS) return { status: "too_late" };
    const voted = statements.assignment.get({ assignmentId, studyId })!;
    statements.deleteVote.run({ voteId: latest.id });
    statements.markWithdrawn.run({ assignmentId });
    statements.releaseOpen.run({ studyId, annotatorId });
    const again = issueAssignment({
      studyId,
      annotatorId,
      promptAId: voted.promptAId,
      promptBId: voted.promptBId,
      queryId: voted.queryId,
      leftIsA: voted.leftIsA,
      issuedAt: now,
      policy: voted.policy,
      engineRound: voted.engineRound,
      // An undone audit or gold item stays one: the check is answered again, not turned into work.
      purpose: voted.purpose,
      auditOf: voted.auditOf,
    });
    return { status: "undone", assignmentId: again.id, comment: latest.comment };
  });
}

/** How many votes this annotator has cast in this study (skips included: each was an answer). */
export function countAnnotatorVotes(studyId: number, annotatorId: number): number {
  return voteStatements().countOf.get({ studyId, annotatorId })?.n ?? 0;
}

/**
 * The annotator's latest vote in this study while it can still be undone, with what the page shows
 * about it: the choice and, when the study reveals winners, the owner's labels of the two prompts in
 * display order (never their texts). Null once the window has passed.
 */
export function undoableVote(studyId: number, annotatorId: number, options: { revealPrompts: boolean; now?: Date }) {
  const statements = voteStatements();
  const latest = statements.latestVoteOf.get({ studyId, annotatorId });
  if (!latest) return null;
  const remainingMs = UNDO_WINDOW_MS - ((options.now ?? new Date()).getTime() - latest.createdAt.getTime());
  if (remainingMs <= 0) return null;
  let revealed: { left: string; right: string } | null = null;
  if (options.revealPrompts) {
    const shown = statements.shownPrompts.get({ assignmentId: latest.assignmentId });
    if (shown) {
      const name = (id: number, label: string | null) => (label ? `${label} (#${id})` : `prompt #${id}`);
      const a = name(shown.promptAId, shown.labelA);
      const b = name(shown.promptBId, shown.labelB);
      revealed = shown.leftIsA ? { left: a, right: b } : { left: b, right: a };
    }
  }
  return { assignmentId: latest.assignmentId, choice: latest.choice, remainingMs, revealed };
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
    choiceOf: database
      .select({ choice: votes.choice })
      .from(votes)
      .where(eq(votes.assignmentId, sql.placeholder("assignmentId")))
      .prepare(),
    latestVoteOf: database
      .select({ id: votes.id, assignmentId: votes.assignmentId, choice: votes.choice, comment: votes.comment, createdAt: votes.createdAt })
      .from(votes)
      .where(and(eq(votes.annotatorId, sql.placeholder("annotatorId")), eq(votes.studyId, sql.placeholder("studyId"))))
      .orderBy(desc(votes.id))
      .limit(1)
      .prepare(),
    countOf: database
      .select({ n: count() })
      .from(votes)
      .where(and(eq(votes.annotatorId, sql.placeholder("annotatorId")), eq(votes.studyId, sql.placeholder("studyId"))))
      .prepare(),
    deleteVote: database
      .delete(votes)
      .where(eq(votes.id, sql.placeholder("voteId")))
      .prepare(),
    markWithdrawn: database
      .update(assignments)
      .set({ status: "withdrawn" })
      .where(eq(assignments.id, sql.placeholder("assignmentId")))
      .prepare(),
    // The pair handed out after the undone vote goes back to the pool (an annotator holds one open assignment).
    releaseOpen: database
      .update(assignments)
      .set({ status: "expired" })
      .where(
        and(
          eq(assignments.annotatorId, sql.placeholder("annotatorId")),
          eq(assignments.studyId, sql.placeholder("studyId")),
          eq(assignments.status, "open"),
        ),
      )
      .prepare(),
    shownPrompts: database
      .select({
        promptAId: assignments.promptAId,
        promptBId: assignments.promptBId,
        leftIsA: assignments.leftIsA,
        labelA: sql<string | null>`(select ${prompts.label} from ${prompts} where ${prompts.id} = ${assignments.promptAId})`,
        labelB: sql<string | null>`(select ${prompts.label} from ${prompts} where ${prompts.id} = ${assignments.promptBId})`,
      })
      .from(assignments)
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
