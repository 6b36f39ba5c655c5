import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { assignments, engineSnapshots, prompts, users, votes, type PromptStat } from "../../db/schema";
import { db } from "~/db.server";
import { recommendationNote } from "./recommendation-note";
import { voteDuel, type ShownPair } from "./vote-duel";

export interface PromptRecord {
  promptId: number;
  label: string | null;
  text: string;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
}

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
  const latest = db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get();
  const statsByPrompt = new Map((latest?.promptStats ?? []).map((stat) => [stat.promptId, stat]));
  const shown = studyVotes(studyId);
  const leaderboard: LeaderboardEntry[] = promptRecords(studyId, shown)
    .map((record) => ({
      ...record,
      stats: statsByPrompt.get(record.promptId) ?? null,
      recommended: latest?.recommendedPromptId === record.promptId,
    }))
    .sort(
      (x, y) =>
        Number(y.recommended) - Number(x.recommended) || (y.stats?.score ?? -Infinity) - (x.stats?.score ?? -Infinity) || x.promptId - y.promptId,
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

  // What the engine counts as votes: everything but skips.
  const decisiveVotes = shown.filter((vote) => vote.choice !== "skip").length;

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
          decisiveVotes,
          upToDate: latest.voteCount === decisiveVotes,
        }
      : null,
    winMatrix: winMatrix(shown, leaderboard.slice(0, WIN_MATRIX_SIZE)),
    votesPerAnnotator: votesPerAnnotator(studyId),
    // Why the engine's recommendation is not the raw-vote Bradley–Terry leader, when it is not (null otherwise).
    recommendationNote: recommendationNote(
      latest?.recommendedPromptId ?? null,
      leaderboard.map((entry) => ({
        promptId: entry.promptId,
        name: entry.label ?? `#${entry.promptId}`,
        wins: entry.wins,
        losses: entry.losses,
        score: entry.stats?.score ?? null,
        utility: entry.stats?.utility ?? null,
        engineScore: entry.stats?.engineScore ?? null,
      })),
      headToHead(shown),
    ),
  };
}

/** Decisive wins of one prompt over another in the raw votes (ties and both-bad count for neither). */
function headToHead(shown: ShownPair[]): (winner: number, loser: number) => number {
  const wins = new Map<string, number>();
  for (const vote of shown) {
    const duel = voteDuel(vote);
    if (!duel || duel.outcome === 0.5) continue;
    const [winner, loser] = duel.outcome === 1 ? [duel.left, duel.right] : [duel.right, duel.left];
    const key = `${winner}>${loser}`;
    wins.set(key, (wins.get(key) ?? 0) + 1);
  }
  return (winner, loser) => wins.get(`${winner}>${loser}`) ?? 0;
}

/** Every vote of the study with the pair it was cast on, as shown (one read for the whole page). */
function studyVotes(studyId: number): ShownPair[] {
  return db()
    .select({ promptAId: assignments.promptAId, promptBId: assignments.promptBId, leftIsA: assignments.leftIsA, choice: votes.choice })
    .from(votes)
    .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
    .where(eq(votes.studyId, studyId))
    .all();
}

/** Per-prompt wins, losses, ties and both-bad votes from the raw votes; skips count for nobody. */
function promptRecords(studyId: number, shown: ShownPair[]): PromptRecord[] {
  const records = new Map<number, PromptRecord>();
  for (const prompt of db()
    .select({ id: prompts.id, label: prompts.label, text: prompts.text })
    .from(prompts)
    .where(eq(prompts.studyId, studyId))
    .orderBy(prompts.id)
    .all()) {
    records.set(prompt.id, { promptId: prompt.id, label: prompt.label, text: prompt.text, wins: 0, losses: 0, ties: 0, bothBad: 0 });
  }
  for (const vote of shown) {
    const duel = voteDuel(vote);
    if (!duel) continue;
    const left = records.get(duel.left);
    const right = records.get(duel.right);
    if (!left || !right) continue;
    if (vote.choice === "tie") {
      left.ties++;
      right.ties++;
    } else if (vote.choice === "both_bad") {
      left.bothBad++;
      right.bothBad++;
    } else {
      (duel.outcome === 1 ? left : right).wins++;
      (duel.outcome === 1 ? right : left).losses++;
    }
  }
  return [...records.values()];
}

/** wins[i][j] = votes where prompt i beat prompt j, ties and both-bad adding half to each (bandit/leaderboard.ts's convention). */
function winMatrix(shown: ShownPair[], top: PromptRecord[]) {
  const promptIds = top.map((entry) => entry.promptId);
  const index = new Map(promptIds.map((id, i) => [id, i]));
  const wins = promptIds.map(() => promptIds.map(() => 0));
  for (const vote of shown) {
    const duel = voteDuel(vote);
    if (!duel) continue;
    const i = index.get(duel.left);
    const j = index.get(duel.right);
    if (i === undefined || j === undefined) continue;
    wins[i]![j]! += duel.outcome;
    wins[j]![i]! += 1 - duel.outcome;
  }
  return { promptIds, labels: top.map((entry) => entry.label ?? `#${entry.promptId}`), wins };
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
