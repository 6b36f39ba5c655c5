import { and, count, eq, sql } from "drizzle-orm";
import { prompts, promptTallies, queries, queryTags, responses, studies, promptRecordColumns } from "../../db/schema";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { queueStudyResponses } from "~/llm/generation-queue.server";
import type { Queryable } from "~/llm/queryable.server";
import { requestVariants } from "~/llm/variants.server";
import { insertStudyPrompts, type PromptSource, type StoredEmbedding } from "./prompts.server";
import { ImportError, type ParsedPrompt, type ParsedQuery, type ParsedResponse } from "~/utils/study-files.server";

// Creating a study and adding to it: every write of one owner action happens in one synchronous
// transaction (all-or-nothing), prompts get their offline embedding on insert, and the responses
// the new (prompt, query) pairs need are queued in the same transaction. Imports only relative
// modules and takes the database as an argument, so db/seed uses this same path for the demo study.
// The jobs (study-setup-jobs.server.ts) write the same rows with these functions, in chunks (ADR 0043).

export interface StudySettings {
  name: string;
  task: string;
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

/** A studies row with these settings: the one shape createStudy and the creation job insert. */
export function studyRow(settings: StudySettings, status: (typeof studies.$inferInsert)["status"]) {
  const { name, task, model, temperature, maxTokens, seed } = settings;
  return { name, task, model, temperature, maxTokens, seed, status };
}

export interface NewPrompt extends ParsedPrompt {
  source: PromptSource;
}

export interface NewStudy extends StudySettings {
  /** A new study is a draft (annotators are told it has not started) until the owner starts it. */
  status?: "draft" | "running";
  prompts: NewPrompt[];
  queries: ParsedQuery[];
  /** Generate this many rephrasings of `seedPrompt` (which is also added as a prompt) in the background. */
  variants: { seedPrompt: string; count: number } | null;
  /** Pre-generated responses; prompts and queries they name by text are added when missing. */
  responses: ParsedResponse[];
}

export interface AddedCounts {
  promptsAdded: number;
  promptDuplicates: number;
  queriesAdded: number;
  queryDuplicates: number;
  responsesQueued: number;
}

/** A prompt's stored embedding, computed ahead of the transaction by a job (the offline one otherwise). */
export type PromptEmbeddings = ReadonlyMap<string, StoredEmbedding>;

/** Adds prompts, skipping any whose normalised text the study already has. Returns ids of all given. */
export function insertPrompts(db: Queryable, studyId: number, list: NewPrompt[], embeddings: PromptEmbeddings = new Map()) {
  const { ids, addedIds, duplicates } = insertStudyPrompts(
    db,
    studyId,
    list.map((prompt) => ({ text: prompt.text, label: prompt.label, source: prompt.source, embedding: embeddings.get(prompt.text) })),
  );
  return { added: addedIds.length, duplicates, ids };
}

/**
 * Adds queries, skipping exact repeats of a query the study already has. A query's tags are added to
 * it, new or repeated (so a file with a tags column can tag queries the study already has).
 */
export function insertQueries(db: Queryable, studyId: number, list: ParsedQuery[]) {
  const insert = db
    .insert(queries)
    .values({ studyId, text: sql.placeholder("text"), notes: sql.placeholder("notes") })
    .onConflictDoNothing()
    .prepare();
  const idOfText = db
    .select({ id: queries.id })
    .from(queries)
    .where(and(eq(queries.studyId, studyId), eq(queries.text, sql.placeholder("text"))))
    .prepare();
  const insertTag = db
    .insert(queryTags)
    .values({ studyId, queryId: sql.placeholder("queryId"), tag: sql.placeholder("tag") })
    .onConflictDoNothing()
    .prepare();
  let added = 0;
  for (const query of list) {
    added += insert.run({ text: query.text, notes: query.notes }).changes;
    if (!query.tags?.length) continue;
    const queryId = idOfText.get({ text: query.text })!.id;
    for (const tag of query.tags) insertTag.run({ queryId, tag });
  }
  return { added, duplicates: list.length - added };
}

/**
 * Creates a study with its prompts, queries, queued responses, optional variant request and optional
 * pre-generated responses, in one transaction. Throws ImportError (nothing written) when a response
 * line cannot be stored.
 */
export function createStudy(db: Queryable, input: NewStudy, embeddings?: PromptEmbeddings): AddedCounts & { studyId: number } {
  return db.transaction((tx) => {
    const { id: studyId } = tx
      .insert(studies)
      .values(studyRow(input, input.status ?? "draft"))
      .returning({ id: studies.id })
      .get();
    const fromResponses = textsNamedByResponses(input.responses);
    const promptList: NewPrompt[] = [
      ...(input.variants ? [{ text: input.variants.seedPrompt, label: "seed", source: "manual" as const }] : []),
      ...input.prompts,
      ...fromResponses.prompts.map((text) => ({ text, label: null, source: "imported" as const })),
    ];
    const promptResult = insertPrompts(tx, studyId, promptList, embeddings);
    const queryResult = insertQueries(tx, studyId, [...input.queries, ...fromResponses.queries.map((text) => ({ text, notes: null }))]);
    if (input.variants) requestVariants(tx, { studyId, seedPromptId: promptResult.ids[0]!, count: input.variants.count });
    // Imported responses first: only the pairs still without one are queued for generation.
    if (input.responses.length > 0) importResponses(tx, studyId, input.responses);
    const responsesQueued = queueStudyResponses(tx, studyId);
    return {
      studyId,
      promptsAdded: promptResult.added,
      promptDuplicates: promptResult.duplicates,
      queriesAdded: queryResult.added,
      queryDuplicates: queryResult.duplicates,
      responsesQueued,
    };
  });
}

export function textsNamedByResponses(list: ParsedResponse[]) {
  const promptTexts = new Map<string, string>();
  const queryTexts = new Set<string>();
  for (const response of list) {
    if ("text" in response.prompt) promptTexts.set(normalizePromptText(response.prompt.text), response.prompt.text);
    if ("text" in response.query) queryTexts.add(response.query.text);
  }
  return { prompts: [...promptTexts.values()], queries: [...queryTexts] };
}

/** Adds prompts and queries to an existing study and queues the responses they need; one transaction. */
export function addToStudy(
  db: Queryable,
  studyId: number,
  additions: { prompts: NewPrompt[]; queries: ParsedQuery[] },
  embeddings?: PromptEmbeddings,
): AddedCounts {
  return db.transaction((tx) => {
    const promptResult = insertPrompts(tx, studyId, additions.prompts, embeddings);
    const queryResult = insertQueries(tx, studyId, additions.queries);
    return {
      promptsAdded: promptResult.added,
      promptDuplicates: promptResult.duplicates,
      queriesAdded: queryResult.added,
      queryDuplicates: queryResult.duplicates,
      responsesQueued: queueStudyResponses(tx, studyId),
    };
  });
}

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}…` : oneLine;
}

/** A pre-generated response matched to the study's prompt and query. */
export interface ResolvedResponse {
  promptId: number;
  queryId: number;
  content: string;
}

/**
 * Stores pre-generated responses as ready for the study's current settings, replacing any queued or
 * failed one for the same pair (and its generation figures). A ready response is never replaced:
 * votes were cast on its text; the same text again is accepted, another text is an error. Prompts match by normalised text or id, queries by text or id, both
 * within this study. All-or-nothing: the first line that names an unknown prompt or query, or repeats
 * a pair, throws ImportError and nothing is stored. Returns how many responses were stored.
 */
export function importResponses(db: Queryable, studyId: number, list: ParsedResponse[]): number {
  return db.transaction((tx) => {
    const { settingsHash, rows } = resolveResponses(tx, studyId, list);
    storeResponses(tx, settingsHash, rows);
    return list.length;
  });
}

/**
 * The prepared lookup of the response a (prompt, query) pair has under a settings hash, with its
 * status and text: what an import checks a response line against (resolveResponses, the raw-log
 * import's plan). One row at most (responses_prompt_query_settings_unique).
 */
export function storedResponseLookup(db: Queryable) {
  return db
    .select({ status: responses.status, content: responses.content })
    .from(responses)
    .where(
      and(
        eq(responses.promptId, sql.placeholder("promptId")),
        eq(responses.queryId, sql.placeholder("queryId")),
        eq(responses.settingsHash, sql.placeholder("settingsHash")),
      ),
    )
    .prepare();
}

/**
 * importResponses' checks, reading only (a job runs them before it takes the write lock): every line
 * matched to the study's prompt and query, or ImportError for the first that cannot be stored. Returns
 * the responses still to store (a ready one with the same text is left as it is).
 */
export function resolveResponses(db: Queryable, studyId: number, list: ParsedResponse[]): { settingsHash: string; rows: ResolvedResponse[] } {
  const study = db.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) throw new Error(`importResponses: study ${studyId} does not exist`);
  const settingsHash = generationSettingsHash(study);
  const studyPrompts = db.select({ id: prompts.id, normalizedText: prompts.normalizedText }).from(prompts).where(eq(prompts.studyId, studyId)).all();
  const studyQueries = db.select({ id: queries.id, text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).all();
  const promptByText = new Map(studyPrompts.map((p) => [p.normalizedText, p.id]));
  const promptIds = new Set(studyPrompts.map((p) => p.id));
  const queryByText = new Map(studyQueries.map((q) => [q.text.trim(), q.id]));
  const queryByNormalizedText = new Map(studyQueries.map((q) => [normalizePromptText(q.text), q.id]));
  const queryIds = new Set(studyQueries.map((q) => q.id));
  const firstLineOfPair = new Map<string, number>();
  const existing = storedResponseLookup(db);
  const rows: ResolvedResponse[] = [];
  for (const response of list) {
    const promptId =
      "id" in response.prompt
        ? promptIds.has(response.prompt.id)
          ? response.prompt.id
          : undefined
        : promptByText.get(normalizePromptText(response.prompt.text));
    if (promptId === undefined) {
      const what = "id" in response.prompt ? `id ${response.prompt.id}` : `"${preview(response.prompt.text)}"`;
      throw new ImportError(response.line, `no prompt in this study matches ${what}`);
    }
    const queryId =
      "id" in response.query
        ? queryIds.has(response.query.id)
          ? response.query.id
          : undefined
        : (queryByText.get(response.query.text) ?? queryByNormalizedText.get(normalizePromptText(response.query.text)));
    if (queryId === undefined) {
      const what = "id" in response.query ? `id ${response.query.id}` : `"${preview(response.query.text)}"`;
      throw new ImportError(response.line, `no query in this study matches ${what}`);
    }
    const pair = `${promptId}/${queryId}`;
    const earlier = firstLineOfPair.get(pair);
    if (earlier !== undefined) throw new ImportError(response.line, `repeats the prompt and query of line ${earlier}`);
    firstLineOfPair.set(pair, response.line);
    const stored = existing.get({ promptId, queryId, settingsHash });
    if (stored?.status === "ready") {
      if (stored.content === response.content) continue;
      throw new ImportError(
        response.line,
        "this prompt already has a ready response to this query (votes may refer to it); an import only fills queued or failed ones",
      );
    }
    rows.push({ promptId, queryId, content: response.content });
  }
  return { settingsHash, rows };
}

/**
 * Stores resolved responses as ready (resolveResponses), replacing a queued or failed one and its
 * generation figures; a response that became ready since it was resolved is kept.
 */
export function storeResponses(db: Queryable, settingsHash: string, rows: readonly ResolvedResponse[]): void {
  if (rows.length === 0) return;
  const stored = {
    status: "ready" as const,
    error: null,
    attempts: 0,
    promptTokens: null,
    completionTokens: null,
    costUsd: null,
    latencyMs: null,
  };
  const upsert = db
    .insert(responses)
    .values({
      promptId: sql.placeholder("promptId"),
      queryId: sql.placeholder("queryId"),
      settingsHash,
      content: sql.placeholder("content"),
      ...stored,
    })
    .onConflictDoUpdate({
      target: [responses.promptId, responses.queryId, responses.settingsHash],
      set: { ...stored, content: sql`excluded.content` },
      setWhere: sql`${responses.status} <> 'ready'`,
    })
    .prepare();
  for (const row of rows) upsert.run({ promptId: row.promptId, queryId: row.queryId, content: row.content });
}

/** Whether the prompt exists in this study (a variant seed must). */
export function studyHasPrompt(db: Queryable, studyId: number, promptId: number): boolean {
  return (
    db
      .select({ id: prompts.id })
      .from(prompts)
      .where(and(eq(prompts.id, promptId), eq(prompts.studyId, studyId)))
      .get() !== undefined
  );
}

/** The study's prompts for the owner's setup page, oldest first. */
export function listStudyPrompts(db: Queryable, studyId: number) {
  return db
    .select({
      id: prompts.id,
      text: prompts.text,
      label: prompts.label,
      source: prompts.source,
      parentIds: prompts.parentIds,
      embeddingModel: prompts.embeddingModel,
      active: prompts.active,
      retiredAt: prompts.retiredAt,
      retirement: prompts.retirement,
      keptByOwner: prompts.keptByOwner,
      generation: prompts.generation,
      growthRoundId: prompts.growthRoundId,
      ...promptRecordColumns,
    })
    .from(prompts)
    .leftJoin(promptTallies, eq(promptTallies.promptId, prompts.id))
    .where(eq(prompts.studyId, studyId))
    .orderBy(prompts.id)
    .all();
}

/** The study's queries for the owner's setup page, oldest first, at most `limit` of them. */
export function listStudyQueries(db: Queryable, studyId: number, limit: number) {
  return db
    .select({ id: queries.id, text: queries.text, notes: queries.notes, active: queries.active })
    .from(queries)
    .where(eq(queries.studyId, studyId))
    .orderBy(queries.id)
    .limit(limit)
    .all();
}

/** How many queries the study has. */
export function countStudyQueries(db: Queryable, studyId: number): number {
  return db.select({ n: count() }).from(queries).where(eq(queries.studyId, studyId)).get()?.n ?? 0;
}
