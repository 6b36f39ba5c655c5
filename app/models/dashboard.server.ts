import { and, asc, count, desc, eq, gt, isNotNull, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import {
  annotators,
  annotatorTallies,
  engineSnapshots,
  growthRounds,
  pairTallies,
  prompts,
  queries,
  promptTallies,
  type RESPONSE_STATUSES,
  responses,
  studyAnnotators,
  type PromptStat,
  promptRecordColumns,
} from "../../db/schema";
import { prepared } from "~/db.server";
import type { EngineStatus } from "~/engine/engine.server";
import { AUTO_ROUNDS_ACTOR } from "~/utils/auto-round-rules";
import { MIN_COMPARISONS_TO_RANK, rankLeaderboard } from "~/utils/leaderboard-ranking";
import { annotatorReliability } from "./annotator-reliability.server";
import { recommendationNote } from "./recommendation-note";

export interface PromptRecord {
  promptId: number;
  label: string | null;
  /** False once an owner disabled the prompt: it leaves pair selection, its votes stay. */
  active: boolean;
  wins: number;
  losses: number;
  ties: number;
  bothBad: number;
}

/** One leaderboard row as the page shows it: the record, the engine's view, and where the ranking puts it. */
export interface LeaderboardEntry extends PromptRecord {
  text: string;
  stats: PromptStat | null;
  recommended: boolean;
  /** Every vote it took part in but skips: wins, losses, ties and both-bad. */
  comparisons: number;
  /** Its place among the ranked prompts (1-based); null while it has too few comparisons to rank. */
  rank: number | null;
  /** Its score in the cached crowd fit (reliability-weighted, side-corrected: ADR 0041); null outside the fit. */
  crowdScore: number | null;
  /** Its place among the ranked prompts by crowdScore (1-based); null while unranked or outside the fit. */
  crowdRank: number | null;
}

export interface ConvergencePoint {
  voteCount: number;
  recommendedPromptId: number | null;
  pBest: number | null;
  /** The recommended prompt's comparisons then: P(best) is drawn from MIN_COMPARISONS_TO_RANK on (null: not recorded). */
  recommendedComparisons: number | null;
}

/** Where new prompts joined the study (a growth round, by an owner or automatic): a marker on the convergence chart. */
export interface JoinMarker {
  roundId: number;
  voteCount: number;
  added: number;
  automatic: boolean;
}

/** How many prompts the win matrix shows: the top of the ranking (a 1,000-row matrix is unreadable). */
export const WIN_MATRIX_SIZE = 10;
/** Leaderboard rows per page: the page stays the same size whatever the number of prompts (issue 14). */
export const LEADERBOARD_PAGE_SIZE = 25;

/**
 * Everything the owner dashboard shows, read from SQLite only and in O(prompts) with a small constant,
 * whatever the number of votes (issue 14): the latest engine snapshot for the engine's view (utility,
 * uncertainty, BT interval, P(best)), the bounded snapshot series for the convergence chart, and the
 * vote tallies the database keeps per prompt, prompt pair and annotator (db/schema.ts) for the records,
 * the win matrix and votes per annotator. No engine needs to run.
 *
 * Every prompt is ranked (rankLeaderboard: numbers only), but only one page of rows, the top of the
 * ranking in the win matrix and the recommended prompt carry their texts, so the page's size and its
 * render do not grow with the pool (ADR 0028). `page` is 1-based and clamped to the pages there are;
 * the JSON API asks for one page of every prompt (`pageSize: Infinity`).
 */
export function getDashboard(studyId: number, { page = 1, pageSize = LEADERBOARD_PAGE_SIZE }: { page?: number; pageSize?: number } = {}) {
  const latest = prepared("dashboard.latestSnapshot", (database) =>
    database
      .select()
      .from(engineSnapshots)
      .where(eq(engineSnapshots.studyId, sql.placeholder("studyId")))
      .orderBy(desc(engineSnapshots.id))
      .limit(1)
      .prepare(),
  ).get({ studyId });
  const statsByPrompt = new Map((latest?.promptStats ?? []).map((stat) => [stat.promptId, stat]));
  const recommendedPromptId = latest?.recommendedPromptId ?? null;
  const records = promptRecords(studyId);
  const ranked = rankLeaderboard(
    records.map((record) => ({
      record,
      promptId: record.promptId,
      recommended: record.promptId === recommendedPromptId,
      comparisons: record.wins + record.losses + record.ties + record.bothBad,
      score: statsByPrompt.get(record.promptId)?.score ?? null,
    })),
  );

  // The crowd model's view beside the ranking (ADR 0041): read from the cached fit, never fitted here.
  const { report: crowdFit, pending: crowdPending } = annotatorReliability(studyId);
  const crowdScores = new Map((crowdFit?.prompts ?? []).map(({ promptId, score }) => [promptId, score]));
  const crowdOrder = ranked
    .filter(({ measured, entry }) => measured && crowdScores.has(entry.promptId))
    .map(({ entry }) => entry.promptId)
    .sort((x, y) => crowdScores.get(y)! - crowdScores.get(x)!);
  const crowdRanks = new Map(crowdOrder.map((promptId, k) => [promptId, k + 1]));

  const pageCount = Math.max(1, Math.ceil(ranked.length / pageSize));
  const currentPage = Math.min(Math.max(1, Math.trunc(page)), pageCount);
  const firstIndex = (currentPage - 1) * pageSize;
  const pageRows = ranked.slice(firstIndex, firstIndex + pageSize);
  const top = ranked.slice(0, WIN_MATRIX_SIZE);
  const crowdLeaderId = crowdOrder[0] ?? null;
  const rankedLeaderId = ranked.find(({ measured }) => measured)?.entry.promptId ?? null;
  const crowdLeaderDiffers = crowdLeaderId !== null && crowdLeaderId !== rankedLeaderId;
  const texts = promptTexts(
    [...pageRows, ...top]
      .map(({ entry }) => entry.promptId)
      .concat(recommendedPromptId ?? [])
      .concat(crowdLeaderDiffers ? crowdLeaderId : []),
  );
  const rows: LeaderboardEntry[] = pageRows.map(({ entry, measured }, k) => ({
    ...entry.record,
    text: texts.get(entry.promptId) ?? "",
    stats: statsByPrompt.get(entry.promptId) ?? null,
    recommended: entry.recommended,
    comparisons: entry.comparisons,
    rank: measured ? firstIndex + k + 1 : null,
    crowdScore: crowdScores.get(entry.promptId) ?? null,
    crowdRank: crowdRanks.get(entry.promptId) ?? null,
  }));

  // One axis for every page: the BT intervals of all prompts.
  let axisMin = 0;
  let axisMax = 0;
  for (const stat of statsByPrompt.values()) {
    axisMin = Math.min(axisMin, stat.lower);
    axisMax = Math.max(axisMax, stat.upper);
  }

  const convergence = prepared("dashboard.convergence", (database) =>
    database
      .select({
        voteCount: engineSnapshots.voteCount,
        recommendedPromptId: engineSnapshots.recommendedPromptId,
        pBest: engineSnapshots.pBest,
        converged: engineSnapshots.converged,
        recommendedComparisons: engineSnapshots.recommendedComparisons,
      })
      .from(engineSnapshots)
      .where(eq(engineSnapshots.studyId, sql.placeholder("studyId")))
      .orderBy(asc(engineSnapshots.voteCount), asc(engineSnapshots.id))
      .prepare(),
  ).all({ studyId });
  const firstConverged = convergence.find((point) => point.converged);
  const recordsById = new Map(records.map((record) => [record.promptId, record]));
  // The prompts the convergence strip names, coloured in the order they first led.
  const convergenceLegend = [...new Set(convergence.map((point) => point.recommendedPromptId).filter((id): id is number => id !== null))].map(
    (promptId, colorIndex) => ({ promptId, label: displayName(promptId, recordsById.get(promptId)?.label ?? null), colorIndex }),
  );
  const annotators = votesPerAnnotator(studyId);
  // What the engine counts as votes: everything but skips and the votes of excluded annotators.
  const decisiveVotes = annotators.reduce((total, row) => total + (row.excluded ? 0 : row.votes - row.skips), 0);
  const recommendedRecord = recommendedPromptId === null ? undefined : recordsById.get(recommendedPromptId);

  return {
    leaderboard: {
      rows,
      page: currentPage,
      pageCount,
      pageSize,
      total: ranked.length,
      unmeasured: ranked.filter(({ measured }) => !measured).length,
      unvoted: ranked.filter(({ entry }) => entry.comparisons === 0).length,
      axis: { min: axisMin, max: axisMax },
    },
    // The recommended prompt in full, for the owner to copy.
    recommended: recommendedRecord
      ? {
          promptId: recommendedRecord.promptId,
          label: recommendedRecord.label,
          text: texts.get(recommendedRecord.promptId) ?? "",
          comparisons: recommendedRecord.wins + recommendedRecord.losses + recommendedRecord.ties + recommendedRecord.bothBad,
        }
      : null,
    convergence: convergence.map(({ voteCount, recommendedPromptId, pBest, recommendedComparisons }): ConvergencePoint => ({
      voteCount,
      recommendedPromptId,
      pBest,
      recommendedComparisons,
    })),
    convergenceLegend,
    convergenceJoins: joinMarkers(studyId),
    minComparisonsForPBest: MIN_COMPARISONS_TO_RANK,
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
    // The crowd model beside the ranking: as of which vote, whether newer votes are being fitted, its side term, and its
    // leader when that is not the ranking's.
    crowd: crowdFit
      ? {
          votes: crowdFit.votes,
          truncated: crowdFit.truncated,
          computedAt: crowdFit.computedAt,
          pending: crowdPending,
          side: crowdFit.side,
          leftShareAtEqualScores: crowdFit.leftShareAtEqualScores,
          flaggedAnnotators: crowdFit.annotators.filter((row) => row.flagged).length,
          differentLeader:
            crowdLeaderDiffers && crowdLeaderId !== null
              ? {
                  promptId: crowdLeaderId,
                  name: displayName(crowdLeaderId, recordsById.get(crowdLeaderId)?.label ?? null),
                  text: texts.get(crowdLeaderId) ?? "",
                }
              : null,
        }
      : null,
    winMatrix: winMatrix(top.map(({ entry }) => entry.record)),
    votesPerAnnotator: annotators,
    // Why the engine's recommendation is not the raw-vote Bradley–Terry leader, when it is not (null otherwise).
    recommendationNote: recommendationNote(
      recommendedPromptId,
      records.map((record) => {
        const stat = statsByPrompt.get(record.promptId);
        return {
          promptId: record.promptId,
          name: displayName(record.promptId, record.label),
          wins: record.wins,
          losses: record.losses,
          score: stat?.score ?? null,
          utility: stat?.utility ?? null,
          engineScore: stat?.engineScore ?? null,
        };
      }),
      headToHead,
    ),
  };
}

export type Dashboard = ReturnType<typeof getDashboard>;

/** Growth rounds whose prompts joined, by the vote count they joined at (one row per round: few). */
function joinMarkers(studyId: number): JoinMarker[] {
  const rows = prepared("dashboard.joinMarkers", (database) =>
    database
      .select({ id: growthRounds.id, joinedAtVotes: growthRounds.joinedAtVotes, result: growthRounds.result, requestedBy: growthRounds.requestedBy })
      .from(growthRounds)
      .where(and(eq(growthRounds.studyId, sql.placeholder("studyId")), isNotNull(growthRounds.joinedAtVotes)))
      .orderBy(asc(growthRounds.joinedAtVotes), asc(growthRounds.id))
      .prepare(),
  ).all({ studyId });
  return rows.map((row) => ({
    roundId: row.id,
    voteCount: row.joinedAtVotes!,
    added: row.result?.added.length ?? 0,
    automatic: row.requestedBy?.userId === null && row.requestedBy.label === AUTO_ROUNDS_ACTOR,
  }));
}

const displayName = (promptId: number, label: string | null) => label ?? `#${promptId}`;

/** Decisive wins of one prompt over another (the pair's tally; ties and both-bad count for neither). One indexed read. */
function headToHead(winner: number, loser: number): number {
  const [low, high] = winner < loser ? [winner, loser] : [loser, winner];
  const pair = prepared("dashboard.pairTally", (database) =>
    database
      .select({ lowWins: pairTallies.lowWins, highWins: pairTallies.highWins })
      .from(pairTallies)
      .where(and(eq(pairTallies.lowPromptId, sql.placeholder("low")), eq(pairTallies.highPromptId, sql.placeholder("high"))))
      .prepare(),
  ).get({ low, high });
  if (!pair) return 0;
  return winner === low ? pair.lowWins : pair.highWins;
}

/**
 * Per-prompt wins, losses, ties and both-bad votes (the tallies; skips count for nobody), without the
 * texts: one row of numbers per prompt, the only part of the dashboard that grows with the pool. Read
 * as arrays (`values`): drizzle's per-field row mapping cost more than the query at 1,000 prompts.
 */
function promptRecords(studyId: number): PromptRecord[] {
  const rows = prepared("dashboard.promptRecords", (database) =>
    database
      .select({
        promptId: prompts.id,
        label: prompts.label,
        active: prompts.active,
        ...promptRecordColumns,
      })
      .from(prompts)
      .leftJoin(promptTallies, eq(promptTallies.promptId, prompts.id))
      .where(eq(prompts.studyId, sql.placeholder("studyId")))
      .prepare(),
  ).values({ studyId }) as [number, string | null, number, number, number, number, number][];
  return rows.map(([promptId, label, active, wins, losses, ties, bothBad]) => ({
    promptId,
    label,
    active: active === 1,
    wins,
    losses,
    ties,
    bothBad,
  }));
}

/** `column` is one of the ids of the JSON array bound as `name` (one prepared statement for any number of ids). */
const inJsonIds = (column: SQLiteColumn, name: string) => sql`${column} in (select value from json_each(${sql.placeholder(name)}))`;

/** The texts of a few prompts (a page of the leaderboard, the win matrix, the recommended one). */
function promptTexts(promptIds: number[]): Map<number, string> {
  const rows = prepared("dashboard.promptTexts", (database) =>
    database.select({ promptId: prompts.id, text: prompts.text }).from(prompts).where(inJsonIds(prompts.id, "ids")).prepare(),
  ).all({ ids: JSON.stringify([...new Set(promptIds)]) });
  return new Map(rows.map((row) => [row.promptId, row.text]));
}

/**
 * The win matrix of the top prompts, ties kept apart: wins[i][j] = decisive votes where prompt i beat
 * prompt j; draws[i][j] = draws[j][i] = votes on the pair that were a tie or both bad (the pair tally
 * keeps the two together). The Bradley–Terry fit counts a draw as half a win to each side
 * (bandit/leaderboard.ts); the matrix shows the counts, not that convention.
 */
function winMatrix(top: PromptRecord[]) {
  const promptIds = top.map((entry) => entry.promptId);
  const index = new Map(promptIds.map((id, i) => [id, i]));
  const wins = promptIds.map(() => promptIds.map(() => 0));
  const draws = promptIds.map(() => promptIds.map(() => 0));
  const ids = JSON.stringify(promptIds);
  const pairs =
    promptIds.length < 2
      ? []
      : prepared("dashboard.winMatrix", (database) =>
          database
            .select()
            .from(pairTallies)
            .where(and(inJsonIds(pairTallies.lowPromptId, "lowIds"), inJsonIds(pairTallies.highPromptId, "highIds")))
            .prepare(),
        ).all({ lowIds: ids, highIds: ids });
  for (const pair of pairs) {
    const low = index.get(pair.lowPromptId)!;
    const high = index.get(pair.highPromptId)!;
    wins[low]![high]! += pair.lowWins;
    wins[high]![low]! += pair.highWins;
    draws[low]![high]! += pair.draws;
    draws[high]![low]! += pair.draws;
  }
  return { promptIds, labels: top.map((entry) => displayName(entry.promptId, entry.label)), wins, draws };
}

/** A study's responses by generation status: what is ready, still generating, or failed (one grouped count). */
export function responseStatusCounts(studyId: number): Record<(typeof RESPONSE_STATUSES)[number], number> {
  const counts = { pending: 0, ready: 0, error: 0 };
  const rows = prepared("dashboard.responseStatus", (database) =>
    database
      .select({ status: responses.status, n: count() })
      .from(responses)
      .innerJoin(prompts, eq(prompts.id, responses.promptId))
      // Not those to queries an addition has not published (ADR 0043).
      .innerJoin(queries, and(eq(queries.id, responses.queryId), eq(queries.studyId, prompts.studyId)))
      .where(eq(prompts.studyId, sql.placeholder("studyId")))
      .groupBy(responses.status)
      .prepare(),
  ).all({ studyId });
  for (const row of rows) counts[row.status] = row.n;
  return counts;
}

/**
 * Votes per annotator; `removed` flags an annotator an owner took out (their votes still count),
 * `excluded` one whose votes an owner excluded from the leaderboard and engine, `member` a study
 * member voting as themselves (not blind).
 */
function votesPerAnnotator(studyId: number) {
  return prepared("dashboard.votesPerAnnotator", (database) =>
    database
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
      .where(and(eq(annotatorTallies.studyId, sql.placeholder("studyId")), gt(annotatorTallies.votes, 0)))
      .orderBy(desc(annotatorTallies.votes), asc(annotatorTallies.annotatorId))
      .prepare(),
  ).all({ studyId });
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
