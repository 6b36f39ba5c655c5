import { and, asc, count, desc, eq, ne, sql } from "drizzle-orm";
import { assignments, engineSnapshots, prompts, users, votes, type PromptStat } from "../../db/schema";
import { db } from "~/db.server";
import { getPromptRecords, type PromptRecord } from "./study.server";

export interface LeaderboardEntry extends PromptRecord {
  stats: PromptStat | null;
  recommended: boolean;
}

export interface ConvergencePoint {
  voteCount: number;
  recommendedPromptId: number | null;
  pBest: number | null;
}

/** How many prompts the win matrix shows: the top of the leaderboard (a 1,000-row matrix is unreadable). */
export const WIN_MATRIX_SIZE = 10;

/**
 * Everything the owner dashboard shows, read from SQLite only: the latest engine snapshot for the
 * engine's view (utility, uncertainty, BT interval, P(best)), the snapshot series for the
 * convergence chart, and raw-vote aggregates (records, win matrix, votes per annotator).
 */
export function getDashboard(studyId: number) {
  const latest = db()
    .select()
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(desc(engineSnapshots.id))
    .get();
  const statsByPrompt = new Map((latest?.promptStats ?? []).map((stat) => [stat.promptId, stat]));
  const leaderboard: LeaderboardEntry[] = getPromptRecords(studyId)
    .map((record) => ({
      ...record,
      stats: statsByPrompt.get(record.promptId) ?? null,
      recommended: latest?.recommendedPromptId === record.promptId,
    }))
    .sort(
      (x, y) =>
        Number(y.recommended) - Number(x.recommended) ||
        (y.stats?.score ?? -Infinity) - (x.stats?.score ?? -Infinity) ||
        x.promptId - y.promptId,
    );

  const convergence: ConvergencePoint[] = db()
    .select({ voteCount: engineSnapshots.voteCount, recommendedPromptId: engineSnapshots.recommendedPromptId, pBest: engineSnapshots.pBest })
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(asc(engineSnapshots.voteCount), asc(engineSnapshots.id))
    .all();
  const firstConverged = db()
    .select({ voteCount: engineSnapshots.voteCount })
    .from(engineSnapshots)
    .where(and(eq(engineSnapshots.studyId, studyId), eq(engineSnapshots.converged, true)))
    .orderBy(asc(engineSnapshots.voteCount))
    .get();

  const decisiveVotes = db()
    .select({ n: count() })
    .from(votes)
    .where(and(eq(votes.studyId, studyId), ne(votes.choice, "skip")))
    .get()!.n;

  return {
    leaderboard,
    convergence,
    engine: latest
      ? {
          policy: latest.policy,
          voteCount: latest.voteCount,
          converged: latest.converged,
          convergedAtVotes: latest.converged ? (firstConverged?.voteCount ?? latest.voteCount) : null,
          votesStillNeeded: latest.votesStillNeeded,
          leftWinRate: latest.leftWinRate,
          upToDate: latest.voteCount === decisiveVotes,
        }
      : null,
    winMatrix: winMatrix(studyId, leaderboard.slice(0, WIN_MATRIX_SIZE).map((entry) => entry.promptId)),
    votesPerAnnotator: votesPerAnnotator(studyId),
  };
}

/** wins[i][j] = decisive votes where prompt i beat prompt j (ties and both-bad add half to each). */
function winMatrix(studyId: number, promptIds: number[]) {
  const index = new Map(promptIds.map((id, i) => [id, i]));
  const wins = promptIds.map(() => promptIds.map(() => 0));
  const rows = db()
    .select({ a: assignments.promptAId, b: assignments.promptBId, leftIsA: assignments.leftIsA, choice: votes.choice })
    .from(votes)
    .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
    .where(and(eq(votes.studyId, studyId), ne(votes.choice, "skip")))
    .all();
  for (const row of rows) {
    const i = index.get(row.a);
    const j = index.get(row.b);
    if (i === undefined || j === undefined) continue;
    if (row.choice === "tie" || row.choice === "both_bad") {
      wins[i]![j]! += 0.5;
      wins[j]![i]! += 0.5;
    } else if ((row.choice === "left") === row.leftIsA) wins[i]![j]! += 1;
    else wins[j]![i]! += 1;
  }
  const labels = db()
    .select({ id: prompts.id, label: prompts.label })
    .from(prompts)
    .where(eq(prompts.studyId, studyId))
    .all();
  const labelOf = new Map(labels.map((p) => [p.id, p.label ?? `#${p.id}`]));
  return { promptIds, labels: promptIds.map((id) => labelOf.get(id) ?? `#${id}`), wins };
}

function votesPerAnnotator(studyId: number) {
  return db()
    .select({
      annotatorId: users.id,
      displayName: users.displayName,
      votes: count(),
      skips: sql<number>`sum(case when ${votes.choice} = 'skip' then 1 else 0 end)`,
      meanLatencyMs: sql<number | null>`avg(${votes.latencyMs})`,
    })
    .from(votes)
    .innerJoin(users, eq(users.id, votes.annotatorId))
    .where(eq(votes.studyId, studyId))
    .groupBy(users.id)
    .orderBy(desc(count()))
    .all();
}
