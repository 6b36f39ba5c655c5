import { z } from "zod";
import type { GenerationSettings } from "../../db/text";
import { decimalId } from "~/utils/strict-fields";
import { sideBySideDiff } from "~/utils/word-diff";
import { rivalsOnQuery, summarize, verdict, winShareInterval } from "./leader-results";
import {
  focusRecords,
  promptsInRankOrder,
  queriesPage,
  queryResponses,
  responseCells,
  studyQueriesById,
  studyQueryTags,
  studyQuery,
  studyTagCounts,
  tagsOfQueries,
} from "./query-results.server";
import { MAX_TAG_CHARS, normalizeTag } from "./query-tags";

// The owner's per-query pages (ADR 0029): the responses matrix, one query's page with the diff of two
// responses, and "where the leader loses". Each loader reads a page's worth: QUERIES_PER_PAGE queries
// × at most MAX_PROMPT_COLUMNS prompts, never the whole study.

export const QUERIES_PER_PAGE = 20;
export const PROMPT_COLUMNS = 6;
export const MAX_PROMPT_COLUMNS = 8;
export const RESPONSES_PER_PAGE = 20;
export const LOSING_QUERIES_PER_PAGE = 25;
export const TAGS_LISTED = 100;
export const RIVALS_LISTED = 20;

const page = decimalId("page must be a positive whole number").optional().default(1);
const promptId = (name: string) => decimalId(`${name} must be a prompt id (a positive whole number)`).optional();

/** The views' URL parameters; anything else in the URL is ignored, anything malformed here is a 400. */
export const QueryViewParamsSchema = z.object({
  page,
  // A page of prompt columns (1-based), in leaderboard order, when `prompts` does not name them.
  cols: page,
  tag: z
    .string({ error: "tag must be text" })
    .max(MAX_TAG_CHARS * 2, "tag is too long")
    .optional()
    .transform((tag) => (tag ? normalizeTag(tag) || undefined : undefined)),
  prompts: z
    .string({ error: "prompts must be a comma-separated list of prompt ids" })
    .optional()
    .transform((text, ctx) => {
      if (!text?.trim()) return undefined;
      const ids = text.split(",").map((part) => part.trim().replace(/^#/, ""));
      if (ids.some((id) => !/^[1-9]\d{0,15}$/.test(id))) {
        ctx.addIssue({ code: "custom", message: `prompts must be prompt ids separated by commas, like "3, 7, 12" (got "${text.slice(0, 60)}")` });
        return z.NEVER;
      }
      const unique = [...new Set(ids.map(Number))];
      if (unique.length > MAX_PROMPT_COLUMNS) {
        ctx.addIssue({ code: "custom", message: `at most ${MAX_PROMPT_COLUMNS} prompt columns at once (${unique.length} given)` });
        return z.NEVER;
      }
      return unique;
    }),
  focus: promptId("focus"),
  rival: promptId("rival"),
  a: promptId("a"),
  b: promptId("b"),
});
export type QueryViewParams = z.infer<typeof QueryViewParamsSchema>;

/** The URL's parameters, or a 400 naming what is wrong. */
export function readViewParams(request: Request): QueryViewParams {
  const url = new URL(request.url);
  const raw: Record<string, string> = {};
  for (const key of Object.keys(QueryViewParamsSchema.shape)) {
    const value = url.searchParams.get(key);
    if (value !== null) raw[key] = value;
  }
  const parsed = QueryViewParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = Object.entries(z.flattenError(parsed.error).fieldErrors).flatMap(([, messages]) => messages ?? []);
    throw new Response(`Bad request: ${problems.join("; ")}`, { status: 400, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }
  return parsed.data;
}

function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / size));
}

type RankedPrompt = ReturnType<typeof promptsInRankOrder>["prompts"][number];
const promptSummary = (prompt: RankedPrompt) => ({
  id: prompt.id,
  label: prompt.label,
  active: prompt.active,
  excerpt: prompt.text.length > 160 ? `${prompt.text.slice(0, 160)}…` : prompt.text,
});

/** The queries × prompts matrix: a page of queries, a few prompt columns, one cell per response. */
export function responsesMatrixView(studyId: number, settings: GenerationSettings, params: QueryViewParams) {
  const ranked = promptsInRankOrder(studyId);
  const byId = new Map(ranked.prompts.map((prompt) => [prompt.id, prompt]));
  const columnPages = pageCount(ranked.prompts.length, PROMPT_COLUMNS);
  const chosen = params.prompts?.map((id) => byId.get(id)).filter((prompt) => prompt !== undefined);
  const columnPage = Math.min(params.cols, columnPages);
  const columns = chosen ?? ranked.prompts.slice((columnPage - 1) * PROMPT_COLUMNS, columnPage * PROMPT_COLUMNS);
  const queryPage = queriesPage(studyId, { tag: params.tag ?? null, page: params.page, pageSize: QUERIES_PER_PAGE });
  const queryIds = queryPage.rows.map((query) => query.id);
  const cells = responseCells(
    settings,
    columns.map((prompt) => prompt.id),
    queryIds,
  );
  const tags = tagsOfQueries(studyId, queryIds);
  return {
    leaderId: ranked.leaderId,
    promptCount: ranked.prompts.length,
    columns: columns.map(promptSummary),
    columnsChosen: chosen !== undefined,
    columnPage,
    columnPages,
    queries: queryPage.rows.map((query) => ({ ...query, tags: tags.get(query.id) ?? [] })),
    queryTotal: queryPage.total,
    page: params.page,
    pages: pageCount(queryPage.total, QUERIES_PER_PAGE),
    tag: params.tag ?? null,
    tagCounts: studyTagCounts(studyId, TAGS_LISTED),
    cells,
  };
}

/** One query: its responses (a page of prompts), the leader's record against each rival on it, and the diff of two responses. */
export function queryView(studyId: number, settings: GenerationSettings, queryId: number, params: QueryViewParams) {
  const query = studyQuery(studyId, queryId);
  if (!query) return null;
  const ranked = promptsInRankOrder(studyId);
  const byId = new Map(ranked.prompts.map((prompt) => [prompt.id, prompt]));
  const pages = pageCount(ranked.prompts.length, RESPONSES_PER_PAGE);
  const shown = ranked.prompts.slice((Math.min(params.page, pages) - 1) * RESPONSES_PER_PAGE, Math.min(params.page, pages) * RESPONSES_PER_PAGE);
  const focusId = params.focus !== undefined && byId.has(params.focus) ? params.focus : ranked.leaderId;
  const rivals = focusId === null ? [] : rivalsOnQuery(focusRecords(studyId, focusId), queryId);

  // The diff: the two prompts named, else the focus prompt and its first rival on this query (or the next prompt in rank order).
  const diffA = params.a !== undefined && byId.has(params.a) ? params.a : (focusId ?? ranked.prompts[0]?.id);
  const fallbackB = rivals.find((rival) => rival.rivalId !== diffA)?.rivalId ?? ranked.prompts.find((prompt) => prompt.id !== diffA)?.id;
  const diffB = params.b !== undefined && byId.has(params.b) ? params.b : fallbackB;
  const diffResponses = diffA !== undefined && diffB !== undefined ? queryResponses(settings, queryId, [diffA, diffB]) : [];
  const textOf = (id: number | undefined) =>
    diffResponses.find((response) => response.promptId === id && response.status === "ready")?.content ?? null;
  const leftText = textOf(diffA);
  const rightText = textOf(diffB);

  return {
    query: { ...query, tags: tagsOfQueries(studyId, [queryId]).get(queryId) ?? [] },
    leaderId: ranked.leaderId,
    focusId,
    rivals: rivals.slice(0, RIVALS_LISTED).map((rival) => ({ ...rival, prompt: promptSummary(byId.get(rival.rivalId)!) })),
    rivalsTotal: rivals.length,
    page: Math.min(params.page, pages),
    pages,
    promptCount: ranked.prompts.length,
    responses: (() => {
      const found = new Map(
        queryResponses(
          settings,
          queryId,
          shown.map((prompt) => prompt.id),
        ).map((response) => [response.promptId, response]),
      );
      return shown.map((prompt) => ({ prompt: promptSummary(prompt), response: found.get(prompt.id) ?? null }));
    })(),
    diff:
      diffA !== undefined && diffB !== undefined
        ? {
            a: promptSummary(byId.get(diffA)!),
            b: promptSummary(byId.get(diffB)!),
            leftMissing: leftText === null,
            rightMissing: rightText === null,
            leftText,
            rightText,
            segments: leftText !== null && rightText !== null ? sideBySideDiff(leftText, rightText) : null,
          }
        : null,
  };
}

/** The leader's (or a chosen prompt's) record per rival, per tag and per query; the queries it loses, a page at a time. */
export function whereLeaderLosesView(studyId: number, params: QueryViewParams) {
  const ranked = promptsInRankOrder(studyId);
  const byId = new Map(ranked.prompts.map((prompt) => [prompt.id, prompt]));
  const focusId = params.focus !== undefined && byId.has(params.focus) ? params.focus : ranked.leaderId;
  if (focusId === null) return { focus: null };
  const rivalId = params.rival !== undefined && byId.has(params.rival) && params.rival !== focusId ? params.rival : null;
  const summary = summarize(focusRecords(studyId, focusId), studyQueryTags(studyId), rivalId);
  const pages = pageCount(summary.losingQueries.length, LOSING_QUERIES_PER_PAGE);
  const current = Math.min(params.page, pages);
  const losingPage = summary.losingQueries.slice((current - 1) * LOSING_QUERIES_PER_PAGE, current * LOSING_QUERIES_PER_PAGE);
  const queryById = studyQueriesById(
    studyId,
    losingPage.map((result) => result.queryId),
  );
  const tagsOfPage = tagsOfQueries(
    studyId,
    losingPage.map((result) => result.queryId),
  );
  const totalOf = (record: { wins: number; losses: number; draws: number }) => record.wins + record.losses + record.draws;
  return {
    focus: promptSummary(byId.get(focusId)!),
    leaderId: ranked.leaderId,
    leaderIsRecommendation: ranked.leaderIsRecommendation,
    rival: rivalId === null ? null : promptSummary(byId.get(rivalId)!),
    overall: summary.overall,
    overallInterval: winShareInterval(summary.overall),
    queriesWithVotes: summary.queriesWithVotes,
    rivals: summary.rivals
      .sort((x, y) => totalOf(y.record) - totalOf(x.record) || x.rivalId - y.rivalId)
      .slice(0, RIVALS_LISTED)
      .map((rival) => ({ ...rival, prompt: promptSummary(byId.get(rival.rivalId)!), interval: winShareInterval(rival.record) })),
    rivalsTotal: summary.rivals.length,
    tags: summary.tags.slice(0, TAGS_LISTED).map((tag) => ({ ...tag, verdict: verdict(tag.record), interval: winShareInterval(tag.record) })),
    tagsTotal: summary.tags.length,
    losingTotal: summary.losingQueries.length,
    losing: losingPage.map((result) => ({
      ...result,
      verdict: verdict(result.record),
      query: queryById.get(result.queryId) ?? null,
      tags: tagsOfPage.get(result.queryId) ?? [],
    })),
    page: current,
    pages,
  };
}
