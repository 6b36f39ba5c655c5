import { createHash } from "node:crypto";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { DB } from "../../db/client";
import {
  annotators,
  annotatorTallies,
  assignments,
  goldItems,
  jobs,
  pairTallies,
  pendingImports,
  promptTallies,
  prompts,
  queries,
  responses,
  studies,
  studyAnnotators,
  votePublished,
  votes,
} from "../../db/schema";
import { markSucceeded } from "~/jobs/jobs.server";
import {
  cleanUpPendingImports,
  inChunks,
  openStaging,
  STAGED_CHUNK_ROWS,
  stagingClash,
  stagingExists,
  type StagedWriter,
} from "~/jobs/staged-writes.server";
import { generationSettingsHash, normalizePromptText } from "../../db/text";
import { JobInputError, type JobContext, type JobResult, type Transaction } from "~/jobs/job-context.server";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import { preparePromptInsert, type StoredEmbedding } from "~/models/prompts.server";
import { storedResponseLookup } from "~/models/study-setup.server";
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
  /** Log annotators mapped to the study's own (their other votes already there), not created again. */
  annotatorsMatched: number;
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
/** A vote the study holds, behind a fingerprint. */
type StudyVote = { assignmentId: number; annotatorId: number };

export interface ImportPlan {
  studyId: number;
  settingsHash: string;
  summary: ImportSummary;
  newPrompts: { text: string; embedding: StoredEmbedding }[];
  newQueries: string[];
  /** Ready responses to store, replacing a queued or failed one for the same pair. */
  responses: { prompt: Ref; query: Ref; content: string }[];
  newAnnotators: string[];
  /**
   * The study's annotators that votes of this import map to (a log annotator whose other votes the study already
   * holds, by fingerprint: a re-import or an overlapping log), with whether each was excluded when planned.
   */
  matchedAnnotators: Map<number, { excluded: boolean }>;
  votes: {
    promptA: Ref;
    promptB: Ref;
    query: Ref;
    annotator: Ref;
    record: RawLogRecord;
    origin: string;
    /** An audit's original (ADR 0034): a vote of this import (its log vote_id), an assignment the study has, or unknown. */
    auditOf: { logVoteId: number } | { assignmentId: number } | null;
  }[];
  /** Gold items the log marks (gold_answer_prompt_id), one per item; one the study has already keeps its answer. */
  goldItems: { query: Ref; promptA: Ref; promptB: Ref; preferredIsA: boolean }[];
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
 * - annotators: a log annotator some of whose votes the study already holds (a re-import, an overlapping log) is
 *   that vote's annotator in the study; any other gets one new annotator per distinct annotator_id, with the logged
 *   name. An excluded annotator's new votes stay out of the prompt and pair tallies, as the triggers keep them;
 *   the publishing commit refuses (and the job retries) if an exclusion changed since the plan;
 * - every imported vote becomes an answered assignment (same prompts, sides, query, policy, round,
 *   issue time) plus its vote (choice, comment, latency, time, and its fingerprint as origin), in the
 *   order of the file. The log's ids are not kept: the rows get this database's ids;
 * - quality checks (ADR 0034, 0042): each assignment keeps the log's `purpose` (work when absent), so audits stay
 *   out of the tallies and the engine; an audit's original is the imported vote its audit_of_vote_id names, or the
 *   study's own when that vote was skipped as already there (by fingerprint), else unknown; gold items the log marks
 *   are added to the study unless it has them.
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
  const keptVoteIds = new Set<number>();
  // The study's assignment behind a log vote that is already there: an audit imported now may re-judge it.
  const assignmentOfSkipped = new Map<number, number>();
  // The study's annotator behind a log annotator some of whose votes are already there (issue 14 §4).
  const annotatorOfLog = new Map<number, number>();
  let skipped = 0;
  for (const numbered of parsed.records) {
    const origin = recordFingerprint(numbered.record);
    const existing = known.get(origin);
    if (existing !== undefined) {
      skipped++;
      if (existing !== null) {
        assignmentOfSkipped.set(numbered.record.vote_id, existing.assignmentId);
        if (!annotatorOfLog.has(numbered.record.annotator_id)) annotatorOfLog.set(numbered.record.annotator_id, existing.annotatorId);
      }
    } else {
      known.set(origin, null);
      kept.push(numbered);
      keptVoteIds.add(numbered.record.vote_id);
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
    annotatorsMatched: 0,
  };
  const plan: ImportPlan = {
    studyId,
    settingsHash,
    summary,
    newPrompts: [],
    newQueries: [],
    responses: [],
    newAnnotators: [],
    matchedAnnotators: new Map(),
    votes: [],
    goldItems: [],
  };
  const goldSeen = new Set<string>();
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
      ref = { created: plan.newPrompts.push({ text, embedding: lexicalEmbedding(text) }) - 1 };
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

  const storedResponse = storedResponseLookup(db);
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

  const annotatorIndex = new Map<number, Ref>();
  const excludedAnnotators = new Set(
    db
      .select({ annotatorId: studyAnnotators.annotatorId })
      .from(studyAnnotators)
      .where(and(eq(studyAnnotators.studyId, studyId), isNotNull(studyAnnotators.excludedAt)))
      .all()
      .map((row) => row.annotatorId),
  );
  for (const [k, { line, record }] of kept.entries()) {
    if (k % 1000 === 0) progress("checking", k, kept.length);
    const promptA = promptRef(line, record.prompt_a_id, record.prompt_a_text);
    const promptB = promptRef(line, record.prompt_b_id, record.prompt_b_text);
    const query = queryRef(line, record.query_id, record.query);
    planResponse(line, promptA, query, record.response_a);
    planResponse(line, promptB, query, record.response_b);
    let annotator = annotatorIndex.get(record.annotator_id);
    if (annotator === undefined) {
      const matched = annotatorOfLog.get(record.annotator_id);
      if (matched !== undefined) {
        annotator = { id: matched };
        plan.matchedAnnotators.set(matched, { excluded: excludedAnnotators.has(matched) });
        summary.annotatorsMatched++;
      } else {
        annotator = { created: plan.newAnnotators.push(record.annotator_name) - 1 };
        summary.annotatorsCreated++;
      }
      annotatorIndex.set(record.annotator_id, annotator);
    }
    const original = record.purpose === "audit" ? (record.audit_of_vote_id ?? null) : null;
    const auditOf =
      original === null
        ? null
        : keptVoteIds.has(original)
          ? { logVoteId: original }
          : assignmentOfSkipped.has(original)
            ? { assignmentId: assignmentOfSkipped.get(original)! }
            : null;
    plan.votes.push({ promptA, promptB, query, annotator, record, origin: recordFingerprint(record), auditOf });
    const goldKey = `${record.query_id}:${Math.min(record.prompt_a_id, record.prompt_b_id)}:${Math.max(record.prompt_a_id, record.prompt_b_id)}`;
    if (record.gold_answer_prompt_id != null && !goldSeen.has(goldKey)) {
      goldSeen.add(goldKey);
      plan.goldItems.push({ query, promptA, promptB, preferredIsA: record.gold_answer_prompt_id === record.prompt_a_id });
    }
    if (errors.length > 50) break;
  }
  if (errors.length > 0) return { ok: false, errors: capErrors(errors) };
  return { ok: true, plan };
}

/**
 * Fingerprints of every vote the study holds, each with its assignment: the origins of imported ones, and those of
 * votes cast here computed from their rows. (null: a vote of the log being planned, not written yet.)
 */
function existingFingerprints(db: DB, studyId: number): Map<string, StudyVote | null> {
  const fingerprints = new Map<string, StudyVote | null>(
    db
      .select({ origin: votes.origin, assignmentId: votes.assignmentId, annotatorId: votes.annotatorId })
      .from(votes)
      .where(and(eq(votes.studyId, studyId), isNotNull(votes.origin), votePublished))
      .all()
      .map((row) => [row.origin!, { assignmentId: row.assignmentId, annotatorId: row.annotatorId }]),
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
      assignmentId: assignments.id,
      annotatorId: votes.annotatorId,
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
    .where(and(eq(votes.studyId, studyId), isNull(votes.origin), votePublished))
    .all();
  for (const row of cast) {
    fingerprints.set(
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
      { assignmentId: row.assignmentId, annotatorId: row.annotatorId },
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

/** Runs the import's writes: `chunk` commits each chunk on its own, `publish` is the one commit that makes the import visible. */
export type ImportWriter = StagedWriter<ImportSummary>;

/**
 * Imports a raw JSONL log (our own export format) into `studyId`, all or nothing, on the caller's
 * connection (tests, the CLI): prepareRawLogImport, then writeRawLogImport in chunks under a job row
 * of its own. The app runs it as a job instead (runImportLogJob), off the request thread.
 */
export function importRawLog(
  db: DB,
  studyId: number,
  text: string,
  { progress, chunkRows }: { progress?: ImportProgress; chunkRows?: number } = {},
): ImportResult {
  const prepared = prepareRawLogImport(db, studyId, text, progress);
  if (!prepared.ok) return prepared;
  const job = db.insert(jobs).values({ kind: "import-log", studyId, inputFile: "", state: "running" }).returning({ id: jobs.id }).get();
  const writer: ImportWriter = {
    chunk: (write) => db.transaction(write),
    publish: (write) =>
      db.transaction((tx) => {
        const summary = write(tx);
        markSucceeded(tx, job.id, { studyId, ...summary });
        return summary;
      }),
  };
  try {
    return { ok: true, summary: writeRawLogImport(db, job.id, prepared.plan, writer, { chunkRows }) };
  } catch (error) {
    cleanUpPendingImports(db);
    throw error;
  }
}

/**
 * The import as a job (ADR 0010, 0036): input {studyId, fileName} with the uploaded bytes as its
 * attachment, decoded and checked here as readUploadForm checks a text upload (off the request
 * thread); written in chunks that stay invisible until the job's own commit publishes them.
 */
export function runImportLogJob(ctx: JobContext, input: unknown): JobResult {
  const { studyId, fileName, attachment } = input as { studyId: number; fileName: string; attachment: Uint8Array };
  ctx.progress("reading", 0, attachment.length);
  const decoded = decodeTextUpload(attachment);
  if ("error" in decoded) throw new JobInputError([`${fileName || "The file"}: ${decoded.error}. Nothing was imported.`]);
  const prepared = prepareRawLogImport(ctx.db, studyId, decoded.text, ctx.progress);
  if (!prepared.ok) throw new JobInputError(prepared.errors);
  let result: JobResult | null = null;
  const writer: ImportWriter = {
    chunk: (write) => ctx.chunk(write),
    publish: (write) => {
      result = ctx.commit((tx) => ({ studyId, ...write(tx) }));
      return prepared.plan.summary;
    },
  };
  try {
    writeRawLogImport(ctx.db, ctx.jobId, prepared.plan, writer, { progress: (done, total) => ctx.progress("writing", done, total) });
  } catch (error) {
    // Nothing of it is visible: take the invisible rows away now rather than at the next job.
    ctx.discardStaged();
    throw error;
  }
  return result!;
}

type TallyKey = string;

/** The tallies the plan's votes add, as the insert trigger would add them one vote at a time (migrations/0011). */
function plannedTallies(plan: ImportPlan, promptId: (ref: Ref) => number, annotatorId: (ref: Ref) => number) {
  const promptRows = new Map<number, { wins: number; losses: number; ties: number; bothBad: number }>();
  const pairRows = new Map<TallyKey, { low: number; high: number; lowWins: number; highWins: number; draws: number }>();
  const annotatorRows = new Map<number, { votes: number; skips: number; latencySum: number; latencyCount: number }>();
  const addSide = (prompt: number, choice: string, shown: "left" | "right") => {
    const row = promptRows.get(prompt) ?? { wins: 0, losses: 0, ties: 0, bothBad: 0 };
    row.wins += Number(choice === shown);
    row.losses += Number((choice === "left" || choice === "right") && choice !== shown);
    row.ties += Number(choice === "tie");
    row.bothBad += Number(choice === "both_bad");
    promptRows.set(prompt, row);
  };
  for (const vote of plan.votes) {
    const { choice, prompt_a_side: aSide, latency_ms: latency } = vote.record;
    const voter = annotatorId(vote.annotator);
    const annotator = annotatorRows.get(voter) ?? { votes: 0, skips: 0, latencySum: 0, latencyCount: 0 };
    annotator.votes++;
    annotator.skips += Number(choice === "skip");
    annotator.latencySum += latency ?? 0;
    annotator.latencyCount += Number(latency !== null);
    annotatorRows.set(voter, annotator);
    // The triggers' rules: skips, audits (ADR 0034) and an excluded annotator's votes (ADR 0025) stay out of the
    // prompt and pair tallies; the publishing commit checks no exclusion changed since.
    if (choice === "skip" || vote.record.purpose === "audit" || ("id" in vote.annotator && plan.matchedAnnotators.get(vote.annotator.id)?.excluded))
      continue;
    const a = promptId(vote.promptA);
    const b = promptId(vote.promptB);
    const leftIsA = aSide === "left";
    addSide(a, choice, leftIsA ? "left" : "right");
    addSide(b, choice, leftIsA ? "right" : "left");
    const aWins = Number(choice === (leftIsA ? "left" : "right"));
    const bWins = Number(choice === (leftIsA ? "right" : "left"));
    const low = Math.min(a, b);
    const high = Math.max(a, b);
    const key = `${low}:${high}`;
    const pair = pairRows.get(key) ?? { low, high, lowWins: 0, highWins: 0, draws: 0 };
    pair.lowWins += a < b ? aWins : bWins;
    pair.highWins += a < b ? bWins : aWins;
    pair.draws += Number(choice === "tie" || choice === "both_bad");
    pairRows.set(key, pair);
  }
  return { promptRows, pairRows, annotatorRows };
}

/**
 * Writes a prepared import in chunks (ADR 0036), then publishes it in one small commit:
 * 1. a staging study (no members) and the job's pending_imports row;
 * 2. in chunks: the new prompts and queries (in the staging study), the new annotators (recorded in
 *    the pending row), the responses of new prompts or queries, then every assignment and vote
 *    (votes tagged with the job: invisible to every reader and to the tallies);
 * 3. `writer.publish`: the new prompts and queries move into the study, the responses of its own
 *    prompts and queries are stored, the new annotators are listed, the tallies get the votes'
 *    totals (O(prompts + pairs + annotators) rows), the staging study and the pending row go.
 * A crash anywhere before 3 leaves only invisible rows, which cleanUpPendingImports removes; one
 * in 3 leaves nothing of it. Throws ImportRaced (the job is then retried, preparing afresh) if the
 * study changed meanwhile.
 */
export function writeRawLogImport(
  db: DB,
  jobId: number,
  plan: ImportPlan,
  writer: ImportWriter,
  { progress = () => {}, chunkRows = STAGED_CHUNK_ROWS }: { progress?: (done: number, total: number) => void; chunkRows?: number } = {},
): ImportSummary {
  const { studyId, settingsHash } = plan;
  let stagingStudyId = 0;
  writer.chunk((tx) => {
    const study = tx.select().from(studies).where(eq(studies.id, studyId)).get();
    if (!study) throw new ImportRaced(`study ${studyId} is gone`);
    stagingStudyId = tx
      .insert(studies)
      .values({ name: `Import staging (job ${jobId})`, task: "import staging", model: study.model, status: "archived" })
      .returning({ id: studies.id })
      .get().id;
    openStaging(tx, jobId, studyId, stagingStudyId);
  });
  const total = plan.newPrompts.length + plan.newQueries.length + plan.newAnnotators.length + plan.responses.length + plan.votes.length;
  let done = 0;
  const advanced = (rows: number) => progress((done += rows), total);

  const promptIds: number[] = [];
  let insertPrompt: ReturnType<typeof preparePromptInsert> | null = null;
  inChunks(
    chunkRows,
    writer,
    plan.newPrompts,
    (tx, { text, embedding }) => {
      insertPrompt ??= preparePromptInsert(tx, stagingStudyId);
      promptIds.push(insertPrompt({ text, source: "imported", embedding }).id);
    },
    (_tx, from, to) => advanced(to - from),
  );
  const queryIds: number[] = [];
  inChunks(
    chunkRows,
    writer,
    plan.newQueries,
    (tx, text) => {
      queryIds.push(tx.insert(queries).values({ studyId: stagingStudyId, text }).returning({ id: queries.id }).get().id);
    },
    (_tx, from, to) => advanced(to - from),
  );
  const promptId = (ref: Ref) => ("id" in ref ? ref.id : promptIds[ref.created]!);
  const queryId = (ref: Ref) => ("id" in ref ? ref.id : queryIds[ref.created]!);

  const annotatorIds: number[] = [];
  const annotatorOf = (ref: Ref) => ("id" in ref ? ref.id : annotatorIds[ref.created]!);
  inChunks(
    chunkRows,
    writer,
    plan.newAnnotators,
    (tx, displayName) => {
      annotatorIds.push(tx.insert(annotators).values({ displayName }).returning({ id: annotators.id }).get().id);
    },
    (tx, from, to) => {
      // In the same commit as the annotators: a clean-up after a crash knows every one of them.
      tx.update(pendingImports)
        .set({ annotatorIds: [...annotatorIds] })
        .where(eq(pendingImports.jobId, jobId))
        .run();
      advanced(to - from);
    },
  );

  // Responses of a new prompt or query are invisible with it (its study is the staging one); those of
  // the study's own prompt and query would show at once, so they wait for the publishing commit.
  const ownResponses = plan.responses.filter((response) => "id" in response.prompt && "id" in response.query);
  const stagedResponses = plan.responses.filter((response) => !("id" in response.prompt && "id" in response.query));
  const insertResponse = (tx: Transaction) =>
    tx
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
        set: { content: sql`excluded.content`, status: "ready", error: null },
        setWhere: sql`${responses.status} <> 'ready'`,
      })
      .prepare();
  let storeStaged: ReturnType<typeof insertResponse> | null = null;
  inChunks(
    chunkRows,
    writer,
    stagedResponses,
    (tx, response) => {
      storeStaged ??= insertResponse(tx);
      storeStaged.run({ promptId: promptId(response.prompt), queryId: queryId(response.query), content: response.content });
    },
    (_tx, from, to) => advanced(to - from),
  );

  let insertAssignment: ReturnType<typeof prepareAssignment> | null = null;
  let insertVote: ReturnType<typeof prepareVote> | null = null;
  let nextAssignment = 0;
  // Log vote_id -> the assignment written for it, so an audit later in the log points at its original.
  const assignmentOfLogVote = new Map<number, number>();
  inChunks(
    chunkRows,
    writer,
    plan.votes,
    (tx, vote) => {
      insertAssignment ??= prepareAssignment(tx, studyId);
      insertVote ??= prepareVote(tx, studyId, jobId);
      if (nextAssignment === 0) {
        // Explicit ids, taken inside this chunk's write transaction where no one else can take them.
        nextAssignment =
          (tx
            .select({ id: sql<number | null>`max(${assignments.id})` })
            .from(assignments)
            .get()?.id ?? 0) + 1;
      }
      const { record } = vote;
      const annotatorId = annotatorOf(vote.annotator);
      const votedAt = new Date(record.voted_at);
      const id = nextAssignment++;
      assignmentOfLogVote.set(record.vote_id, id);
      const auditOf =
        vote.auditOf === null
          ? null
          : "assignmentId" in vote.auditOf
            ? vote.auditOf.assignmentId
            : (assignmentOfLogVote.get(vote.auditOf.logVoteId) ?? null);
      insertAssignment.run({
        id,
        annotatorId,
        promptAId: promptId(vote.promptA),
        promptBId: promptId(vote.promptB),
        queryId: queryId(vote.query),
        leftIsA: record.prompt_a_side === "left",
        issuedAt: new Date(record.issued_at),
        votedAt,
        policy: record.policy,
        engineRound: record.engine_round,
        purpose: record.purpose ?? "work",
        auditOf,
      });
      insertVote.run({
        assignmentId: id,
        annotatorId,
        choice: record.choice,
        comment: record.comment,
        latencyMs: record.latency_ms,
        origin: vote.origin,
        votedAt,
      });
    },
    (_tx, from, to) => {
      nextAssignment = 0;
      advanced(to - from);
    },
  );

  // Tallies that touch only what the import creates (its prompts, its annotators) are written before
  // the publishing commit, under the staging study, so that commit stays small (ADR 0036).
  const tallies = plannedTallies(plan, promptId, annotatorOf);
  const newPrompt = new Set(promptIds);
  let staged: ReturnType<typeof tallyWriters> | null = null;
  const stagedRows: (() => void)[] = [];
  for (const [id, row] of tallies.promptRows)
    if (newPrompt.has(id)) stagedRows.push(() => staged!.prompt.run({ promptId: id, studyId: stagingStudyId, ...row }));
  for (const row of tallies.pairRows.values()) if (newPrompt.has(row.low) && newPrompt.has(row.high)) stagedRows.push(() => staged!.pair.run(row));
  // A matched annotator's row is the study's already: added to in the publishing commit.
  for (const [annotatorId, row] of tallies.annotatorRows)
    if (!plan.matchedAnnotators.has(annotatorId)) stagedRows.push(() => staged!.annotator.run({ annotatorId, studyId: stagingStudyId, ...row }));
  inChunks(chunkRows, writer, stagedRows, (tx, write) => {
    staged ??= tallyWriters(tx);
    write();
  });
  return writer.publish((tx) => {
    if (!stagingExists(tx, jobId)) throw new ImportRaced("the import's written rows were removed meanwhile");
    if (!tx.select({ id: studies.id }).from(studies).where(eq(studies.id, studyId)).get()) throw new ImportRaced(`study ${studyId} is gone`);
    const clash = stagingClash(tx, studyId, stagingStudyId);
    if (clash) throw new ImportRaced(`a ${clash} of the log was added to the study meanwhile`);
    // The planned tallies left out the votes of annotators excluded then: an exclusion since would miscount.
    for (const [annotatorId, { excluded }] of plan.matchedAnnotators) {
      const now = tx
        .select({ excludedAt: studyAnnotators.excludedAt })
        .from(studyAnnotators)
        .where(and(eq(studyAnnotators.studyId, studyId), eq(studyAnnotators.annotatorId, annotatorId)))
        .get();
      if ((now?.excludedAt != null) !== excluded) throw new ImportRaced("an annotator of the log was excluded or reinstated meanwhile");
    }
    tx.update(prompts).set({ studyId }).where(eq(prompts.studyId, stagingStudyId)).run();
    tx.update(queries).set({ studyId }).where(eq(queries.studyId, stagingStudyId)).run();

    const storeOwn = insertResponse(tx);
    for (const response of ownResponses) {
      storeOwn.run({ promptId: promptId(response.prompt), queryId: queryId(response.query), content: response.content });
    }
    // Listed among the study's annotators (joined through no link); they have no session, so cannot act.
    for (const annotatorId of annotatorIds) tx.insert(studyAnnotators).values({ studyId, annotatorId, inviteId: null }).run();

    // The tallies of new prompts and annotators were written with the staging study (invisible);
    // they move with it. Those that touch the study's own prompts are added now.
    tx.update(promptTallies).set({ studyId }).where(eq(promptTallies.studyId, stagingStudyId)).run();
    tx.update(annotatorTallies).set({ studyId }).where(eq(annotatorTallies.studyId, stagingStudyId)).run();
    const add = tallyWriters(tx);
    for (const [id, row] of tallies.promptRows) if (!newPrompt.has(id)) add.prompt.run({ promptId: id, studyId, ...row });
    for (const row of tallies.pairRows.values()) if (!(newPrompt.has(row.low) && newPrompt.has(row.high))) add.pair.run(row);
    for (const [annotatorId, row] of tallies.annotatorRows)
      if (plan.matchedAnnotators.has(annotatorId)) add.annotator.run({ annotatorId, studyId, ...row });
    // Gold items the log marks (O(items)); the study's own answer for an item wins.
    for (const item of plan.goldItems) {
      const a = promptId(item.promptA);
      const b = promptId(item.promptB);
      tx.insert(goldItems)
        .values({
          studyId,
          queryId: queryId(item.query),
          lowPromptId: Math.min(a, b),
          highPromptId: Math.max(a, b),
          preferredPromptId: item.preferredIsA ? a : b,
        })
        .onConflictDoNothing()
        .run();
    }

    tx.delete(studies).where(eq(studies.id, stagingStudyId)).run();
    // The one row that made the votes invisible: from this commit on they are the study's.
    tx.delete(pendingImports).where(eq(pendingImports.jobId, jobId)).run();
    return plan.summary;
  });
}

/** Upserts into the three tallies, adding to what a row already counts. */
function tallyWriters(tx: Transaction) {
  const addPrompt = tx
    .insert(promptTallies)
    .values({
      promptId: sql.placeholder("promptId"),
      studyId: sql.placeholder("studyId"),
      wins: sql.placeholder("wins"),
      losses: sql.placeholder("losses"),
      ties: sql.placeholder("ties"),
      bothBad: sql.placeholder("bothBad"),
    })
    .onConflictDoUpdate({
      target: promptTallies.promptId,
      set: {
        wins: sql`${promptTallies.wins} + excluded.wins`,
        losses: sql`${promptTallies.losses} + excluded.losses`,
        ties: sql`${promptTallies.ties} + excluded.ties`,
        bothBad: sql`${promptTallies.bothBad} + excluded.both_bad`,
      },
    })
    .prepare();
  const addPair = tx
    .insert(pairTallies)
    .values({
      lowPromptId: sql.placeholder("low"),
      highPromptId: sql.placeholder("high"),
      lowWins: sql.placeholder("lowWins"),
      highWins: sql.placeholder("highWins"),
      draws: sql.placeholder("draws"),
    })
    .onConflictDoUpdate({
      target: [pairTallies.lowPromptId, pairTallies.highPromptId],
      set: {
        lowWins: sql`${pairTallies.lowWins} + excluded.low_wins`,
        highWins: sql`${pairTallies.highWins} + excluded.high_wins`,
        draws: sql`${pairTallies.draws} + excluded.draws`,
      },
    })
    .prepare();
  const addAnnotator = tx
    .insert(annotatorTallies)
    .values({
      studyId: sql.placeholder("studyId"),
      annotatorId: sql.placeholder("annotatorId"),
      votes: sql.placeholder("votes"),
      skips: sql.placeholder("skips"),
      latencySumMs: sql.placeholder("latencySum"),
      latencyCount: sql.placeholder("latencyCount"),
    })
    .onConflictDoUpdate({
      target: [annotatorTallies.studyId, annotatorTallies.annotatorId],
      set: {
        votes: sql`${annotatorTallies.votes} + excluded.votes`,
        skips: sql`${annotatorTallies.skips} + excluded.skips`,
        latencySumMs: sql`${annotatorTallies.latencySumMs} + excluded.latency_sum_ms`,
        latencyCount: sql`${annotatorTallies.latencyCount} + excluded.latency_count`,
      },
    })
    .prepare();
  return { prompt: addPrompt, pair: addPair, annotator: addAnnotator };
}

function prepareAssignment(tx: Transaction, studyId: number) {
  return tx
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
      purpose: sql.placeholder("purpose"),
      auditOf: sql.placeholder("auditOf"),
    })
    .prepare();
}

function prepareVote(tx: Transaction, studyId: number, jobId: number) {
  return tx
    .insert(votes)
    .values({
      assignmentId: sql.placeholder("assignmentId"),
      studyId,
      annotatorId: sql.placeholder("annotatorId"),
      choice: sql.placeholder("choice"),
      comment: sql.placeholder("comment"),
      latencyMs: sql.placeholder("latencyMs"),
      origin: sql.placeholder("origin"),
      importJobId: jobId,
      createdAt: sql.placeholder("votedAt"),
    })
    .prepare();
}
