import { asc, eq } from "drizzle-orm";
import type { DB } from "../../db/client";
import { annotators, assignments, prompts, queries, votes, type VoteChoice } from "../../db/schema";

export interface SeededVote {
  annotator: string;
  /** Indices into the study's prompts and queries, ordered by id. */
  promptA: number;
  promptB: number;
  query: number;
  leftIsA: boolean;
  choice: VoteChoice;
  comment?: string | null;
  latencyMs?: number | null;
  at: Date;
  policy?: string;
  engineRound?: number;
}

/**
 * Inserts answered assignments and their votes straight into the database (the way the annotate
 * action stores them), creating one annotator per distinct name. Returns the vote ids in order.
 */
export function seedVotes(db: DB, studyId: number, specs: readonly SeededVote[]): number[] {
  const promptIds = db.select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId)).orderBy(asc(prompts.id)).all();
  const queryIds = db.select({ id: queries.id }).from(queries).where(eq(queries.studyId, studyId)).orderBy(asc(queries.id)).all();
  const annotatorIds = new Map<string, number>();
  return db.transaction((tx) =>
    specs.map((spec) => {
      let annotatorId = annotatorIds.get(spec.annotator);
      if (annotatorId === undefined) {
        annotatorId = tx.insert(annotators).values({ displayName: spec.annotator }).returning({ id: annotators.id }).get().id;
        annotatorIds.set(spec.annotator, annotatorId);
      }
      const assignment = tx
        .insert(assignments)
        .values({
          studyId,
          annotatorId,
          promptAId: promptIds[spec.promptA]!.id,
          promptBId: promptIds[spec.promptB]!.id,
          queryId: queryIds[spec.query]!.id,
          leftIsA: spec.leftIsA,
          issuedAt: new Date(spec.at.getTime() - 5_000),
          expiresAt: new Date(spec.at.getTime() + 600_000),
          policy: spec.policy ?? "random",
          engineRound: spec.engineRound ?? 0,
          status: "answered",
        })
        .returning({ id: assignments.id })
        .get();
      return tx
        .insert(votes)
        .values({
          assignmentId: assignment.id,
          studyId,
          annotatorId,
          choice: spec.choice,
          comment: spec.comment ?? null,
          latencyMs: spec.latencyMs ?? null,
          createdAt: spec.at,
        })
        .returning({ id: votes.id })
        .get().id;
    }),
  );
}
