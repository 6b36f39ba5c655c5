import { and, count, eq, inArray, isNotNull, max, min, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import { annotators, studyAnnotators, votePublished, votes } from "../../db/schema";
import { recommendedPromptText } from "./formats.server";

/** What the export page shows before a download: who voted, how many votes of each kind, the date span. */
export function getExportSummary(db: DB, studyId: number) {
  const voters = db
    .select({
      id: annotators.id,
      displayName: annotators.displayName,
      votes: count(),
      removed: sql`${isNotNull(studyAnnotators.removedAt)}`.mapWith(Boolean),
    })
    .from(votes)
    .innerJoin(annotators, eq(annotators.id, votes.annotatorId))
    .leftJoin(studyAnnotators, and(eq(studyAnnotators.studyId, votes.studyId), eq(studyAnnotators.annotatorId, votes.annotatorId)))
    .where(and(eq(votes.studyId, studyId), votePublished))
    .groupBy(annotators.id)
    .orderBy(annotators.displayName, annotators.id)
    .all();
  const totals = db
    .select({
      votes: count(),
      decisive: sql<number>`coalesce(sum(${inArray(votes.choice, ["left", "right"])}), 0)`,
      firstVoteAt: min(votes.createdAt),
      lastVoteAt: max(votes.createdAt),
    })
    .from(votes)
    .where(and(eq(votes.studyId, studyId), votePublished))
    .get();
  const day = (value: Date | null | undefined) => (value ? value.toISOString().slice(0, 10) : null);
  return {
    annotators: voters,
    votes: totals?.votes ?? 0,
    decisiveVotes: Number(totals?.decisive ?? 0),
    firstVoteDay: day(totals?.firstVoteAt),
    lastVoteDay: day(totals?.lastVoteAt),
    recommendedPrompt: recommendedPromptText(db, studyId),
  };
}
