import type { DB } from "../../db/client";
import type { AssignmentPurpose } from "../../db/schema";
import type { DuplicateOption, VoteFilter } from "./export-options.server";

/**
 * The rows behind every export, read with one SQL statement each and streamed with better-sqlite3's
 * statement.iterate(): one row in memory at a time, whatever the number of votes. Order is by vote id,
 * so the same data always gives the same rows in the same order.
 *
 * While an iterator is open its connection cannot write (better-sqlite3 reports it busy), so the app
 * runs downloads on a connection of their own (see download.server.ts).
 */

// Shared WHERE clause. Named parameters: @studyId, @annotatorIds (JSON array or null), @fromMs, @toMs.
const VOTE_FILTER_SQL = `
  v.study_id = @studyId
  AND (v.import_job_id IS NULL OR v.import_job_id NOT IN (SELECT job_id FROM pending_imports))
  AND (@annotatorIds IS NULL OR v.annotator_id IN (SELECT value FROM json_each(@annotatorIds)))
  AND (@fromMs IS NULL OR v.created_at >= @fromMs)
  AND (@toMs IS NULL OR v.created_at < @toMs)`;

// The response an annotator saw for (prompt, query). Assignments do not record a response id, so take
// the ready response generated with the study's current settings (what the annotate page shows),
// else the most recent ready one. @settingsHash is the study's current generation settings hash.
const shownResponseSql = (promptColumn: string, queryColumn: string) => `(
  SELECT r.content FROM responses r
  WHERE r.prompt_id = ${promptColumn} AND r.query_id = ${queryColumn} AND r.status = 'ready'
  ORDER BY r.settings_hash = @settingsHash DESC, r.id DESC
  LIMIT 1)`;

const RAW_VOTES_SQL = `
SELECT
  v.id AS voteId, v.study_id AS studyId, s.name AS studyName,
  v.annotator_id AS annotatorId, u.display_name AS annotatorName,
  a.query_id AS queryId, q.text AS query,
  a.prompt_a_id AS promptAId, pa.text AS promptAText, a.prompt_b_id AS promptBId, pb.text AS promptBText,
  ${shownResponseSql("a.prompt_a_id", "a.query_id")} AS responseA,
  ${shownResponseSql("a.prompt_b_id", "a.query_id")} AS responseB,
  a.left_is_a AS leftIsA, v.choice AS choice, v.comment AS comment,
  a.issued_at AS issuedAt, v.created_at AS votedAt, v.latency_ms AS latencyMs,
  a.policy AS policy, a.engine_round AS engineRound,
  sa.excluded_at IS NOT NULL AS annotatorExcluded, u.kind AS annotatorKind,
  a.purpose AS purpose, (SELECT ov.id FROM votes ov WHERE ov.assignment_id = a.audit_of) AS auditOfVoteId,
  (SELECT g.preferred_prompt_id FROM gold_items g WHERE g.study_id = a.study_id AND g.query_id = a.query_id
    AND g.low_prompt_id = min(a.prompt_a_id, a.prompt_b_id) AND g.high_prompt_id = max(a.prompt_a_id, a.prompt_b_id)) AS goldAnswerPromptId
FROM votes v
JOIN assignments a ON a.id = v.assignment_id
JOIN studies s ON s.id = v.study_id
JOIN annotators u ON u.id = v.annotator_id
JOIN queries q ON q.id = a.query_id
JOIN prompts pa ON pa.id = a.prompt_a_id
JOIN prompts pb ON pb.id = a.prompt_b_id
LEFT JOIN study_annotators sa ON sa.study_id = v.study_id AND sa.annotator_id = v.annotator_id
WHERE ${VOTE_FILTER_SQL}
ORDER BY v.id`;

export interface RawVoteRow {
  voteId: number;
  studyId: number;
  studyName: string;
  annotatorId: number;
  annotatorName: string;
  queryId: number;
  query: string;
  promptAId: number;
  promptAText: string;
  promptBId: number;
  promptBText: string;
  responseA: string | null;
  responseB: string | null;
  /** SQLite boolean: 1 when prompt A's response was shown on the left. */
  leftIsA: number;
  choice: string;
  comment: string | null;
  /** Epoch milliseconds. */
  issuedAt: number;
  votedAt: number;
  latencyMs: number | null;
  policy: string;
  engineRound: number;
  /** SQLite boolean: 1 when the owner excluded the annotator's votes from the leaderboard and engine. */
  annotatorExcluded: number;
  /** "judge" for the study's LLM judge (ADR 0032). */
  annotatorKind: "human" | "judge";
  /** Why the pair was served (ADR 0034, 0042); an audit's original vote; the owner's answer when the item is gold. */
  purpose: AssignmentPurpose;
  auditOfVoteId: number | null;
  goldAnswerPromptId: number | null;
}

// Decisive votes (left / right) resolved to chosen and rejected prompts through assignments.left_is_a.
const DECISIVE_VOTES_CTE = `
decisive AS (
  SELECT v.id AS vote_id, a.query_id, v.annotator_id, a.purpose = 'audit' AS is_audit, a.purpose = 'overlap' AS is_overlap,
    EXISTS (SELECT 1 FROM gold_items g WHERE g.study_id = a.study_id AND g.query_id = a.query_id
      AND g.low_prompt_id = min(a.prompt_a_id, a.prompt_b_id) AND g.high_prompt_id = max(a.prompt_a_id, a.prompt_b_id)) AS is_gold,
    CASE WHEN (v.choice = 'left') = (a.left_is_a = 1) THEN a.prompt_a_id ELSE a.prompt_b_id END AS chosen_prompt_id,
    CASE WHEN (v.choice = 'left') = (a.left_is_a = 1) THEN a.prompt_b_id ELSE a.prompt_a_id END AS rejected_prompt_id
  FROM votes v JOIN assignments a ON a.id = v.assignment_id
  WHERE ${VOTE_FILTER_SQL} AND v.choice IN ('left', 'right')
    AND (@qualityAnnotatorIds IS NULL OR v.annotator_id IN (SELECT value FROM json_each(@qualityAnnotatorIds)))
),
kept AS (SELECT * FROM decisive WHERE @excludeFlaggedVotes = 0 OR (NOT is_audit AND NOT is_gold))`;

const EVERY_DECISIVE_VOTE_CTE = `
pairs AS (
  SELECT vote_id AS order_key, query_id, chosen_prompt_id, rejected_prompt_id,
    CAST(annotator_id AS TEXT) AS annotator_ids, 1 AS votes, 1 AS majority_votes, is_audit, is_gold, is_overlap
  FROM kept
)`;

// Majority per (query, unordered prompt pair), counted in SQLite so no group table lives in JS memory.
// An even split has no majority and yields no pair. A group sorts by its first vote. Audit votes (a
// re-judgement by the same annotator, ADR 0034) are not a second vote: left out, as in the tallies.
const MAJORITY_CTE = `
duel_groups AS (
  SELECT query_id,
    min(chosen_prompt_id, rejected_prompt_id) AS low_id,
    max(chosen_prompt_id, rejected_prompt_id) AS high_id,
    min(vote_id) AS first_vote_id,
    sum(chosen_prompt_id < rejected_prompt_id) AS low_wins,
    count(*) AS decisive_votes,
    group_concat(DISTINCT annotator_id) AS annotator_ids,
    max(is_gold) AS is_gold,
    max(is_overlap) AS is_overlap
  FROM kept
  WHERE NOT is_audit
  GROUP BY query_id, low_id, high_id
),
pairs AS (
  SELECT first_vote_id AS order_key, query_id,
    CASE WHEN 2 * low_wins > decisive_votes THEN low_id ELSE high_id END AS chosen_prompt_id,
    CASE WHEN 2 * low_wins > decisive_votes THEN high_id ELSE low_id END AS rejected_prompt_id,
    annotator_ids, decisive_votes AS votes, max(low_wins, decisive_votes - low_wins) AS majority_votes, 0 AS is_audit, is_gold, is_overlap
  FROM duel_groups
  WHERE 2 * low_wins <> decisive_votes
)`;

// The response columns are selected once; a pair missing either response is skipped while
// iterating (a WHERE on them made SQLite look both responses up twice per pair).
const preferencePairsSql = (pairsCte: string) => `
WITH ${DECISIVE_VOTES_CTE}, ${pairsCte}
SELECT q.text AS query, cp.text AS chosenPromptText,
  ${shownResponseSql("p.chosen_prompt_id", "p.query_id")} AS chosen,
  ${shownResponseSql("p.rejected_prompt_id", "p.query_id")} AS rejected,
  p.chosen_prompt_id AS chosenPromptId, p.rejected_prompt_id AS rejectedPromptId, p.query_id AS queryId,
  ${selectionStatusSql("cp")} AS chosenPromptStatus, ${selectionStatusSql("rp")} AS rejectedPromptStatus,
  CASE WHEN q.active = 0 THEN 'disabled' ELSE NULL END AS queryStatus,
  p.annotator_ids AS annotatorIds, p.votes AS votes, p.majority_votes AS majorityVotes, p.is_audit AS isAudit, p.is_gold AS isGold, p.is_overlap AS isOverlap
FROM pairs p
JOIN queries q ON q.id = p.query_id
JOIN prompts cp ON cp.id = p.chosen_prompt_id
JOIN prompts rp ON rp.id = p.rejected_prompt_id
ORDER BY p.order_key`;

// Why a prompt is out of selection now (disabled by an owner wins over retired by the rule), or NULL while it is in.
const selectionStatusSql = (alias: string) =>
  `CASE WHEN ${alias}.active = 0 THEN 'disabled' WHEN ${alias}.retired_at IS NOT NULL THEN 'retired' ELSE NULL END`;

/** Why an item is out of selection now; null while it is in. */
export type SelectionStatus = "disabled" | "retired" | null;

export interface PreferencePairRow {
  query: string;
  /** Text of the prompt that produced the chosen response. */
  chosenPromptText: string;
  chosen: string;
  rejected: string;
  chosenPromptId: number;
  rejectedPromptId: number;
  queryId: number;
  chosenPromptStatus: SelectionStatus;
  rejectedPromptStatus: SelectionStatus;
  queryStatus: "disabled" | null;
  /** Comma-separated ids of the annotators whose decisive votes make the line (one with duplicates=keep). */
  annotatorIds: string;
  /** The decisive votes behind the line and how many of them went its way (1 and 1 with duplicates=keep). */
  votes: number;
  majorityVotes: number;
  /** SQLite booleans: the vote is an audit (duplicates=keep only); the item is a gold item; a vote behind the line was a served overlap. */
  isAudit: number;
  isGold: number;
  isOverlap: number;
}

/** Which votes a preference export reads: the vote filter, and the annotators the quality filter lets through (null: all). */
export interface PreferenceFilter extends VoteFilter {
  qualityAnnotatorIds: number[] | null;
  /** Leave out audit votes and votes on gold items (exclude-flagged). */
  excludeFlaggedVotes: boolean;
}

function parameters(filter: VoteFilter | PreferenceFilter, settingsHash: string) {
  return {
    qualityAnnotatorIds: "qualityAnnotatorIds" in filter && filter.qualityAnnotatorIds ? JSON.stringify(filter.qualityAnnotatorIds) : null,
    excludeFlaggedVotes: "excludeFlaggedVotes" in filter && filter.excludeFlaggedVotes ? 1 : 0,
    studyId: filter.studyId,
    annotatorIds: filter.annotatorIds ? JSON.stringify(filter.annotatorIds) : null,
    fromMs: filter.fromMs,
    toMs: filter.toMs,
    settingsHash,
  };
}

/** Every vote matching the filter, by vote id. */
export function iterateRawVotes(db: DB, filter: VoteFilter, settingsHash: string): IterableIterator<RawVoteRow> {
  return db.$client.prepare<[ReturnType<typeof parameters>], RawVoteRow>(RAW_VOTES_SQL).iterate(parameters(filter, settingsHash));
}

/**
 * Preference pairs for DPO files: decisive votes only (ties, both_bad and skips never enter), one per
 * vote (`keep`) or one per (query, prompt pair) by majority.
 */
export function* iteratePreferencePairs(
  db: DB,
  filter: PreferenceFilter,
  settingsHash: string,
  duplicates: DuplicateOption,
): Generator<PreferencePairRow, void, undefined> {
  const sql = preferencePairsSql(duplicates === "majority" ? MAJORITY_CTE : EVERY_DECISIVE_VOTE_CTE);
  const rows = db.$client
    .prepare<[ReturnType<typeof parameters>], { [K in keyof PreferencePairRow]: PreferencePairRow[K] | null }>(sql)
    .iterate(parameters(filter, settingsHash));
  // A pair whose chosen or rejected response no longer exists cannot train anything: left out.
  for (const row of rows) if (row.chosen !== null && row.rejected !== null) yield row as PreferencePairRow;
}
