import { createHash } from "node:crypto";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import { annotators, assignments, prompts, queries, responses, studies, studyAnnotators, votes } from "../../db/schema";
import { tallyImportedVotes } from "../../db/tallies";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { JobInputError, type JobContext, type JobResult, type Transaction } from "~/jobs/job-context.server";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import { decodeTextUpload } from "~/utils/text-upload.server";
import { capErrors, parseRawLog, type NumberedRecord, type RawLogRecord } from "./raw-log-schema.server";

export interface ImportSummary {
  /** Votes added. */
  votes: number;
  /** Votes of the log the study already had (an earlier import of the same or an overlapping log, or its own votes), or that the log repeats. */
  skipped: number;
  promptsCreated: number;
  promptsMatched: number;
  queriesCreated: number;
  queriesMatched: number;
  responsesCreated: number;
  annotatorsCreated: number;
}

export type ImportResult = { ok: true; summary: ImportSummary } | { ok: false; errors: string[] };

/** Reports what the import is doing (the job's progress line). */
export type ImportProgress = (phase: string, done: number, total: number) => void;

/**
 * What identifies a vote across databases: what was shown (both prompts up to case and spacing, the
 * query, which side each was on), what was chosen, the comment, when, how fast, and by which policy
 * and round; not the database ids (a re-export renumbers them), not the responses (stored per study
 * settings), not the annotator's name. SHA-256 of those fields, hex. The same vote read from a log or
 * from this database gets the same fingerprint.
 */
export function voteFingerprint(vote: {
  promptAText: string;
  promptBText: string;
  query: string;
  promptASide: "left" | "right";
  choice: string;
  comment: string | null;
  issuedAt: string;
  votedAt: string;
  latencyMs: number | null;
  policy: string;
  engineRound: number;
}): string {
  const fields = [
    normalizePromptText(vote.promptAText),
    normalizePromptText(vote.promptBText),
    vote.query,
    vote.promptASide,
    vote.choice,
    vote.comment,
    vote.issuedAt,
    vote.votedAt,
    vote.latencyMs,
    vote.policy,
    vote.engineRound,
  ];
  return createHash("sha256").update(JSON.stringify(fields)).digest("hex");
}

function recordFingerprint(record: RawLogRecord): string {
  return voteFingerprint({
    promptAText: record.prompt_a_text,
    promptBText: record.prompt_b_text,
    query: record.query,
    promptASide: record.prompt_a_side,
    choice: record.choice,
    comment: record.comment,
    issuedAt: record.issued_at,
    votedAt: record.voted_at,
    latencyMs: record.latency_ms,
    policy: record.policy,
    engineRound: record.engine_round,
  });
}

/** A reference to a row: the id of one the study has, or the index of one the import creates. */
type Ref = { id: number } | { created: number };

interface ImportPlan {
  studyId: number;
  settingsHash: string;
  summary: ImportSummary;
  newPrompts: { text: string; normalizedText: string; embedding: Buffer; embeddingModel: string }[];
  newQueries: string[];
  /** Ready responses to store, replacing a queued or failed one for the same pair. */
  responses: { prompt: Ref; query: Ref; content: string }[];
  newAnnotators: string[];
  votes: {
    promptA: Ref;
    promptB: Ref;
    query: Ref;
    annotator: number;
    record: RawLogRecord;
    origin: string;
  }[];
}

/**
 * Imports a raw JSONL log (our own export format) into `studyId`, all or nothing, on the request's
 * connection (tests, the CLI): prepareRawLogImport, then writeRawLogImport in one transaction. The
 * app runs it as a job instead (runImportLogJob), off the request thread.
 */
export function importRawLog(db: DB, studyId: number, text: string, progress?: ImportProgress): ImportResult {
  const prepared = prepareRawLogImport(db, studyId, text, progress);
  if (!prepared.ok) return prepared;
  return { ok: true, summary: db.transaction((tx) => writeRawLogImport(tx, prepared.plan)) };
}

/**
 * The import as a job (ADR 0010): input {studyId, fileName} with the uploaded bytes as its attachment,
 * decoded and checked here as readUploadForm checks a text upload (off the request thread).
 */
export function runImportLogJob(ctx: JobContext, input: unknown): JobResult {
  const { studyId, fileName, attachment } = input as { studyId: number; fileName: string; attachment: Uint8Array };
  ctx.progress("reading", 0, attachment.length);
  const decoded = decodeTextUpload(attachment);
  if ("error" in decoded) throw new JobInputError([`${fileName || "The file"}: ${decoded.error}. Nothing was imported.`]);
  const prepared = prepareRawLogImport(ctx.db, studyId, decoded.text, ctx.progress);
  if (!prepared.ok) throw new JobInputError(prepared.errors);
  return ctx.commit((tx) => ({ studyId, ...writeRawLogImport(tx, prepared.plan) }));
}

/**
 * Everything but the writing: every line validated (as the live paths validate a vote), then checked
 * against the others and against the study; the votes the study already has skipped; prompts,
 * queries, responses and annotators matched or planned. Reads only.
 *
 * How rows are matched or created:
 * - votes: a vote whose fingerprint (voteFingerprint) the study already holds — imported before, or
 *   cast here — is skipped, as is a repeat within the log; only the rest is imported, and a log whose
 *   votes are all there imports nothing (no prompt, query or annotator either);
 * - prompts: by normalised text within the study (the study's uniqueness rule), else created with
 *   source "imported" and the offline embedding; queries: by exact text within the study, else created;
 * - responses: the logged content becomes the ready response for (prompt, query) under the study's
 *   current generation settings, filling a queued or failed one; a ready one must hold the same text;
 * - annotators: one new annotator per distinct annotator_id of the imported votes, with the logged name;
 * - every imported vote becomes an answered assignment (same prompts, sides, query, policy, round,
 *   issue time) plus its vote (choice, comment, latency, time, and its fingerprint as origin), in the
 *   order of the file. The log's ids are not kept: the rows get this database's ids.
 * Export → import into an empty study → export therefore gives the same log up to those ids.
 */
export function prepareRawLogImport(
  db: DB,
  studyId: number,
  text: string,
  progress: ImportProgress = () => {},
): { ok: true; plan: ImportPlan } | { ok: false; errors: string[] } {
  const parsed = parseRawLog(text, (line, lines) => progress("reading", line, lines));
  if (parsed.errors.length > 0) return { ok: false, errors: capErrors(parsed.errors) };
  const consistency = checkConsistency(parsed.records);
  if (consistency.length > 0) return { ok: false, errors: capErrors(consistency) };
  const study = db.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) return { ok: false, errors: [`study ${studyId} not found`] };
  const settingsHash = generationSettingsHash(study);

  progress("checking", 0, parsed.records.length);
  const known = existingFingerprints(db, studyId);
  const kept: NumberedRecord[] = [];
  let skipped = 0;
  for (const numbered of parsed.records) {
    const origin = recordFingerprint(numbered.record);
    if (known.has(origin)) skipped++;
    else {
      known.add(origin);
      kept.push(numbered);
    }
  }

  const summary: ImportSummary = {
    votes: kept.length,
    skipped,
    promptsCreated: 0,
    promptsMatched: 0,
    queriesCreated: 0,
    queriesMatched: 0,
    responsesCreated: 0,
    annotatorsCreated: 0,
  };
  const plan: ImportPlan = { studyId, settingsHash, summary, newPrompts: [], newQueries: [], responses: [], newAnnotators: [], votes: [] };
  const errors: string[] = [];

  const promptByText = new Map(
    db
      .select({ id: prompts.id, normalizedText: prompts.normalizedText })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((row) => [row.normalizedText, row.id]),
  );
  const promptRefs = new Map<number, Ref>();
  const logPromptOfTarget = new Map<string, number>();
  const promptRef = (line: number, logId: number, text: string): Ref => {
    const known = promptRefs.get(logId);
    if (known) return known;
    const normalizedText = normalizePromptText(text);
    const other = logPromptOfTarget.get(normalizedText);
    if (other !== undefined) {
      errors.push(`line ${line}: prompts ${other} and ${logId} of the log are the same prompt in this study (same text up to case and spacing)`);
    }
    logPromptOfTarget.set(normalizedText, logId);
    const existing = promptByText.get(normalizedText);
    let ref: Ref;
    if (existing !== undefined) {
      ref = { id: existing };
      summary.promptsMatched++;
    } else {
      // Every prompt enters with the offline embedding, as in study setup: the study's engine reads
      // stored embeddings and would otherwise wait for this prompt (and every vote naming it).
      ref = { created: plan.newPrompts.push({ text, normalizedText, ...lexicalEmbedding(text) }) - 1 };
      summary.promptsCreated++;
    }
    promptRefs.set(logId, ref);
    return ref;
  };

  const queryByText = new Map(
    db
      .select({ id: queries.id, text: queries.text })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .all()
      .map((row) => [row.text, row.id]),
  );
  const queryRefs = new Map<number, Ref>();
  const logQueryOfTarget = new Map<string, number>();
  const queryRef = (line: number, logId: number, text: string): Ref => {
    const known = queryRefs.get(logId);
    if (known) return known;
    const other = logQueryOfTarget.get(text);
    if (other !== undefined) errors.push(`line ${line}: queries ${other} and ${logId} of the log have the same text`);
    logQueryOfTarget.set(text, logId);
    const existing = queryByText.get(text);
    let ref: Ref;
    if (existing !== undefined) {
      ref = { id: existing };
      summary.queriesMatched++;
    } else {
      ref = { created: plan.newQueries.push(text) - 1 };
      summary.queriesCreated++;
    }
    queryRefs.set(logId, ref);
    return ref;
  };

  const storedResponse = db
    .select({ content: responses.content, status: responses.status })
    .from(responses)
    .where(
      and(
        eq(responses.promptId, sql.placeholder("promptId")),
        eq(responses.queryId, sql.placeholder("queryId")),
        eq(responses.settingsHash, sql.placeholder("settingsHash")),
      ),
    )
    .prepare();
  const seenResponses = new Set<string>();
  const planResponse = (line: number, prompt: Ref, query: Ref, content: string | null) => {
    if (content === null) return;
    const key = `${JSON.stringify(prompt)}/${JSON.stringify(query)}`;
    if (seenResponses.has(key)) return;
    seenResponses.add(key);
    if ("id" in prompt && "id" in query) {
      const existing = storedResponse.get({ promptId: prompt.id, queryId: query.id, settingsHash });
      if (existing?.status === "ready") {
        if (existing.content !== content) {
          errors.push(
            `line ${line}: the study already has a different response for prompt ${prompt.id} and query ${query.id} under its current settings`,
          );
        }
        return;
      }
    }
    plan.responses.push({ prompt, query, content });
    summary.responsesCreated++;
  };

  const annotatorIndex = new Map<number, number>();
  for (const [k, { line, record }] of kept.entries()) {
    if (k % 1000 === 0) progress("checking", k, kept.length);
    const promptA = promptRef(line, record.prompt_a_id, record.prompt_a_text);
    const promptB = promptRef(line, record.prompt_b_id, record.prompt_b_text);
    const query = queryRef(line, record.query_id, record.query);
    planResponse(line, promptA, query, record.response_a);
    planResponse(line, promptB, query, record.response_b);
    let annotator = annotatorIndex.get(record.annotator_id);
    if (annotator === undefined) {
      annotator = plan.newAnnotators.push(record.annotator_name) - 1;
      annotatorIndex.set(record.annotator_id, annotator);
      summary.annotatorsCreated++;
    }
    plan.votes.push({ promptA, promptB, query, annotator, record, origin: recordFingerprint(record) });
    if (errors.length > 50) break;
  }
  if (errors.length > 0) return { ok: false, errors: capErrors(errors) };
  return { ok: true, plan };
}

/** Fingerprints of every vote the study holds: the origins of imported ones, and those of votes cast here computed from their rows. */
function existingFingerprints(db: DB, studyId: number): Set<string> {
  const fingerprints = new Set(
    db
      .select({ origin: votes.origin })
      .from(votes)
      .where(and(eq(votes.studyId, studyId), isNotNull(votes.origin)))
      .all()
      .map((row) => row.origin!),
  );
  const promptText = new Map(
    db
      .select({ id: prompts.id, text: prompts.text })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((row) => [row.id, row.text]),
  );
  const queryText = new Map(
    db
      .select({ id: queries.id, text: queries.text })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .all()
      .map((row) => [row.id, row.text]),
  );
  const cast = db
    .select({
      promptAId: assignments.promptAId,
      promptBId: assignments.promptBId,
      queryId: assignments.queryId,
      leftIsA: assignments.leftIsA,
      choice: votes.choice,
      comment: votes.comment,
      issuedAt: assignments.issuedAt,
      votedAt: votes.createdAt,
      latencyMs: votes.latencyMs,
      policy: assignments.policy,
      engineRound: assignments.engineRound,
    })
    .from(votes)
    .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
    .where(and(eq(votes.studyId, studyId), isNull(votes.origin)))
    .all();
  for (const row of cast) {
    fingerprints.add(
      voteFingerprint({
        promptAText: promptText.get(row.promptAId) ?? "",
        promptBText: promptText.get(row.promptBId) ?? "",
        query: queryText.get(row.queryId) ?? "",
        promptASide: row.leftIsA ? "left" : "right",
        choice: row.choice,
        comment: row.comment,
        issuedAt: row.issuedAt.toISOString(),
        votedAt: row.votedAt.toISOString(),
        latencyMs: row.latencyMs,
        policy: row.policy,
        engineRound: row.engineRound,
      }),
    );
  }
  return fingerprints;
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

/** A change made between preparing and writing (another owner action): the job tries again, preparing afresh. */
class ImportRaced extends Error {}

/**
 * Writes a prepared import inside the caller's transaction: the rows it creates, then every vote
 * (with explicit assignment ids, so each vote is two inserts of prepared statements), then the vote
 * tallies in bulk. Throws ImportRaced (nothing kept) if the study changed since it was prepared.
 */
export function writeRawLogImport(tx: Transaction, plan: ImportPlan): ImportSummary {
  const { studyId, settingsHash } = plan;
  if (!tx.select({ id: studies.id }).from(studies).where(eq(studies.id, studyId)).get()) throw new ImportRaced(`study ${studyId} is gone`);
  const promptIds = plan.newPrompts.map((prompt) => {
    const inserted = tx
      .insert(prompts)
      .values({ studyId, source: "imported", ...prompt })
      .onConflictDoNothing()
      .returning({ id: prompts.id })
      .get();
    if (!inserted) throw new ImportRaced("a prompt of the log was added to the study meanwhile");
    return inserted.id;
  });
  const queryIds = plan.newQueries.map((text) => {
    const inserted = tx.insert(queries).values({ studyId, text }).onConflictDoNothing().returning({ id: queries.id }).get();
    if (!inserted) throw new ImportRaced("a query of the log was added to the study meanwhile");
    return inserted.id;
  });
  const promptId = (ref: Ref) => ("id" in ref ? ref.id : promptIds[ref.created]!);
  const queryId = (ref: Ref) => ("id" in ref ? ref.id : queryIds[ref.created]!);

  const storeResponse = tx
    .insert(responses)
    .values({
      promptId: sql.placeholder("promptId"),
      queryId: sql.placeholder("queryId"),
      settingsHash,
      content: sql.placeholder("content"),
      status: "ready",
    })
    .onConflictDoUpdate({
      target: [responses.promptId, responses.queryId, responses.settingsHash],
      set: { content: sql`excluded.content`, status: "ready", error: null, updatedAt: new Date() },
      setWhere: sql`${responses.status} <> 'ready'`,
    })
    .prepare();
  for (const response of plan.responses) {
    storeResponse.run({ promptId: promptId(response.prompt), queryId: queryId(response.query), content: response.content });
  }

  const annotatorIds = plan.newAnnotators.map((displayName) => {
    const id = tx.insert(annotators).values({ displayName }).returning({ id: annotators.id }).get().id;
    // Listed among the study's annotators (joined through no link); they have no session, so cannot act.
    tx.insert(studyAnnotators).values({ studyId, annotatorId: id, inviteId: null }).run();
    return id;
  });

  // Explicit ids: inside this write transaction no one else can take the next ones.
  const lastAssignment =
    tx
      .select({ id: sql<number | null>`max(${assignments.id})` })
      .from(assignments)
      .get()?.id ?? 0;
  const lastVote =
    tx
      .select({ id: sql<number | null>`max(${votes.id})` })
      .from(votes)
      .get()?.id ?? 0;
  const insertAssignment = tx
    .insert(assignments)
    .values({
      id: sql.placeholder("id"),
      studyId,
      annotatorId: sql.placeholder("annotatorId"),
      promptAId: sql.placeholder("promptAId"),
      promptBId: sql.placeholder("promptBId"),
      queryId: sql.placeholder("queryId"),
      leftIsA: sql.placeholder("leftIsA"),
      issuedAt: sql.placeholder("issuedAt"),
      // Already answered: expiry no longer matters; the vote time is the honest end of its window.
      expiresAt: sql.placeholder("votedAt"),
      policy: sql.placeholder("policy"),
      engineRound: sql.placeholder("engineRound"),
      status: "answered",
    })
    .prepare();
  const insertVote = tx
    .insert(votes)
    .values({
      assignmentId: sql.placeholder("assignmentId"),
      studyId,
      annotatorId: sql.placeholder("annotatorId"),
      choice: sql.placeholder("choice"),
      comment: sql.placeholder("comment"),
      latencyMs: sql.placeholder("latencyMs"),
      origin: sql.placeholder("origin"),
      createdAt: sql.placeholder("votedAt"),
    })
    .prepare();
  plan.votes.forEach((vote, k) => {
    const { record } = vote;
    const annotatorId = annotatorIds[vote.annotator]!;
    const votedAt = new Date(record.voted_at);
    insertAssignment.run({
      id: lastAssignment + k + 1,
      annotatorId,
      promptAId: promptId(vote.promptA),
      promptBId: promptId(vote.promptB),
      queryId: queryId(vote.query),
      leftIsA: record.prompt_a_side === "left",
      issuedAt: new Date(record.issued_at),
      votedAt,
      policy: record.policy,
      engineRound: record.engine_round,
    });
    insertVote.run({
      assignmentId: lastAssignment + k + 1,
      annotatorId,
      choice: record.choice,
      comment: record.comment,
      latencyMs: record.latency_ms,
      origin: vote.origin,
      votedAt,
    });
  });
  tallyImportedVotes(tx, studyId, lastVote);
  return plan.summary;
}
