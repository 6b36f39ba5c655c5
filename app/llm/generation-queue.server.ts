import { and, asc, count, eq, inArray, notInArray, sql, sum } from "drizzle-orm";
import type { Queryable } from "./queryable.server";
import { prompts, queries, responses, studies } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { env } from "~/env.server";

// The generation queue is the responses table (DESIGN §3): a row with status "pending" is a job. It
// survives restarts because it is a row, and the unique (prompt, query, settings hash) index means a
// pair is never queued, and so never generated, twice for the same settings.

/** The settings hash the study's responses are generated (and shown) with now; null for an unknown study. */
export function currentSettingsHash(db: Queryable, studyId: number): string | null {
  const study = db
    .select({ model: studies.model, temperature: studies.temperature, maxTokens: studies.maxTokens, seed: studies.seed })
    .from(studies)
    .where(eq(studies.id, studyId))
    .get();
  return study ? generationSettingsHash(study) : null;
}

/** More responses than a study may hold (RESPONSES_PER_STUDY_MAX): nothing is queued, and the owner is told why. */
export class ResponseCapError extends Error {
  constructor(prompts: number, queries: number, cap: number) {
    super(
      `This would make ${prompts.toLocaleString("en")} prompts × ${queries.toLocaleString("en")} queries = ${(prompts * queries).toLocaleString("en")} responses; ` +
        `a study holds at most ${cap.toLocaleString("en")} (RESPONSES_PER_STUDY_MAX). Add fewer prompts or queries, or split them across studies.`,
    );
    this.name = "ResponseCapError";
  }
}

/** Throws ResponseCapError when a study of this many prompts and queries would hold more responses than `cap`. */
export function checkResponseCap(prompts: number, queries: number, cap: number = env().RESPONSES_PER_STUDY_MAX): void {
  if (prompts * queries > cap) throw new ResponseCapError(prompts, queries, cap);
}

/**
 * Queues a pending response for every (prompt, query) pair of the study that has none yet for the
 * study's current settings, unless the study would then hold more than `cap` (ResponseCapError,
 * nothing queued). `promptIds` limits it to those prompts (a growth round's new ones) and
 * `activeQueriesOnly` to the queries in use (what a growth round's cost estimate counted).
 * Synchronous; safe inside a caller's transaction. Returns how many were queued.
 */
export function queueStudyResponses(
  db: Queryable,
  studyId: number,
  {
    promptIds,
    activeQueriesOnly = false,
    cap = env().RESPONSES_PER_STUDY_MAX,
  }: { promptIds?: readonly number[]; activeQueriesOnly?: boolean; cap?: number } = {},
): number {
  const settingsHash = currentSettingsHash(db, studyId);
  if (settingsHash === null) throw new Error(`queueStudyResponses: study ${studyId} does not exist`);
  const promptCount = db.select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()?.n ?? 0;
  const queryCount = db.select({ n: count() }).from(queries).where(eq(queries.studyId, studyId)).get()?.n ?? 0;
  checkResponseCap(promptCount, queryCount, cap);
  const onlyPrompts = promptIds ? sql` and ${prompts.id} in (select value from json_each(${JSON.stringify(promptIds)}))` : sql``;
  const onlyActive = activeQueriesOnly ? sql` and ${queries.active} = 1` : sql``;
  const result = db.run(sql`
    insert into ${responses} (prompt_id, query_id, settings_hash, status)
    select ${prompts.id}, ${queries.id}, ${settingsHash}, 'pending'
    from ${prompts} join ${queries} on ${queries.studyId} = ${prompts.studyId}
    where ${prompts.studyId} = ${studyId}${onlyActive}${onlyPrompts}
    order by ${prompts.id}, ${queries.id}
    on conflict do nothing`);
  return result.changes;
}

export interface ResponseJob {
  responseId: number;
  settingsHash: string;
  systemPrompt: string;
  userMessage: string;
  model: string;
  temperature: number;
  maxTokens: number;
  seed: number | null;
}

/**
 * The oldest pending responses not already in flight, with what is needed to generate them, and
 * counts the attempt. Read and attempt counter run in one synchronous transaction.
 */
export function claimPendingResponses(db: Queryable, limit: number, inFlight: Iterable<number>): ResponseJob[] {
  if (limit <= 0) return [];
  const exclude = [...inFlight];
  return db.transaction((tx) => {
    const pendingCondition = eq(responses.status, "pending");
    const rows = tx
      .select({
        responseId: responses.id,
        settingsHash: responses.settingsHash,
        systemPrompt: prompts.text,
        userMessage: queries.text,
        model: studies.model,
        temperature: studies.temperature,
        maxTokens: studies.maxTokens,
        seed: studies.seed,
      })
      .from(responses)
      .innerJoin(prompts, eq(prompts.id, responses.promptId))
      // A staged pair (ADR 0043: a prompt or query a job has not published, or a study being created) waits.
      .innerJoin(queries, and(eq(queries.id, responses.queryId), eq(queries.studyId, prompts.studyId)))
      .innerJoin(studies, and(eq(studies.id, prompts.studyId), sql`${studies.id} not in (select staging_study_id from pending_imports)`))
      .where(exclude.length > 0 ? and(pendingCondition, notInArray(responses.id, exclude)) : pendingCondition)
      .orderBy(asc(responses.id))
      .limit(limit)
      .all();
    if (rows.length > 0) {
      tx.update(responses)
        .set({ attempts: sql`${responses.attempts} + 1` })
        .where(
          inArray(
            responses.id,
            rows.map((row) => row.responseId),
          ),
        )
        .run();
    }
    return rows;
  });
}

export type ResponseOutcome =
  | {
      status: "ready";
      content: string;
      promptTokens: number | null;
      completionTokens: number | null;
      costUsd: number | null;
      latencyMs: number;
    }
  | { status: "error"; error: string; latencyMs: number | null };

/**
 * Stores the result of one generation. Only a row still pending is touched, so a response imported
 * while the call was in flight is kept.
 */
export function recordResponseOutcome(db: Queryable, responseId: number, outcome: ResponseOutcome): void {
  const values =
    outcome.status === "ready"
      ? { ...outcome, error: null }
      : { status: outcome.status, error: outcome.error, latencyMs: outcome.latencyMs, content: null };
  db.update(responses)
    .set(values)
    .where(and(eq(responses.id, responseId), eq(responses.status, "pending")))
    .run();
}

/** Puts every failed response of the study (current settings) back in the queue; returns how many. */
export function retryFailedResponses(db: Queryable, studyId: number): number {
  const settingsHash = currentSettingsHash(db, studyId);
  if (settingsHash === null) return 0;
  return db
    .update(responses)
    .set({ status: "pending", error: null })
    .where(
      and(
        eq(responses.status, "error"),
        eq(responses.settingsHash, settingsHash),
        inArray(responses.promptId, db.select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId))),
      ),
    )
    .run().changes;
}

export interface ResponseProgress {
  total: number;
  ready: number;
  pending: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Ready generated responses without a price (model not in the price table, or no usage reported). */
  unpriced: number;
}

/** Counts, tokens and cost of the study's responses for its current settings. */
export function responseProgress(db: Queryable, studyId: number, settingsHash: string | null = currentSettingsHash(db, studyId)): ResponseProgress {
  const progress: ResponseProgress = {
    total: 0,
    ready: 0,
    pending: 0,
    failed: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    unpriced: 0,
  };
  if (settingsHash === null) return progress;
  const rows = db
    .select({
      status: responses.status,
      n: count(),
      promptTokens: sum(responses.promptTokens).mapWith(Number),
      completionTokens: sum(responses.completionTokens).mapWith(Number),
      costUsd: sum(responses.costUsd).mapWith(Number),
      // Generated (attempts > 0) yet without a cost: imported responses cost nothing and do not count.
      unpriced: sql<number>`sum(case when ${responses.costUsd} is null and ${responses.attempts} > 0 then 1 else 0 end)`.mapWith(Number),
    })
    .from(responses)
    .innerJoin(prompts, eq(prompts.id, responses.promptId))
    // Not the responses of the study's prompts to queries an addition has not published (ADR 0043).
    .innerJoin(queries, and(eq(queries.id, responses.queryId), eq(queries.studyId, prompts.studyId)))
    .where(and(eq(prompts.studyId, studyId), eq(responses.settingsHash, settingsHash)))
    .groupBy(responses.status)
    .all();
  for (const row of rows) {
    progress.total += row.n;
    if (row.status === "ready") {
      progress.ready = row.n;
      progress.unpriced = row.unpriced;
    } else if (row.status === "pending") progress.pending = row.n;
    else progress.failed = row.n;
    progress.promptTokens += row.promptTokens || 0;
    progress.completionTokens += row.completionTokens || 0;
    progress.costUsd += row.costUsd || 0;
  }
  return progress;
}

/** The study's failed responses (current settings), newest first, with the provider's message. */
export function failedResponses(db: Queryable, studyId: number, limit = 20, settingsHash: string | null = currentSettingsHash(db, studyId)) {
  if (settingsHash === null) return [];
  return db
    .select({ id: responses.id, promptId: responses.promptId, query: queries.text, error: responses.error, attempts: responses.attempts })
    .from(responses)
    .innerJoin(prompts, eq(prompts.id, responses.promptId))
    .innerJoin(queries, eq(queries.id, responses.queryId))
    .where(and(eq(prompts.studyId, studyId), eq(responses.status, "error"), eq(responses.settingsHash, settingsHash)))
    .orderBy(sql`${responses.updatedAt} desc`, asc(responses.id))
    .limit(limit)
    .all();
}
