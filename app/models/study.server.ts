import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import { annotatorTallies, prompts, queries, responseIsReady, responses, studies, studyAnnotators, studyMembers } from "../../db/schema";
import { db, prepared } from "~/db.server";

/** The studies an account belongs to, with its role in each, newest first. */
export function listStudiesOf(userId: number) {
  const promptCount = db()
    .select({ studyId: prompts.studyId, n: count().as("prompt_n") })
    .from(prompts)
    .groupBy(prompts.studyId)
    .as("prompt_counts");
  // From the vote tallies (one row per study and annotator), not by counting every vote.
  const voteCount = db()
    .select({ studyId: annotatorTallies.studyId, n: sql<number>`sum(${annotatorTallies.votes})`.as("vote_n") })
    .from(annotatorTallies)
    .groupBy(annotatorTallies.studyId)
    .as("vote_counts");
  return db()
    .select({
      id: studies.id,
      name: studies.name,
      status: studies.status,
      role: studyMembers.role,
      createdAt: studies.createdAt,
      promptCount: sql<number>`coalesce(${promptCount.n}, 0)`,
      voteCount: sql<number>`coalesce(${voteCount.n}, 0)`,
    })
    .from(studies)
    .innerJoin(studyMembers, and(eq(studyMembers.studyId, studies.id), eq(studyMembers.userId, userId)))
    .leftJoin(promptCount, eq(promptCount.studyId, studies.id))
    .leftJoin(voteCount, eq(voteCount.studyId, studies.id))
    .orderBy(desc(studies.createdAt), desc(studies.id))
    .all();
}

/** The studies an annotator joined and may still annotate: names only (annotators see nothing else). */
export function listJoinedStudies(annotatorId: number) {
  return db()
    .select({ id: studies.id, name: studies.name })
    .from(studyAnnotators)
    .innerJoin(studies, eq(studies.id, studyAnnotators.studyId))
    .where(and(eq(studyAnnotators.annotatorId, annotatorId), isNull(studyAnnotators.removedAt)))
    .orderBy(desc(studyAnnotators.joinedAt))
    .all();
}

export function getStudy(id: number) {
  // Every API request looks its study up: prepared once per connection.
  return prepared("study.byId", (database) =>
    database
      .select()
      .from(studies)
      .where(eq(studies.id, sql.placeholder("id")))
      .prepare(),
  ).get({ id });
}

export function getStudyCounts(studyId: number) {
  const one = (query: { get(): { n: number } | undefined }) => query.get()?.n ?? 0;
  return {
    prompts: one(db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId))),
    queries: one(db().select({ n: count() }).from(queries).where(eq(queries.studyId, studyId))),
    responses: one(
      db()
        .select({ n: count() })
        .from(responses)
        .innerJoin(prompts, eq(prompts.id, responses.promptId))
        // Not those to queries an addition has not published (ADR 0043).
        .innerJoin(queries, and(eq(queries.id, responses.queryId), eq(queries.studyId, prompts.studyId)))
        .where(and(eq(prompts.studyId, studyId), responseIsReady)),
    ),
    votes: one(
      db()
        .select({ n: sql<number>`coalesce(sum(${annotatorTallies.votes}), 0)` })
        .from(annotatorTallies)
        .where(eq(annotatorTallies.studyId, studyId)),
    ),
  };
}
