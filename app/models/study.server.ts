import { and, count, desc, eq, sql } from "drizzle-orm";
import { annotatorTallies, prompts, queries, responseIsReady, responses, studies } from "../../db/schema";
import { db, prepared } from "~/db.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { invariantResponse } from "~/utils/invariant";

export function listStudies() {
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
      createdAt: studies.createdAt,
      promptCount: sql<number>`coalesce(${promptCount.n}, 0)`,
      voteCount: sql<number>`coalesce(${voteCount.n}, 0)`,
    })
    .from(studies)
    .leftJoin(promptCount, eq(promptCount.studyId, studies.id))
    .leftJoin(voteCount, eq(voteCount.studyId, studies.id))
    .orderBy(desc(studies.createdAt), desc(studies.id))
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

/** The study named by a route's `$studyId` param; otherwise throws a 404 for the route's error boundary. */
export function requireStudy(studyIdParam: string | undefined) {
  const parsed = StudyIdParamSchema.safeParse(studyIdParam);
  invariantResponse(parsed.success, "Study not found");
  const study = getStudy(parsed.data);
  invariantResponse(study, "Study not found");
  return study;
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
