import { sql } from "drizzle-orm";
import { assignments, type AssignmentPurpose } from "../../db/schema";
import { prepared } from "~/db.server";
import { env } from "~/env.server";

export interface NewAssignment {
  studyId: number;
  annotatorId: number;
  promptAId: number;
  promptBId: number;
  queryId: number;
  leftIsA: boolean;
  issuedAt: Date;
  policy: string;
  engineRound: number;
  /** Why it is served (default work) and, for an audit, the assignment it repeats (ADR 0034). */
  purpose?: AssignmentPurpose;
  auditOf?: number | null;
}

/**
 * Hands a (query, pair) to an annotator: one open assignment row, reserved for ASSIGNMENT_TTL_MINUTES.
 * The one insert of assignments on the request paths (a new pair, or the same pair again after an undo);
 * call it inside the caller's transaction. Prepared once per connection (it runs on every pair request).
 */
export function issueAssignment(assignment: NewAssignment): typeof assignments.$inferSelect {
  const insert = prepared("assignment.issue", (database) =>
    database
      .insert(assignments)
      .values({
        studyId: sql.placeholder("studyId"),
        annotatorId: sql.placeholder("annotatorId"),
        promptAId: sql.placeholder("promptAId"),
        promptBId: sql.placeholder("promptBId"),
        queryId: sql.placeholder("queryId"),
        leftIsA: sql.placeholder("leftIsA"),
        issuedAt: sql.placeholder("issuedAt"),
        expiresAt: sql.placeholder("expiresAt"),
        policy: sql.placeholder("policy"),
        engineRound: sql.placeholder("engineRound"),
        purpose: sql.placeholder("purpose"),
        auditOf: sql.placeholder("auditOf"),
      })
      .returning()
      .prepare(),
  );
  return insert.get({
    purpose: "work",
    auditOf: null,
    ...assignment,
    expiresAt: new Date(assignment.issuedAt.getTime() + env().ASSIGNMENT_TTL_MINUTES * 60_000),
  });
}
