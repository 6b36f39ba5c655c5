import { and, eq } from "drizzle-orm";
import { annotators, assignments, prompts, queries, responses, studies, studyAnnotators, votes } from "../../db/schema";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import type { Queryable } from "~/llm/queryable.server";
import { capErrors, parseRawLog, type NumberedRecord } from "./raw-log-schema.server";

export interface ImportSummary {
  votes: number;
  promptsCreated: number;
  promptsMatched: number;
  queriesCreated: number;
  queriesMatched: number;
  responsesCreated: number;
  annotatorsCreated: number;
}

export type ImportResult = { ok: true; summary: ImportSummary } | { ok: false; errors: string[] };

/** A conflict found while writing; thrown inside the transaction so nothing is kept. */
class ImportConflict extends Error {}

/**
 * Imports a raw JSONL log (our own export format) into `studyId`, all or nothing: every line is
 * validated first, then everything is written in one transaction, or nothing is and the errors name
 * their line numbers.
 *
 * How rows are matched or created:
 * - prompts: by normalised text within the study (the study's uniqueness rule), else created with
 *   source "imported"; queries: by exact text within the study, else created;
 * - responses: the logged content is stored as the ready response for (prompt, query) under the
 *   study's current generation settings; an existing one must hold the same content;
 * - annotators: one new annotator per distinct annotator_id of the log, with the logged display name
 *   (names are not identities: matching existing users by name would merge different people);
 * - every vote becomes an answered assignment (same prompts, sides, query, policy, round, issue time)
 *   plus its vote (choice, comment, latency, time), in the order of the file. The log's study and
 *   vote ids are not kept: the rows get the target database's ids.
 * Export → import into an empty study → export therefore gives the same log up to those ids.
 */
export function importRawLog(db: Queryable, studyId: number, text: string): ImportResult {
  const parsed = parseRawLog(text);
  if (parsed.errors.length > 0) return { ok: false, errors: capErrors(parsed.errors) };
  const consistency = checkConsistency(parsed.records);
  if (consistency.length > 0) return { ok: false, errors: capErrors(consistency) };
  try {
    return { ok: true, summary: db.transaction((tx) => writeRecords(tx, studyId, parsed.records)) };
  } catch (error) {
    if (error instanceof ImportConflict) return { ok: false, errors: [error.message] };
    throw error;
  }
}

/**
 * Facts that must agree across lines: one study, each id naming one text (prompt, query, annotator),
 * one response per (prompt, query), distinct vote ids.
 */
function checkConsistency(records: NumberedRecord[]): string[] {
  const errors: string[] = [];
  const firstSeen = new Map<string, { line: number; value: string | number }>();
  const agree = (line: number, key: string, value: string | number, describe: string) => {
    const seen = firstSeen.get(key);
    if (!seen) firstSeen.set(key, { line, value });
    else if (seen.value !== value) errors.push(`line ${line}: ${describe} differs from line ${seen.line}`);
  };
  const voteLines = new Map<number, number>();
  for (const { line, record } of records) {
    agree(line, "study", record.study_id, `study_id ${record.study_id} (a log holds one study's votes)`);
    agree(line, `prompt:${record.prompt_a_id}`, record.prompt_a_text, `the text of prompt ${record.prompt_a_id}`);
    agree(line, `prompt:${record.prompt_b_id}`, record.prompt_b_text, `the text of prompt ${record.prompt_b_id}`);
    agree(line, `query:${record.query_id}`, record.query, `the text of query ${record.query_id}`);
    agree(line, `annotator:${record.annotator_id}`, record.annotator_name, `the name of annotator ${record.annotator_id}`);
    if (record.response_a !== null) {
      agree(
        line,
        `response:${record.prompt_a_id}:${record.query_id}`,
        record.response_a,
        `response_a for prompt ${record.prompt_a_id} and query ${record.query_id}`,
      );
    }
    if (record.response_b !== null) {
      agree(
        line,
        `response:${record.prompt_b_id}:${record.query_id}`,
        record.response_b,
        `response_b for prompt ${record.prompt_b_id} and query ${record.query_id}`,
      );
    }
    const earlier = voteLines.get(record.vote_id);
    if (earlier !== undefined) errors.push(`line ${line}: vote_id ${record.vote_id} already appears on line ${earlier}`);
    else voteLines.set(record.vote_id, line);
  }
  return errors;
}

type Transaction = Parameters<Parameters<Queryable["transaction"]>[0]>[0];

function writeRecords(tx: Transaction, studyId: number, records: NumberedRecord[]): ImportSummary {
  const study = tx.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) throw new ImportConflict(`study ${studyId} not found`);
  const settingsHash = generationSettingsHash(study);
  const summary: ImportSummary = {
    votes: 0,
    promptsCreated: 0,
    promptsMatched: 0,
    queriesCreated: 0,
    queriesMatched: 0,
    responsesCreated: 0,
    annotatorsCreated: 0,
  };

  const promptIds = new Map<number, number>();
  const logPromptOfTarget = new Map<number, number>();
  const promptId = (line: number, logId: number, text: string): number => {
    const known = promptIds.get(logId);
    if (known !== undefined) return known;
    const normalizedText = normalizePromptText(text);
    const existing = tx
      .select({ id: prompts.id })
      .from(prompts)
      .where(and(eq(prompts.studyId, studyId), eq(prompts.normalizedText, normalizedText)))
      .get();
    // Every prompt enters with the offline embedding, as in study setup: the study's engine reads
    // stored embeddings and would otherwise wait for this prompt (and every vote naming it).
    const id =
      existing?.id ??
      tx
        .insert(prompts)
        .values({ studyId, text, normalizedText, source: "imported", ...lexicalEmbedding(text) })
        .returning({ id: prompts.id })
        .get().id;
    if (existing) summary.promptsMatched++;
    else summary.promptsCreated++;
    const other = logPromptOfTarget.get(id);
    if (other !== undefined) {
      throw new ImportConflict(
        `line ${line}: prompts ${other} and ${logId} of the log are the same prompt in this study (same text up to case and spacing)`,
      );
    }
    logPromptOfTarget.set(id, logId);
    promptIds.set(logId, id);
    return id;
  };

  const queryIds = new Map<number, number>();
  const logQueryOfTarget = new Map<number, number>();
  const queryId = (line: number, logId: number, text: string): number => {
    const known = queryIds.get(logId);
    if (known !== undefined) return known;
    const existing = tx
      .select({ id: queries.id })
      .from(queries)
      .where(and(eq(queries.studyId, studyId), eq(queries.text, text)))
      .get();
    const id = existing?.id ?? tx.insert(queries).values({ studyId, text }).returning({ id: queries.id }).get().id;
    if (existing) summary.queriesMatched++;
    else summary.queriesCreated++;
    const other = logQueryOfTarget.get(id);
    if (other !== undefined) throw new ImportConflict(`line ${line}: queries ${other} and ${logId} of the log have the same text`);
    logQueryOfTarget.set(id, logId);
    queryIds.set(logId, id);
    return id;
  };

  const storedResponses = new Set<string>();
  const storeResponse = (line: number, targetPromptId: number, targetQueryId: number, content: string | null) => {
    const key = `${targetPromptId}:${targetQueryId}`;
    if (content === null || storedResponses.has(key)) return;
    storedResponses.add(key);
    const existing = tx
      .select({ content: responses.content, status: responses.status })
      .from(responses)
      .where(and(eq(responses.promptId, targetPromptId), eq(responses.queryId, targetQueryId), eq(responses.settingsHash, settingsHash)))
      .get();
    if (!existing) {
      tx.insert(responses).values({ promptId: targetPromptId, queryId: targetQueryId, settingsHash, content, status: "ready" }).run();
      summary.responsesCreated++;
    } else if (existing.status !== "ready" || existing.content !== content) {
      throw new ImportConflict(
        `line ${line}: the study already has a different response for prompt ${targetPromptId} and query ${targetQueryId} under its current settings`,
      );
    }
  };

  const annotatorIds = new Map<number, number>();
  const annotatorId = (logId: number, displayName: string): number => {
    const known = annotatorIds.get(logId);
    if (known !== undefined) return known;
    const id = tx.insert(annotators).values({ displayName }).returning({ id: annotators.id }).get().id;
    // Listed among the study's annotators (joined through no link); they have no session, so cannot act.
    tx.insert(studyAnnotators).values({ studyId, annotatorId: id, inviteId: null }).run();
    summary.annotatorsCreated++;
    annotatorIds.set(logId, id);
    return id;
  };

  for (const { line, record } of records) {
    const promptAId = promptId(line, record.prompt_a_id, record.prompt_a_text);
    const promptBId = promptId(line, record.prompt_b_id, record.prompt_b_text);
    const targetQueryId = queryId(line, record.query_id, record.query);
    storeResponse(line, promptAId, targetQueryId, record.response_a);
    storeResponse(line, promptBId, targetQueryId, record.response_b);
    const annotator = annotatorId(record.annotator_id, record.annotator_name);
    const votedAt = new Date(record.voted_at);
    const assignment = tx
      .insert(assignments)
      .values({
        studyId,
        annotatorId: annotator,
        promptAId,
        promptBId,
        queryId: targetQueryId,
        leftIsA: record.prompt_a_side === "left",
        issuedAt: new Date(record.issued_at),
        // Already answered: expiry no longer matters; the vote time is the honest end of its window.
        expiresAt: votedAt,
        policy: record.policy,
        engineRound: record.engine_round,
        status: "answered",
      })
      .returning({ id: assignments.id })
      .get();
    tx.insert(votes)
      .values({
        assignmentId: assignment.id,
        studyId,
        annotatorId: annotator,
        choice: record.choice,
        comment: record.comment,
        latencyMs: record.latency_ms,
        createdAt: votedAt,
      })
      .run();
    summary.votes++;
  }
  return summary;
}
