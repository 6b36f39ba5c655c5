import { and, asc, desc, eq, gt, inArray, isNotNull, sql } from "drizzle-orm";
import {
  annotators,
  annotatorTallies,
  engineSnapshots,
  pairTallies,
  prompts,
  promptTallies,
  studyAnnotators,
  type PromptStat,
} from "../../db/schema";
import { db } from "~/db.server";
import type { EngineStatus } from "~/engine/engine.server";
import { recommendationNote } from "./recommendation-note";

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
 * Everything the owner dashboard shows, read from SQLite only and in O(prompts), whatever the number
 * of votes (issue 14): the latest engine snapshot for the engine's view (utility, uncertainty, BT
 * interval, P(best)), the bounded snapshot series for the convergence chart, and the vote tallies the
 * database keeps per prompt, prompt pair and annotator (db/schema.ts) for the records, the win
 * matrix and votes per annotator. No engine needs to run.
 */
export function getDashboard(studyId: number) {
  const latest = db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get();
  const statsByPrompt = new Map((latest?.promptStats ?? []).map((stat) => [stat.promptId, stat]));
  const leaderboard: LeaderboardEntry[] = promptRecords(studyId)
    .map((record) => ({
      ...record,
      stats: statsByPrompt.get(record.promptId) ?? null,
      recommended: latest?.recommendedPromptId === record.promptId,
    }))
    .sort(
      (x, y) =>
        Number(y.recommended) - Number(x.recommended) || (y.stats?.score ?? -Infinity) - (x.stats?.score ?? -Infinity) || x.promptId - y.promptId,
    );

  const convergence: (ConvergencePoint & { converged: boolean })[] = db()
    .select({
      voteCount: engineSnapshots.voteCount,
      recommendedPromptId: engineSnapshots.recommendedPromptId,
      pBest: engineSnapshots.pBest,
      converged: engineSnapshots.converged,
    })
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(asc(engineSnapshots.voteCount), asc(engineSnapshots.id))
    .all();
  const firstConverged = convergence.find((point) => point.converged);
  const annotators = votesPerAnnotator(studyId);
  // What the engine counts as votes: everything but skips and the votes of excluded annotators.
  const decisiveVotes = annotators.reduce((total, row) => total + (row.excluded ? 0 : row.votes - row.skips), 0);

  return {
    leaderboard,
    convergence: convergence.map(({ voteCount, recommendedPromptId, pBest }) => ({ voteCount, recommendedPromptId, pBest })),
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
          snapshotAt: latest.createdAt.getTime(),
        }
      : null,
    decisiveVotes,
    winMatrix: winMatrix(leaderboard.slice(0, WIN_MATRIX_SIZE)),
    votesPerAnnotator: annotators,
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
      headToHead,
    ),
  };
}

/** Decisive wins of one prompt over another (the pair's tally; ties and both-bad count for neither). One indexed read. */
function headToHead(winner: number, loser: number): number {
  const [low, high] = winner < loser ? [winner, loser] : [loser, winner];
  const pair = db()
    .select({ lowWins: pairTallies.lowWins, highWins: pairTallies.highWins })
    .from(pairTallies)
    .where(and(eq(pairTallies.lowPromptId, low), eq(pairTallies.highPromptId, high)))
    .get();
  if (!pair) return 0;
  return winner === low ? pair.lowWins : pair.highWins;
}

/** Per-prompt wins, losses, ties and both-bad votes (the tallies); skips count for nobody. */
function promptRecords(studyId: number): PromptRecord[] {
  return db()
    .select({
      promptId: prompts.id,
      label: prompts.label,
      text: prompts.text,
      wins: sql<number>`coalesce(${promptTallies.wins}, 0)`,
      losses: sql<number>`coalesce(${promptTallies.losses}, 0)`,
      ties: sql<number>`coalesce(${promptTallies.ties}, 0)`,
      bothBad: sql<number>`coalesce(${promptTallies.bothBad}, 0)`,
    })
    .from(prompts)
    .leftJoin(promptTallies, eq(promptTallies.promptId, prompts.id))
    .where(eq(prompts.studyId, studyId))
    .orderBy(prompts.id)
    .all();
}

/** wins[i][j] = votes where prompt i beat prompt j, ties and both-bad adding half to each (bandit/leaderboard.ts's convention). */
function winMatrix(top: PromptRecord[]) {
  const promptIds = top.map((entry) => entry.promptId);
  const index = new Map(promptIds.map((id, i) => [id, i]));
  const wins = promptIds.map(() => promptIds.map(() => 0));
  const pairs =
    promptIds.length < 2
      ? []
      : db()
          .select()
          .from(pairTallies)
          .where(and(inArray(pairTallies.lowPromptId, promptIds), inArray(pairTallies.highPromptId, promptIds)))
          .all();
  for (const pair of pairs) {
    const low = index.get(pair.lowPromptId)!;
    const high = index.get(pair.highPromptId)!;
    wins[low]![high]! += pair.lowWins + pair.draws / 2;
    wins[high]![low]! += pair.highWins + pair.draws / 2;
  }
  return { promptIds, labels: top.map((entry) => entry.label ?? `#${entry.promptId}`), wins };
}

/**
 * Votes per annotator; `removed` flags an annotator an owner took out (their votes still count),
 * `excluded` one whose votes an owner excluded from the leaderboard and engine, `member` a study
 * member voting as themselves (not blind).
 */
function votesPerAnnotator(studyId: number) {
  return db()
    .select({
      annotatorId: annotatorTallies.annotatorId,
      displayName: annotators.displayName,
      member: sql`${isNotNull(annotators.userId)}`.mapWith(Boolean),
      removed: sql`${isNotNull(studyAnnotators.removedAt)}`.mapWith(Boolean),
      excluded: sql`${isNotNull(studyAnnotators.excludedAt)}`.mapWith(Boolean),
      votes: annotatorTallies.votes,
      skips: annotatorTallies.skips,
      meanLatencyMs: sql<
        number | null
      >`case when ${annotatorTallies.latencyCount} > 0 then 1.0 * ${annotatorTallies.latencySumMs} / ${annotatorTallies.latencyCount} end`,
    })
    .from(annotatorTallies)
    .innerJoin(annotators, eq(annotators.id, annotatorTallies.annotatorId))
    .leftJoin(
      studyAnnotators,
      and(eq(studyAnnotators.studyId, annotatorTallies.studyId), eq(studyAnnotators.annotatorId, annotatorTallies.annotatorId)),
    )
    .where(and(eq(annotatorTallies.studyId, studyId), gt(annotatorTallies.votes, 0)))
    .orderBy(desc(annotatorTallies.votes), asc(annotatorTallies.annotatorId))
    .all();
}

const plural = (count: number, noun: string, nouns = `${noun}s`) => `${count} ${count === 1 ? noun : nouns}`;

/**
 * The dashboard's sentence about votes its scores do not count yet: how many, what the engine is
 * doing about them (from the pool, never guessed) and how old the latest scores are. Null when the
 * scores count every vote.
 */
export function catchUpCaption(behind: number, status: EngineStatus, snapshotAt: number | null, now: number = Date.now()): string | null {
  if (behind <= 0) return null;
  const what = `${plural(behind, "newer vote")} ${behind === 1 ? "is" : "are"} not in these scores yet (W / L / T already include them)`;
  let doing: string;
  switch (status.state) {
    case "running":
      doing =
        status.nextStatsAt !== null && status.nextStatsAt > now
          ? `the engine counts them in about ${Math.max(1, Math.round((status.nextStatsAt - now) / 1000))} s`
          : "the engine is counting them now";
      break;
    case "loading":
      doing = "the engine is reading the study to count them";
      break;
    case "waiting":
      doing =
        status.position > 1
          ? `the engine waits for a free slot, behind ${plural(status.position - 1, "other study", "other studies")}`
          : "the engine waits for a free slot, next in line";
      break;
    case "stopping":
      doing = "the engine is saving its state and will count them when it starts again";
      break;
    case "stopped":
      doing = "the engine will count them when it next starts";
      break;
  }
  const age = snapshotAt === null ? "" : ` The latest scores are ${formatAge(now - snapshotAt)} old.`;
  return `${what}: ${doing}.${age}`;
}

function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return plural(seconds, "second");
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return plural(minutes, "minute");
  return plural(Math.round(minutes / 60), "hour");
}
