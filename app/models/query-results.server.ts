import { and, asc, count, desc, eq, inArray, max, sql } from "drizzle-orm";
import {
  annotatorTallies,
  assignmentIsCounted,
  assignments,
  engineSnapshots,
  prompts,
  queries,
  queryTags,
  responses,
  votePublished,
  votes,
  type VoteChoice,
} from "../../db/schema";
import { generationSettingsHash, type GenerationSettings } from "../../db/text";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";
import { recordsByQuery, type CountedVote, type RecordsByQuery } from "./leader-results";

// What the owner's per-query pages read (issue 15 §6, issue 18 §6): pages of queries, the responses
// of a few prompts to them, query tags, and one prompt's record per query. Every read is bounded by
// the page (queries × prompt columns), never by the study's size, except the per-query records,
// which scan the study's votes once and are then kept until a vote changes (leaderRecords).

/** Prompts in leaderboard order: the engine's recommendation, then by raw-vote Bradley–Terry score, then id. */
export function promptsInRankOrder(studyId: number) {
  const latest = db()
    .select({ recommended: engineSnapshots.recommendedPromptId, stats: engineSnapshots.promptStats })
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(desc(engineSnapshots.id))
    .get();
  const scoreOf = new Map((latest?.stats ?? []).map((stat) => [stat.promptId, stat.score]));
  const list = db()
    .select({ id: prompts.id, label: prompts.label, text: prompts.text, active: prompts.active })
    .from(prompts)
    .where(eq(prompts.studyId, studyId))
    .orderBy(asc(prompts.id))
    .all();
  const recommended = latest?.recommended ?? null;
  list.sort(
    (x, y) =>
      Number(y.id === recommended) - Number(x.id === recommended) ||
      (scoreOf.get(y.id) ?? -Infinity) - (scoreOf.get(x.id) ?? -Infinity) ||
      x.id - y.id,
  );
  // The leader: the recommendation, else the best-scored prompt; none before the first statistics run.
  const leaderId = recommended ?? (scoreOf.size > 0 ? list[0]!.id : null);
  return { prompts: list, leaderId, leaderIsRecommendation: recommended !== null };
}

export interface QueryPageOptions {
  tag: string | null;
  /** 1-based. */
  page: number;
  pageSize: number;
}

/** One page of the study's queries (oldest first), optionally only those carrying `tag`, with the count. */
export function queriesPage(studyId: number, options: QueryPageOptions) {
  const where = options.tag
    ? and(
        eq(queries.studyId, studyId),
        inArray(
          queries.id,
          db()
            .select({ id: queryTags.queryId })
            .from(queryTags)
            .where(and(eq(queryTags.studyId, studyId), eq(queryTags.tag, options.tag))),
        ),
      )
    : eq(queries.studyId, studyId);
  const total = db().select({ n: count() }).from(queries).where(where).get()?.n ?? 0;
  const rows = db()
    .select({ id: queries.id, text: queries.text, active: queries.active })
    .from(queries)
    .where(where)
    .orderBy(asc(queries.id))
    .limit(options.pageSize)
    .offset((options.page - 1) * options.pageSize)
    .all();
  return { total, rows };
}

/** One query of the study, or undefined. */
export function studyQuery(studyId: number, queryId: number) {
  return db()
    .select({ id: queries.id, text: queries.text, notes: queries.notes, active: queries.active })
    .from(queries)
    .where(and(eq(queries.id, queryId), eq(queries.studyId, studyId)))
    .get();
}

/** Queries of the study by id (those not in it are left out). */
export function studyQueriesById(studyId: number, ids: readonly number[]) {
  if (ids.length === 0) return new Map<number, { id: number; text: string; active: boolean }>();
  const rows = db()
    .select({ id: queries.id, text: queries.text, active: queries.active })
    .from(queries)
    .where(and(eq(queries.studyId, studyId), inArray(queries.id, [...ids])))
    .all();
  return new Map(rows.map((row) => [row.id, row]));
}

/** Longest response excerpt a matrix cell carries; the whole text is on the query's page. */
export const CELL_EXCERPT_CHARS = 280;

export interface ResponseCell {
  promptId: number;
  queryId: number;
  status: "pending" | "ready" | "error";
  error: string | null;
  excerpt: string | null;
  chars: number;
  promptTokens: number | null;
  completionTokens: number | null;
  costUsd: number | null;
}

/**
 * The responses, under the study's current generation settings, of `promptIds` to `queryIds`: an
 * excerpt of each, its status, tokens and cost. O(cells) through the unique (prompt, query, settings) index.
 */
export function responseCells(settings: GenerationSettings, promptIds: readonly number[], queryIds: readonly number[]): ResponseCell[] {
  if (promptIds.length === 0 || queryIds.length === 0) return [];
  return db()
    .select({
      promptId: responses.promptId,
      queryId: responses.queryId,
      status: responses.status,
      error: responses.error,
      excerpt: sql<string | null>`substr(${responses.content}, 1, ${CELL_EXCERPT_CHARS})`,
      chars: sql<number>`coalesce(length(${responses.content}), 0)`,
      promptTokens: responses.promptTokens,
      completionTokens: responses.completionTokens,
      costUsd: responses.costUsd,
    })
    .from(responses)
    .where(
      and(
        inArray(responses.promptId, [...promptIds]),
        inArray(responses.queryId, [...queryIds]),
        eq(responses.settingsHash, generationSettingsHash(settings)),
      ),
    )
    .all();
}

/** Full responses of `promptIds` to one query, under the current settings. */
export function queryResponses(settings: GenerationSettings, queryId: number, promptIds: readonly number[]) {
  if (promptIds.length === 0) return [];
  return db()
    .select({
      promptId: responses.promptId,
      status: responses.status,
      error: responses.error,
      content: responses.content,
      promptTokens: responses.promptTokens,
      completionTokens: responses.completionTokens,
      costUsd: responses.costUsd,
      latencyMs: responses.latencyMs,
    })
    .from(responses)
    .where(
      and(eq(responses.queryId, queryId), inArray(responses.promptId, [...promptIds]), eq(responses.settingsHash, generationSettingsHash(settings))),
    )
    .all();
}

// ---- tags -------------------------------------------------------------------------------------------

/** The tags of the given queries. */
export function tagsOfQueries(studyId: number, queryIds: readonly number[]): Map<number, string[]> {
  const tags = new Map<number, string[]>();
  if (queryIds.length === 0) return tags;
  const rows = db()
    .select({ queryId: queryTags.queryId, tag: queryTags.tag })
    .from(queryTags)
    .where(and(eq(queryTags.studyId, studyId), inArray(queryTags.queryId, [...queryIds])))
    .orderBy(asc(queryTags.queryId), asc(queryTags.tag))
    .all();
  for (const row of rows) tags.set(row.queryId, [...(tags.get(row.queryId) ?? []), row.tag]);
  return tags;
}

/** Every tag of the study's queries. O(tag rows of the study). */
export function studyQueryTags(studyId: number): Map<number, string[]> {
  const tags = new Map<number, string[]>();
  const rows = db().select({ queryId: queryTags.queryId, tag: queryTags.tag }).from(queryTags).where(eq(queryTags.studyId, studyId)).all();
  for (const row of rows) {
    const list = tags.get(row.queryId);
    if (list) list.push(row.tag);
    else tags.set(row.queryId, [row.tag]);
  }
  return tags;
}

/** The study's tags with how many queries carry each, most used first; at most `limit`. */
export function studyTagCounts(studyId: number, limit: number) {
  return db()
    .select({ tag: queryTags.tag, queries: count() })
    .from(queryTags)
    .where(eq(queryTags.studyId, studyId))
    .groupBy(queryTags.tag)
    .orderBy(desc(count()), asc(queryTags.tag))
    .limit(limit)
    .all();
}

/** Replaces a query's tags (normalised already, app/models/query-tags.ts); false when the query is not in the study. */
export function setQueryTags(tx: Queryable, studyId: number, queryId: number, tags: readonly string[]): boolean {
  const query = tx
    .select({ id: queries.id })
    .from(queries)
    .where(and(eq(queries.id, queryId), eq(queries.studyId, studyId)))
    .get();
  if (!query) return false;
  tx.delete(queryTags).where(eq(queryTags.queryId, queryId)).run();
  if (tags.length > 0)
    tx.insert(queryTags)
      .values(tags.map((tag) => ({ queryId, studyId, tag })))
      .run();
  return true;
}

// ---- one prompt's record per query --------------------------------------------------------------------

interface CachedRecords {
  focusPromptId: number;
  /** The votes the records were computed from: a vote added, undone or deleted changes one of them. */
  voteCount: number;
  lastVoteId: number;
  byQuery: RecordsByQuery;
}

// Per study, the latest computation; a handful of studies at most (an owner reads one at a time).
const recordCache = new Map<number, CachedRecords>();
const RECORD_CACHE_STUDIES = 8;

/** Which votes the study holds now, cheaply: the annotators' tallies (O(annotators)) and the newest vote id (one index seek). */
function voteState(studyId: number) {
  const tallied = db()
    .select({ n: sql<number>`coalesce(sum(${annotatorTallies.votes}), 0)` })
    .from(annotatorTallies)
    .where(eq(annotatorTallies.studyId, studyId))
    .get();
  const newest = db()
    .select({ id: max(votes.id) })
    .from(votes)
    .where(and(eq(votes.studyId, studyId), votePublished))
    .get();
  return { voteCount: tallied?.n ?? 0, lastVoteId: newest?.id ?? 0 };
}

/**
 * `focusPromptId`'s record against each rival on each query, from the stored votes. The votes of the
 * study are read once, counted per (query, shown pair, choice) in SQLite, and the result is kept until
 * the study's votes change; a page view while nobody votes costs two index reads.
 */
export function focusRecords(studyId: number, focusPromptId: number): RecordsByQuery {
  const state = voteState(studyId);
  const cached = recordCache.get(studyId);
  if (cached && cached.focusPromptId === focusPromptId && cached.voteCount === state.voteCount && cached.lastVoteId === state.lastVoteId) {
    return cached.byQuery;
  }
  const rows: CountedVote[] = db()
    .select({
      queryId: assignments.queryId,
      promptAId: assignments.promptAId,
      promptBId: assignments.promptBId,
      leftIsA: assignments.leftIsA,
      choice: sql<VoteChoice>`${votes.choice}`,
      votes: sql<number>`count(*)`,
    })
    .from(votes)
    .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
    .where(
      and(
        eq(votes.studyId, studyId),
        votePublished,
        sql`${votes.choice} <> 'skip'`,
        // An audit re-judges an item the annotator decided already: one person, one judgement (ADR 0034).
        assignmentIsCounted,
        sql`(${assignments.promptAId} = ${focusPromptId} or ${assignments.promptBId} = ${focusPromptId})`,
      ),
    )
    .groupBy(assignments.queryId, assignments.promptAId, assignments.promptBId, assignments.leftIsA, votes.choice)
    .all();
  const byQuery = recordsByQuery(focusPromptId, rows);
  recordCache.delete(studyId);
  recordCache.set(studyId, { focusPromptId, ...state, byQuery });
  while (recordCache.size > RECORD_CACHE_STUDIES) recordCache.delete(recordCache.keys().next().value!);
  return byQuery;
}
