import { and, asc, count, desc, eq, isNull, sql } from "drizzle-orm";
import {
  annotators,
  assignmentIsOpen,
  assignments,
  invites,
  studyAnnotators,
  studyMembers,
  users,
  votePublished,
  votes,
  type StudyRole,
} from "../../db/schema";
import { db, prepared } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";

// Who belongs to which study: accounts with a role (study_members) and annotators who joined
// (study_annotators). Every authorised request reads one of the first two functions.

/** The account's role in each study it belongs to. */
export function userRoles(userId: number): Map<number, StudyRole> {
  const rows = prepared("membership.rolesOfUser", (database) =>
    database
      .select({ studyId: studyMembers.studyId, role: studyMembers.role })
      .from(studyMembers)
      .where(eq(studyMembers.userId, sql.placeholder("userId")))
      .prepare(),
  ).all({ userId });
  return new Map(rows.map((row) => [row.studyId, row.role]));
}

/** The studies an annotator joined, and whether an owner removed them since. */
export function annotatorStudies(annotatorId: number): Map<number, { removed: boolean }> {
  const rows = prepared("membership.studiesOfAnnotator", (database) =>
    database
      .select({ studyId: studyAnnotators.studyId, removedAt: studyAnnotators.removedAt })
      .from(studyAnnotators)
      .where(eq(studyAnnotators.annotatorId, sql.placeholder("annotatorId")))
      .prepare(),
  ).all({ annotatorId });
  return new Map(rows.map((row) => [row.studyId, { removed: row.removedAt !== null }]));
}

export function roleOf(database: Queryable, studyId: number, userId: number): StudyRole | null {
  return (
    database
      .select({ role: studyMembers.role })
      .from(studyMembers)
      .where(and(eq(studyMembers.studyId, studyId), eq(studyMembers.userId, userId)))
      .get()?.role ?? null
  );
}

export function setMemberRole(database: Queryable, studyId: number, userId: number, role: StudyRole): void {
  database
    .insert(studyMembers)
    .values({ studyId, userId, role })
    .onConflictDoUpdate({ target: [studyMembers.studyId, studyMembers.userId], set: { role } })
    .run();
}

export function removeMember(database: Queryable, studyId: number, userId: number): boolean {
  return (
    database
      .delete(studyMembers)
      .where(and(eq(studyMembers.studyId, studyId), eq(studyMembers.userId, userId)))
      .run().changes > 0
  );
}

export function countOwners(database: Queryable, studyId: number): number {
  return (
    database
      .select({ n: count() })
      .from(studyMembers)
      .where(and(eq(studyMembers.studyId, studyId), eq(studyMembers.role, "owner")))
      .get()?.n ?? 0
  );
}

/** The study's members for the members page: owners first, then by name. */
export function listMembers(studyId: number) {
  return db()
    .select({ userId: users.id, email: users.email, displayName: users.displayName, role: studyMembers.role, since: studyMembers.createdAt })
    .from(studyMembers)
    .innerJoin(users, eq(users.id, studyMembers.userId))
    .where(eq(studyMembers.studyId, studyId))
    .orderBy(sql`case ${studyMembers.role} when 'owner' then 0 when 'editor' then 1 else 2 end`, asc(users.displayName), asc(users.id))
    .all();
}

/** Adds the annotator to the study (again, if an owner had removed them: the caller decides whether that is allowed). */
export function joinStudy(database: Queryable, studyId: number, annotatorId: number, inviteId: number | null): void {
  database.insert(studyAnnotators).values({ studyId, annotatorId, inviteId }).onConflictDoNothing().run();
}

export function studyMembership(database: Queryable, studyId: number, annotatorId: number) {
  return database
    .select({ removedAt: studyAnnotators.removedAt })
    .from(studyAnnotators)
    .where(and(eq(studyAnnotators.studyId, studyId), eq(studyAnnotators.annotatorId, annotatorId)))
    .get();
}

/**
 * Takes the annotator out of the study: they lose access at their next request, their open pair
 * returns to the pool (expired), and their votes stay, flagged by removed_at.
 */
export function removeAnnotatorFromStudy(database: Queryable, studyId: number, annotatorId: number, now = new Date()): boolean {
  const removed = database
    .update(studyAnnotators)
    .set({ removedAt: now })
    .where(and(eq(studyAnnotators.studyId, studyId), eq(studyAnnotators.annotatorId, annotatorId), isNull(studyAnnotators.removedAt)))
    .run().changes;
  if (removed === 0) return false;
  database
    .update(assignments)
    .set({ status: "expired" })
    .where(and(eq(assignments.studyId, studyId), eq(assignments.annotatorId, annotatorId), assignmentIsOpen))
    .run();
  return true;
}

/**
 * Excludes the annotator's votes from the study's leaderboard and engine (`excludedAt` a time), or
 * counts them again (null). The votes stay; the tally trigger (migrations/0011) moves them out of or
 * back into the prompt and pair tallies. Returns "not_found" when they never joined the study,
 * "unchanged" when they already were as asked.
 */
export function setAnnotatorExcluded(
  database: Queryable,
  studyId: number,
  annotatorId: number,
  excludedAt: Date | null,
): "changed" | "unchanged" | "not_found" {
  const row = database
    .select({ excludedAt: studyAnnotators.excludedAt })
    .from(studyAnnotators)
    .where(and(eq(studyAnnotators.studyId, studyId), eq(studyAnnotators.annotatorId, annotatorId)))
    .get();
  if (!row) return "not_found";
  if ((row.excludedAt === null) === (excludedAt === null)) return "unchanged";
  database
    .update(studyAnnotators)
    .set({ excludedAt })
    .where(and(eq(studyAnnotators.studyId, studyId), eq(studyAnnotators.annotatorId, annotatorId)))
    .run();
  return "changed";
}

/** The study's annotators for its owners: who joined through which link, votes, removed or not. */
export function listStudyAnnotators(studyId: number) {
  const voteCounts = db()
    .select({ annotatorId: votes.annotatorId, n: count().as("vote_n") })
    .from(votes)
    .where(and(eq(votes.studyId, studyId), votePublished))
    .groupBy(votes.annotatorId)
    .as("vote_counts");
  return db()
    .select({
      annotatorId: annotators.id,
      displayName: annotators.displayName,
      memberUserId: annotators.userId,
      inviteLabel: invites.label,
      inviteId: studyAnnotators.inviteId,
      joinedAt: studyAnnotators.joinedAt,
      removedAt: studyAnnotators.removedAt,
      votes: sql<number>`coalesce(${voteCounts.n}, 0)`,
    })
    .from(studyAnnotators)
    .innerJoin(annotators, eq(annotators.id, studyAnnotators.annotatorId))
    .leftJoin(invites, eq(invites.id, studyAnnotators.inviteId))
    .leftJoin(voteCounts, eq(voteCounts.annotatorId, annotators.id))
    .where(eq(studyAnnotators.studyId, studyId))
    .orderBy(desc(studyAnnotators.joinedAt), desc(annotators.id))
    .all();
}

export function createAnnotator(database: Queryable, displayName: string, userId: number | null = null) {
  return database.insert(annotators).values({ displayName, userId }).returning().get();
}

/** The annotator a member votes as (created on their first vote in any study), or undefined. */
export function memberAnnotator(database: Queryable, userId: number) {
  return database.select().from(annotators).where(eq(annotators.userId, userId)).get();
}
