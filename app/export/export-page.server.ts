import { count, eq, inArray, max, min, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import { users, votes } from "../../db/schema";
import { recommendedPromptText } from "./formats.server";

/** What the export page shows before a download: who voted, how many votes of each kind, the date span. */
export function getExportSummary(db: DB, studyId: number) {
  const annotators = db
    .select({ id: users.id, displayName: users.displayName, votes: count() })
    .from(votes)
    .innerJoin(users, eq(users.id, votes.annotatorId))
    .where(eq(votes.studyId, studyId))
    .groupBy(users.id)
    .orderBy(users.displayName, users.id)
    .all();
  const totals = db
    .select({
      votes: count(),
      decisive: sql<number>`coalesce(sum(${inArray(votes.choice, ["left", "right"])}), 0)`,
      firstVoteAt: min(votes.createdAt),
      lastVoteAt: max(votes.createdAt),
    })
    .from(votes)
    .where(eq(votes.studyId, studyId))
    .get();
  const day = (value: Date | null | undefined) => (value ? value.toISOString().slice(0, 10) : null);
  return {
    annotators,
    votes: totals?.votes ?? 0,
    decisiveVotes: Number(totals?.decisive ?? 0),
    firstVoteDay: day(totals?.firstVoteAt),
    lastVoteDay: day(totals?.lastVoteAt),
    recommendedPrompt: recommendedPromptText(db, studyId),
  };
}
