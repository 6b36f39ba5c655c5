import { and, asc, count, desc, eq, getTableColumns, inArray, lt, ne, sql } from "drizzle-orm";
import { engineSnapshots, type PromptStat } from "../../db/schema";
import { db } from "~/db.server";
import type { SelectionState, StatisticsState } from "./protocol";

// Engine snapshots: what the dashboard shows of the engine (utility, uncertainty, BT interval,
// P(best), the stopping rule), written when the statistics for a selection arrive. The dashboard
// reads them without a running engine.
//
// Storage is bounded per study however long it runs (issue 14; ADR 0009, the bound in ADR 0027:
// snapshotStorageBound): only the latest row keeps its per-prompt statistics (about 230 bytes a prompt); older rows keep just what the convergence
// chart draws (votes, recommended prompt, P(best), converged), and once there are more than
// MAX_SERIES_ROWS of them the series is thinned to a few rows in each of
// SERIES_BUCKETS equal spans of the vote count: each span's first and last row, its lowest and highest
// P(best), and the first row of (up to three of) the prompts recommended in it, so the chart keeps its shape (the
// line's envelope and every change of leader at its resolution) and where the study converged.

export const MAX_SERIES_ROWS = 300;
export const SERIES_BUCKETS = 40;
// First, last, lowest, highest and up to three leaders: at most 7 rows a span, 280 after thinning.
const LEADERS_PER_BUCKET = 3;

// The storage bound (ADR 0027), in SQLite pages of the snapshot table and its index, for one study:
// - the series: at most MAX_SERIES_ROWS rows without statistics, each under 100 bytes with its cell
//   and index entry (~130): 39 KB of cells, counted twice for pages that are not full: 64 KB;
// - the latest row's statistics: JSON of at most 280 bytes a prompt (an id and seven numbers written
//   in full, up to 24 characters each, with their keys; ~230 bytes measured), stored in overflow pages
//   of 4,092 usable bytes out of 4,096.
const SERIES_STORAGE_BYTES = 64 * 1024;
const PROMPT_STATS_MAX_BYTES = 280;
const OVERFLOW_PAGE_BYTES = 4096;
const OVERFLOW_PAGE_USABLE_BYTES = 4092;

/** The most snapshot storage one study of `promptCount` prompts takes however long it runs (bytes of SQLite pages; ADR 0027). */
export function snapshotStorageBound(promptCount: number): number {
  const overflowPages = Math.ceil((PROMPT_STATS_MAX_BYTES * promptCount) / OVERFLOW_PAGE_USABLE_BYTES);
  return SERIES_STORAGE_BYTES + overflowPages * OVERFLOW_PAGE_BYTES;
}

/** Vote count of the study's latest snapshot, or -1 without one. */
export function latestSnapshotVotes(studyId: number): number {
  return (
    db()
      .select({ voteCount: engineSnapshots.voteCount })
      .from(engineSnapshots)
      .where(eq(engineSnapshots.studyId, studyId))
      .orderBy(desc(engineSnapshots.id))
      .get()?.voteCount ?? -1
  );
}

/** Stores one snapshot pairing a selection (the policy's estimates) with the statistics computed for it. */
export function writeSnapshot(
  studyId: number,
  policy: string,
  armPromptIds: readonly number[],
  selection: SelectionState,
  stats: StatisticsState,
): void {
  const { utilities, uncertainties, recommendationScores, recommended } = selection;
  const statsByArm = new Map(stats.arms.map((row) => [row.arm, row]));
  const promptStats: PromptStat[] = armPromptIds.map((promptId, arm) => {
    const row = statsByArm.get(arm);
    return {
      promptId,
      utility: utilities[arm] ?? 0,
      uncertainty: uncertainties[arm] ?? 0,
      // What the recommendation ranks by; null for a prompt that cannot be recommended yet (JSON has no -Infinity).
      engineScore: Number.isFinite(recommendationScores[arm]) ? recommendationScores[arm]! : null,
      pBest: row?.probabilityBest ?? 0,
      score: row?.score ?? 0,
      lower: row?.lower ?? 0,
      upper: row?.upper ?? 0,
    };
  });
  const recommendedPromptId = stats.voteCount > 0 ? (armPromptIds[recommended] ?? null) : null;
  db().transaction((tx) => {
    const { id } = tx
      .insert(engineSnapshots)
      .values({
        studyId,
        voteCount: stats.voteCount,
        policy,
        recommendedPromptId,
        pBest: statsByArm.get(recommended)?.probabilityBest ?? null,
        converged: stats.converged,
        votesStillNeeded: stats.votesStillNeeded,
        leftWinRate: stats.leftWinRate,
        promptStats,
        recommendedComparisons: stats.voteCount > 0 ? (statsByArm.get(recommended)?.comparisons ?? null) : null,
      })
      .returning({ id: engineSnapshots.id })
      .get();
    boundSnapshots(tx, studyId, id);
  });
}

type Transaction = Parameters<Parameters<ReturnType<typeof db>["transaction"]>[0]>[0];

/**
 * Empties the per-prompt statistics of every row but `latestId` and thins the series past MAX_SERIES_ROWS.
 *
 * A superseded row is deleted and inserted again without its statistics (same id, same values)
 * rather than updated: SQLite rebalances a b-tree page after a delete but not after an update that
 * shrinks a row, so an emptied row kept the whole leaf page its large statistics had filled (a page
 * per row, ~1.2 MB for 300 rows just before a thinning, whatever the prompt count; ADR 0027).
 */
function boundSnapshots(tx: Transaction, studyId: number, latestId: number) {
  const { promptStats: _promptStats, ...seriesColumns } = getTableColumns(engineSnapshots);
  const superseded = tx
    .select(seriesColumns)
    .from(engineSnapshots)
    .where(and(eq(engineSnapshots.studyId, studyId), lt(engineSnapshots.id, latestId), ne(sql`${engineSnapshots.promptStats}`, "[]")))
    .all();
  if (superseded.length > 0) {
    tx.delete(engineSnapshots)
      .where(
        inArray(
          engineSnapshots.id,
          superseded.map((row) => row.id),
        ),
      )
      .run();
    tx.insert(engineSnapshots)
      .values(superseded.map((row) => ({ ...row, promptStats: [] })))
      .run();
  }
  const rows = tx.select({ n: count() }).from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).get()?.n ?? 0;
  if (rows <= MAX_SERIES_ROWS) return;
  const series = tx
    .select({
      id: engineSnapshots.id,
      voteCount: engineSnapshots.voteCount,
      pBest: engineSnapshots.pBest,
      recommendedPromptId: engineSnapshots.recommendedPromptId,
      converged: engineSnapshots.converged,
    })
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(asc(engineSnapshots.voteCount), asc(engineSnapshots.id))
    .all();
  const keep = seriesShape(series, SERIES_BUCKETS);
  keep.add(latestId);
  const drop = series.filter((row) => !keep.has(row.id)).map((row) => row.id);
  for (let start = 0; start < drop.length; start += 500) {
    tx.delete(engineSnapshots)
      .where(and(eq(engineSnapshots.studyId, studyId), inArray(engineSnapshots.id, drop.slice(start, start + 500))))
      .run();
  }
}

export interface SeriesRow {
  id: number;
  voteCount: number;
  pBest: number | null;
  recommendedPromptId: number | null;
  converged: boolean;
}

/**
 * The ids of the rows that keep a series' shape (M4-style downsampling over equal spans of the vote
 * count, plus changes of leader): per span its first and last row, lowest and highest P(best), and
 * the first row of each recommended prompt (up to LEADERS_PER_BUCKET); and the first converged row. `series` in vote order.
 */
export function seriesShape(series: readonly SeriesRow[], buckets: number): Set<number> {
  const keep = new Set<number>();
  if (series.length === 0) return keep;
  const first = series[0]!.voteCount;
  const span = series[series.length - 1]!.voteCount - first + 1;
  const byBucket = new Map<number, SeriesRow[]>();
  for (const row of series) {
    const bucket = Math.min(buckets - 1, Math.floor(((row.voteCount - first) / span) * buckets));
    let rows = byBucket.get(bucket);
    if (!rows) byBucket.set(bucket, (rows = []));
    rows.push(row);
  }
  for (const rows of byBucket.values()) {
    keep.add(rows[0]!.id);
    keep.add(rows[rows.length - 1]!.id);
    const measured = rows.filter((row) => row.pBest !== null);
    if (measured.length > 0) {
      keep.add(measured.reduce((low, row) => (row.pBest! < low.pBest! ? row : low)).id);
      keep.add(measured.reduce((high, row) => (row.pBest! > high.pBest! ? row : high)).id);
    }
    const leaders = new Set<number | null>();
    for (const row of rows) {
      if (leaders.has(row.recommendedPromptId) || leaders.size >= LEADERS_PER_BUCKET) continue;
      leaders.add(row.recommendedPromptId);
      keep.add(row.id);
    }
  }
  const converged = series.find((row) => row.converged);
  if (converged) keep.add(converged.id);
  return keep;
}
