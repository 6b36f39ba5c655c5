import type { VoteChoice } from "../../db/schema";
import { voteDuel } from "./vote-duel";

// "Where the winner loses" (issue 18 §6): one prompt's record against each rival, per query and per
// query tag, from the stored votes. Pure: the rows come from SQLite already counted per (query, shown
// pair, choice) (app/models/query-results.server.ts), so the cost is in distinct rows, not votes.

/** Decisive wins and losses of the focus prompt, and draws (ties and "both bad"); skips count for nobody. */
export interface DuelRecord {
  wins: number;
  losses: number;
  draws: number;
}

/** Votes of one kind on one query for one shown pair, as `select ..., count(*) group by` returns them. */
export interface CountedVote {
  queryId: number;
  promptAId: number;
  promptBId: number;
  leftIsA: boolean;
  choice: VoteChoice;
  votes: number;
}

/** queryId → rivalId → the focus prompt's record against that rival on that query. */
export type RecordsByQuery = Map<number, Map<number, DuelRecord>>;

export const emptyRecord = (): DuelRecord => ({ wins: 0, losses: 0, draws: 0 });

function add(into: DuelRecord, record: DuelRecord): void {
  into.wins += record.wins;
  into.losses += record.losses;
  into.draws += record.draws;
}

/**
 * The focus prompt's record against each rival on each query. A vote counts when the focus prompt was
 * one of its pair; the side it was shown on comes from left_is_a (voteDuel). Cost O(rows).
 */
export function recordsByQuery(focusPromptId: number, rows: Iterable<CountedVote>): RecordsByQuery {
  const byQuery: RecordsByQuery = new Map();
  for (const row of rows) {
    const duel = voteDuel(row);
    if (!duel || (duel.left !== focusPromptId && duel.right !== focusPromptId)) continue;
    const rival = duel.left === focusPromptId ? duel.right : duel.left;
    // The focus prompt's outcome: 1 a win, 0 a loss, 0.5 a draw.
    const outcome = duel.left === focusPromptId ? duel.outcome : 1 - duel.outcome;
    let rivals = byQuery.get(row.queryId);
    if (!rivals) byQuery.set(row.queryId, (rivals = new Map()));
    let record = rivals.get(rival);
    if (!record) rivals.set(rival, (record = emptyRecord()));
    if (outcome === 1) record.wins += row.votes;
    else if (outcome === 0) record.losses += row.votes;
    else record.draws += row.votes;
  }
  return byQuery;
}

/** One query's (or tag's, or rival's) record, against one rival or all of them together. */
function recordOf(rivals: Map<number, DuelRecord> | undefined, rivalId: number | null): DuelRecord {
  const total = emptyRecord();
  if (!rivals) return total;
  if (rivalId !== null) {
    const record = rivals.get(rivalId);
    if (record) add(total, record);
    return total;
  }
  for (const record of rivals.values()) add(total, record);
  return total;
}

/**
 * Wilson score interval (95 %) for the share of decisive votes the focus prompt won; null without a
 * decisive vote. p̂ = w/n, centre (p̂ + z²/2n)/(1 + z²/n), half-width z·sqrt(p̂(1−p̂)/n + z²/4n²)/(1 + z²/n),
 * z = 1.96 (Wilson 1927; Agresti & Coull 1998). O(1).
 */
export function winShareInterval(record: DuelRecord): { share: number; lower: number; upper: number } | null {
  const n = record.wins + record.losses;
  if (n === 0) return null;
  const z = 1.959964;
  const share = record.wins / n;
  const denominator = 1 + (z * z) / n;
  const centre = (share + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((share * (1 - share)) / n + (z * z) / (4 * n * n))) / denominator;
  return { share, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** How a record reads: "loses" when it lost more decisive votes than it won, "clearly" when the interval is all below one half. */
export function verdict(record: DuelRecord): "wins" | "even" | "loses" | "loses clearly" {
  if (record.wins > record.losses) return "wins";
  if (record.wins === record.losses) return "even";
  const interval = winShareInterval(record);
  return interval && interval.upper < 0.5 ? "loses clearly" : "loses";
}

export interface QueryResult {
  queryId: number;
  record: DuelRecord;
}

export interface TagResult {
  tag: string;
  /** Tagged queries with at least one vote counted here. */
  queriesWithVotes: number;
  record: DuelRecord;
}

export interface RivalResult {
  rivalId: number;
  record: DuelRecord;
}

/**
 * The views of the page: the focus prompt's record against each rival over every query, per query
 * and per tag (against `rivalId`, or every rival together when null), and the queries it loses (more
 * decisive losses than wins), worst first. Cost O(rows of byQuery + tag rows).
 */
export function summarize(byQuery: RecordsByQuery, tagsOfQuery: ReadonlyMap<number, readonly string[]>, rivalId: number | null) {
  const byRival = new Map<number, DuelRecord>();
  const perQuery: QueryResult[] = [];
  const byTag = new Map<string, TagResult>();
  for (const [queryId, rivals] of byQuery) {
    for (const [rival, record] of rivals) {
      let total = byRival.get(rival);
      if (!total) byRival.set(rival, (total = emptyRecord()));
      add(total, record);
    }
    const record = recordOf(rivals, rivalId);
    if (record.wins + record.losses + record.draws === 0) continue;
    perQuery.push({ queryId, record });
    for (const tag of tagsOfQuery.get(queryId) ?? []) {
      let result = byTag.get(tag);
      if (!result) byTag.set(tag, (result = { tag, queriesWithVotes: 0, record: emptyRecord() }));
      result.queriesWithVotes++;
      add(result.record, record);
    }
  }
  const margin = (record: DuelRecord) => record.losses - record.wins;
  const losing = perQuery
    .filter((result) => result.record.losses > result.record.wins)
    .sort((x, y) => margin(y.record) - margin(x.record) || y.record.losses - x.record.losses || x.queryId - y.queryId);
  const overall = emptyRecord();
  for (const result of perQuery) add(overall, result.record);
  return {
    overall,
    rivals: [...byRival].map(([id, record]): RivalResult => ({ rivalId: id, record })),
    queriesWithVotes: perQuery.length,
    tags: [...byTag.values()].sort((x, y) => margin(y.record) - margin(x.record) || x.tag.localeCompare(y.tag)),
    losingQueries: losing,
  };
}

/** The focus prompt's record against each rival on one query, most votes first. */
export function rivalsOnQuery(byQuery: RecordsByQuery, queryId: number): RivalResult[] {
  return [...(byQuery.get(queryId) ?? new Map<number, DuelRecord>())]
    .map(([rivalId, record]) => ({ rivalId, record }))
    .sort((x, y) => total(y.record) - total(x.record) || x.rivalId - y.rivalId);
}

function total(record: DuelRecord): number {
  return record.wins + record.losses + record.draws;
}
