import { and, count, desc, eq, sql } from "drizzle-orm";
import { assignments, prompts, queries, responses, studies, votes } from "../../db/schema";
import { db } from "~/db.server";
import { StudyIdParamSchema } from "~/utils/forms";
import { invariantResponse } from "~/utils/invariant";

export function listStudies() {
  const promptCount = db()
    .select({ studyId: prompts.studyId, n: count().as("prompt_n") })
    .from(prompts)
    .groupBy(prompts.studyId)
    .as("prompt_counts");
  const voteCount = db()
    .select({ studyId: votes.studyId, n: count().as("vote_n") })
    .from(votes)
    .groupBy(votes.studyId)
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
  return db().select().from(studies).where(eq(studies.id, id)).get();
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
        .where(and(eq(prompts.studyId, studyId), eq(responses.status, "ready"))),
    ),
    votes: one(db().select({ n: count() }).from(votes).where(eq(votes.studyId, studyId))),
  };
}

export interface PromptRecord {
  promptId: number;
  label: string | null;
  text: string;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
}

/**
 * Per-prompt wins, losses and ties from the raw votes. A "left"/"right" choice is mapped to the
 * prompt shown on that side via assignments.left_is_a; skips count for nobody.
 */
export function getPromptRecords(studyId: number): PromptRecord[] {
  const rows = db()
    .select({
      promptAId: assignments.promptAId,
      promptBId: assignments.promptBId,
      leftIsA: assignments.leftIsA,
      choice: votes.choice,
    })
    .from(votes)
    .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
    .where(eq(votes.studyId, studyId))
    .all();
  const records = new Map<number, PromptRecord>();
  for (const prompt of db()
    .select({ id: prompts.id, label: prompts.label, text: prompts.text })
    .from(prompts)
    .where(eq(prompts.studyId, studyId))
    .orderBy(prompts.id)
    .all()) {
    records.set(prompt.id, { promptId: prompt.id, label: prompt.label, text: prompt.text, wins: 0, losses: 0, ties: 0, bothBad: 0 });
  }
  for (const row of rows) {
    const a = records.get(row.promptAId);
    const b = records.get(row.promptBId);
    if (!a || !b) continue;
    if (row.choice === "tie") {
      a.ties++;
      b.ties++;
    } else if (row.choice === "both_bad") {
      a.bothBad++;
      b.bothBad++;
    } else if (row.choice === "left" || row.choice === "right") {
      const aWon = (row.choice === "left") === row.leftIsA;
      (aWon ? a : b).wins++;
      (aWon ? b : a).losses++;
    }
  }
  return [...records.values()];
}
