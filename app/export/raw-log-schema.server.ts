import { z } from "zod";
import { POLICY_NAMES } from "../../bandit/policy";
import { ANNOTATOR_KINDS, ASSIGNMENT_PURPOSES, VOTE_CHOICES } from "../../db/schema";
import { normalizeDisplayName } from "~/auth/display-name";
import { COMMENT_MAX, LATENCY_MAX_MS } from "~/models/vote-limits";
import { jsonlLines } from "~/utils/jsonl";

/**
 * One line of the raw log (JSONL) and one row of the raw CSV: every vote with everything needed to
 * read it without the database. The column order here is the order in both files.
 *
 * `prompt_a` / `prompt_b` are the assignment's two prompts; `*_side` says where each response was
 * shown, and `choice` is what the annotator clicked (a side, not a prompt). `preferred_prompt_id`
 * resolves the click to a prompt (null for tie, both_bad and skip). `annotator_excluded` marks the votes
 * of an annotator the owner excluded from the leaderboard and engine (kept, not counted); logs written
 * before it existed lack it, and an import does not carry it over: the importing owner decides. `annotator_kind`
 * is "judge" for the votes of the study's LLM judge (ADR 0032), "human" otherwise; an import does not carry it
 * over either (imported votes are by annotators of the importing study).
 *
 * Quality checks (ADR 0034, 0042): `purpose` is why the pair was served (work, audit, gold, overlap); an audit's
 * `audit_of_vote_id` is the vote_id of the decision it re-judged (null when that vote was undone, and for every
 * other purpose); `gold_answer_prompt_id` is, when the (query, prompt pair) is one of the study's gold items, the
 * prompt the owner says is better (null otherwise). An import reads them back: audits stay audits (out of the
 * tallies and the engine), gold items are marked in the importing study unless it has them already. Logs written
 * before they existed lack them: every vote is work and no item gold.
 */
export const RAW_LOG_COLUMNS = [
  "vote_id",
  "study_id",
  "study_name",
  "annotator_id",
  "annotator_name",
  "query_id",
  "query",
  "prompt_a_id",
  "prompt_a_text",
  "prompt_b_id",
  "prompt_b_text",
  "response_a",
  "response_b",
  "prompt_a_side",
  "prompt_b_side",
  "choice",
  "preferred_prompt_id",
  "comment",
  "issued_at",
  "voted_at",
  "latency_ms",
  "policy",
  "engine_round",
  "annotator_excluded",
  "annotator_kind",
  "purpose",
  "audit_of_vote_id",
  "gold_answer_prompt_id",
] as const;

export type RawLogColumn = (typeof RAW_LOG_COLUMNS)[number];

const SIDES = ["left", "right"] as const;
// Clocks disagree a little; a vote minutes ahead of this server's clock is not from the future.
const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** Zod error callback: "x is required" when the field is missing, "x must be …" otherwise. */
const expected = (name: string, what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${name} is required` : `${name} must be ${what}`;
const id = (name: string) =>
  z
    .number({ error: expected(name, "a number") })
    .int(`${name} must be an integer`)
    .positive(`${name} must be positive`);
const timestamp = (name: string) => z.iso.datetime({ error: expected(name, "an ISO 8601 UTC timestamp (e.g. 2025-01-31T12:00:00.000Z)") });

export const RawLogRecordSchema = z
  .strictObject({
    vote_id: id("vote_id"),
    study_id: id("study_id"),
    study_name: z.string({ error: expected("study_name", "a string") }),
    annotator_id: id("annotator_id"),
    // Normalised like a name typed at /join: a log cannot smuggle in control, invisible or bidi characters.
    annotator_name: z.string({ error: expected("annotator_name", "a string") }).transform((name, ctx) => {
      const result = normalizeDisplayName(name);
      if (result.ok) return result.name;
      ctx.addIssue({ code: "custom", message: `annotator_name: ${result.message}` });
      return z.NEVER;
    }),
    query_id: id("query_id"),
    query: z.string({ error: expected("query", "a string") }).min(1, "query must not be empty"),
    prompt_a_id: id("prompt_a_id"),
    prompt_a_text: z.string({ error: expected("prompt_a_text", "a string") }).min(1, "prompt_a_text must not be empty"),
    prompt_b_id: id("prompt_b_id"),
    prompt_b_text: z.string({ error: expected("prompt_b_text", "a string") }).min(1, "prompt_b_text must not be empty"),
    response_a: z.string({ error: expected("response_a", "a string or null") }).nullable(),
    response_b: z.string({ error: expected("response_b", "a string or null") }).nullable(),
    prompt_a_side: z.enum(SIDES, { error: expected("prompt_a_side", "left or right") }),
    prompt_b_side: z.enum(SIDES, { error: expected("prompt_b_side", "left or right") }),
    choice: z.enum(VOTE_CHOICES, { error: expected("choice", `one of: ${VOTE_CHOICES.join(", ")}`) }),
    preferred_prompt_id: id("preferred_prompt_id").nullable(),
    // As the annotate page stores it: trimmed, an empty one is no comment.
    comment: z
      .string({ error: expected("comment", "a string or null") })
      .trim()
      .max(COMMENT_MAX, `comment must be at most ${COMMENT_MAX} characters`)
      .nullable()
      .transform((value) => value || null),
    issued_at: timestamp("issued_at"),
    voted_at: timestamp("voted_at"),
    latency_ms: z
      .number({ error: expected("latency_ms", "a number or null") })
      .int("latency_ms must be an integer")
      .min(0, "latency_ms must be at least 0")
      .max(LATENCY_MAX_MS, `latency_ms must be at most ${LATENCY_MAX_MS} (a day)`)
      .nullable(),
    policy: z.enum(POLICY_NAMES, { error: expected("policy", `one of: ${POLICY_NAMES.join(", ")}`) }),
    engine_round: z
      .number({ error: expected("engine_round", "a number") })
      .int("engine_round must be an integer")
      .min(0, "engine_round must be at least 0")
      .max(Number.MAX_SAFE_INTEGER, "engine_round is too large"),
    annotator_excluded: z.boolean({ error: expected("annotator_excluded", "true or false") }).optional(),
    annotator_kind: z.enum(ANNOTATOR_KINDS, { error: expected("annotator_kind", `one of: ${ANNOTATOR_KINDS.join(", ")}`) }).optional(),
    purpose: z.enum(ASSIGNMENT_PURPOSES, { error: expected("purpose", `one of: ${ASSIGNMENT_PURPOSES.join(", ")}`) }).optional(),
    audit_of_vote_id: id("audit_of_vote_id").nullable().optional(),
    gold_answer_prompt_id: id("gold_answer_prompt_id").nullable().optional(),
  })
  .superRefine((record, ctx) => {
    if (record.prompt_a_id === record.prompt_b_id) {
      ctx.addIssue({ code: "custom", path: ["prompt_b_id"], message: "prompt_a_id and prompt_b_id must differ" });
    }
    if (record.prompt_a_side === record.prompt_b_side) {
      ctx.addIssue({ code: "custom", path: ["prompt_b_side"], message: "prompt_a_side and prompt_b_side must be opposite sides" });
    }
    if (Date.parse(record.issued_at) > Date.parse(record.voted_at)) {
      ctx.addIssue({ code: "custom", path: ["issued_at"], message: "issued_at must not be after voted_at (a pair is shown before it is voted on)" });
    }
    if (Date.parse(record.voted_at) > Date.now() + FUTURE_TOLERANCE_MS) {
      ctx.addIssue({ code: "custom", path: ["voted_at"], message: "voted_at must not be in the future" });
    }
    if (record.audit_of_vote_id != null && record.purpose !== "audit") {
      ctx.addIssue({ code: "custom", path: ["audit_of_vote_id"], message: "audit_of_vote_id must be null unless purpose is audit" });
    }
    if (record.audit_of_vote_id != null && record.audit_of_vote_id === record.vote_id) {
      ctx.addIssue({ code: "custom", path: ["audit_of_vote_id"], message: "audit_of_vote_id must name another vote" });
    }
    if (
      record.gold_answer_prompt_id != null &&
      record.gold_answer_prompt_id !== record.prompt_a_id &&
      record.gold_answer_prompt_id !== record.prompt_b_id
    ) {
      ctx.addIssue({ code: "custom", path: ["gold_answer_prompt_id"], message: "gold_answer_prompt_id must be prompt_a_id or prompt_b_id" });
    }
    const expected = preferredPromptId(record);
    if (record.preferred_prompt_id !== expected) {
      ctx.addIssue({
        code: "custom",
        path: ["preferred_prompt_id"],
        message: `preferred_prompt_id must be ${expected ?? "null"} for choice "${record.choice}" with prompt_a on the ${record.prompt_a_side}`,
      });
    }
  });

export type RawLogRecord = z.infer<typeof RawLogRecordSchema>;

/** The prompt a vote prefers: the one shown on the clicked side; null for tie, both_bad and skip. */
export function preferredPromptId(vote: Pick<RawLogRecord, "choice" | "prompt_a_side" | "prompt_a_id" | "prompt_b_id">): number | null {
  if (vote.choice !== "left" && vote.choice !== "right") return null;
  return vote.choice === vote.prompt_a_side ? vote.prompt_a_id : vote.prompt_b_id;
}

/**
 * Serialises one JSON value as a JSONL line. U+2028/U+2029 are escaped because JSON allows them raw
 * but line splitters such as Python's str.splitlines() would cut a record in two.
 */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029")}\n`;
}

/** Parses one raw log line; errors are readable strings naming the field. */
export function parseRawLogLine(line: string): { ok: true; record: RawLogRecord } | { ok: false; errors: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, errors: [`not valid JSON (${(error as Error).message})`] };
  }
  const result = RawLogRecordSchema.safeParse(json);
  if (result.success) return { ok: true, record: result.data };
  return {
    ok: false,
    errors: result.error.issues.map((issue) => {
      if (issue.code === "unrecognized_keys") return `unknown field(s): ${issue.keys.join(", ")}`;
      // Every message above already names its field.
      return issue.message;
    }),
  };
}

export interface NumberedRecord {
  line: number;
  record: RawLogRecord;
}

/** Errors shown at most; a log with thousands of bad lines still gets a readable answer. */
const MAX_REPORTED_ERRORS = 50;

/**
 * Parses a whole raw JSONL log: the records with their line numbers, and every invalid line's errors
 * ("line N: …"; cap them with capErrors for display). The importer and replay share it.
 */
export function parseRawLog(text: string, onLine?: (line: number, lines: number) => void): { records: NumberedRecord[]; errors: string[] } {
  const records: NumberedRecord[] = [];
  const errors: string[] = [];
  const lines = onLine ? lineCount(text) : 0;
  for (const { line, text: lineText } of jsonlLines(text)) {
    if (onLine && line % 1000 === 0) onLine(line, lines);
    const result = parseRawLogLine(lineText);
    if (result.ok) records.push({ line, record: result.record });
    else for (const message of result.errors) errors.push(`line ${line}: ${message}`);
  }
  if (records.length === 0 && errors.length === 0) errors.push("the log holds no votes (expected one JSON object per line)");
  return { records, errors };
}

function lineCount(text: string): number {
  let count = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/** At most MAX_REPORTED_ERRORS messages, then one saying how many more there were. */
export function capErrors(errors: string[]): string[] {
  if (errors.length <= MAX_REPORTED_ERRORS) return errors;
  return [...errors.slice(0, MAX_REPORTED_ERRORS), `… and ${errors.length - MAX_REPORTED_ERRORS} more`];
}
