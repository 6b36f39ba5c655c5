import { desc, eq } from "drizzle-orm";
import type { DB } from "../../db/client";
import { engineSnapshots, prompts, studies } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { csvRow } from "./csv.server";
import { CONVERSATIONAL_FORMATS, PREFERENCE_FORMATS, voteFilter, type ExportFormat, type ExportOptions } from "./export-options.server";
import { jsonLine, preferredPromptId, RAW_LOG_COLUMNS, type RawLogRecord } from "./raw-log-schema.server";
import {
  annotatorExportFiguresOf,
  hasQualityFilter,
  passingAnnotatorIds,
  qualityField,
  type AnnotatorExportFigures,
  type QualityFlag,
} from "./quality-fields.server";
import { iteratePreferencePairs, iterateRawVotes, type PreferencePairRow, type PreferenceFilter, type RawVoteRow } from "./rows.server";

/** An export ready to stream: its metadata is known before the first byte, its lines are produced lazily. */
export interface PreparedExport {
  fileName: string;
  contentType: string;
  /** The file, one line (or CSV row) per item. Holds an open statement until exhausted or returned. */
  lines(): Generator<string, void, undefined>;
}

export type PrepareExportResult = { ok: true; export: PreparedExport } | { ok: false; status: 400 | 404; message: string };

interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

const FILE_SUFFIX: Record<ExportFormat, string> = {
  trl: "trl.jsonl",
  "trl-conversational": "trl-conversational.jsonl",
  openai: "openai-preference.jsonl",
  jsonl: "raw.jsonl",
  csv: "raw.csv",
};

/**
 * Checks the study and the options, looks up what every line needs (settings hash, recommended
 * prompt) and returns the export. Nothing is read row by row until lines() is iterated, so the HTTP
 * route can answer 400/404 before it starts streaming. The same options on the same data give the
 * same bytes, from the CLI and from the browser.
 */
export function prepareExport(db: DB, studyId: number, options: ExportOptions): PrepareExportResult {
  const study = db.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) return { ok: false, status: 404, message: `Study ${studyId} not found` };
  const settingsHash = generationSettingsHash(study);
  const filter = voteFilter(studyId, options);
  const base = {
    fileName: `study-${studyId}-${FILE_SUFFIX[options.format]}`,
    contentType: options.format === "csv" ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8",
  };

  if (!PREFERENCE_FORMATS.includes(options.format)) {
    const format = options.format;
    return {
      ok: true,
      export: {
        ...base,
        *lines() {
          if (format === "csv") yield csvRow(RAW_LOG_COLUMNS);
          for (const row of iterateRawVotes(db, filter, settingsHash)) {
            const record = rawLogRecord(row);
            yield format === "csv" ? csvRow(RAW_LOG_COLUMNS.map((column) => record[column] ?? null)) : jsonLine(record);
          }
        },
      },
    };
  }

  let systemMessage: (pair: PreferencePairRow) => string | null = () => null;
  if (CONVERSATIONAL_FORMATS.includes(options.format) && options.system === "recommended") {
    const recommended = recommendedPromptText(db, studyId);
    if (recommended === null) {
      return {
        ok: false,
        status: 400,
        message: "This study has no recommended prompt yet (the engine has not recorded one). Choose another system message option.",
      };
    }
    systemMessage = () => recommended;
  } else if (CONVERSATIONAL_FORMATS.includes(options.format) && options.system === "chosen-prompt") {
    systemMessage = (pair) => pair.chosenPromptText;
  }
  const writeLine = preferenceLineWriter(options.format, systemMessage);
  const pairs = preferencePairSource(db, study, filter, options, settingsHash);
  const figures = pairs.figures;
  const toLine =
    options.quality === "include" && figures
      ? (pair: PreferencePairRow) => writeLine(pair, { quality: qualityOf(pair, figures) })
      : (pair: PreferencePairRow) => writeLine(pair, {});
  return {
    ok: true,
    export: {
      ...base,
      *lines() {
        for (const pair of pairs.iterate()) yield toLine(pair);
      },
    },
  };
}

/**
 * The preference pairs an export's options select, in file order: the vote filter, then the quality filter
 * (annotators who pass, ADR 0035), then duplicates, then selection. `figures` are the annotators' quality
 * figures when the options need them (quality fields or a quality filter), else null.
 */
function preferencePairSource(
  db: DB,
  study: typeof studies.$inferSelect,
  filter: ReturnType<typeof voteFilter>,
  options: ExportOptions,
  settingsHash: string,
): { figures: Map<number, AnnotatorExportFigures> | null; iterate: () => Generator<PreferencePairRow, void, undefined> } {
  const figures = options.quality === "include" || hasQualityFilter(options) ? annotatorExportFiguresOf(db, study) : null;
  const preferenceFilter: PreferenceFilter = {
    ...filter,
    qualityAnnotatorIds: figures ? passingAnnotatorIds(figures, options) : null,
    excludeFlaggedVotes: options["exclude-flagged"],
  };
  const inSelectionOnly = options.selection === "in-selection";
  return {
    figures,
    *iterate() {
      for (const pair of iteratePreferencePairs(db, preferenceFilter, settingsHash, options.duplicates)) {
        if (inSelectionOnly && "out_of_selection" in outOfSelection(pair)) continue;
        yield pair;
      }
    },
  };
}

/**
 * How many preference pairs the options give (what the export page shows before a download), or null for a
 * raw-log format or a study that does not exist. Reads the same rows as the download: O(matching votes).
 */
export function countPreferencePairs(db: DB, studyId: number, options: ExportOptions): number | null {
  const study = db.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study || !PREFERENCE_FORMATS.includes(options.format)) return null;
  let pairs = 0;
  for (const pair of preferencePairSource(db, study, voteFilter(studyId, options), options, generationSettingsHash(study)).iterate()) {
    void pair;
    pairs++;
  }
  return pairs;
}

function qualityOf(pair: PreferencePairRow, figures: Map<number, AnnotatorExportFigures>) {
  const annotatorIds = pair.annotatorIds
    .split(",")
    .map(Number)
    .sort((x, y) => x - y);
  const voteFlags: QualityFlag[] = [];
  if (pair.isAudit) voteFlags.push("audit");
  if (pair.isGold) voteFlags.push("gold");
  if (pair.isOverlap) voteFlags.push("overlap");
  return qualityField(annotatorIds, figures, { votes: pair.votes, majorityVotes: pair.majorityVotes }, voteFlags);
}

function preferenceLineWriter(format: ExportFormat, systemMessage: (pair: PreferencePairRow) => string | null) {
  const promptMessages = (pair: PreferencePairRow): Message[] => {
    const system = systemMessage(pair);
    const user: Message = { role: "user", content: pair.query };
    return system === null ? [user] : [{ role: "system", content: system }, user];
  };
  const assistant = (content: string): Message[] => [{ role: "assistant", content }];
  // `extra` holds the fields after the format's own and out_of_selection: today the quality object.
  type Extra = Record<string, unknown>;
  switch (format) {
    case "trl":
      return (pair: PreferencePairRow, extra: Extra) =>
        jsonLine({ prompt: pair.query, chosen: pair.chosen, rejected: pair.rejected, ...outOfSelection(pair), ...extra });
    case "trl-conversational":
      return (pair: PreferencePairRow, extra: Extra) =>
        jsonLine({
          prompt: promptMessages(pair),
          chosen: assistant(pair.chosen),
          rejected: assistant(pair.rejected),
          ...outOfSelection(pair),
          ...extra,
        });
    case "openai":
      return (pair: PreferencePairRow, extra: Extra) =>
        jsonLine({
          input: { messages: promptMessages(pair) },
          preferred_output: assistant(pair.chosen),
          non_preferred_output: assistant(pair.rejected),
          ...outOfSelection(pair),
          ...extra,
        });
    default:
      throw new Error(`preferenceLineWriter: ${format} is not a preference format`);
  }
}

/**
 * The mark on a preference line whose prompts or query are out of selection now (issue 15 §5): an
 * `out_of_selection` object naming which (chosen_prompt / rejected_prompt: "disabled" or "retired", query:
 * "disabled") with the ids. Lines of items all in selection carry nothing, so they stay in the exact formats of
 * DESIGN §8; the export page's "leave out" option drops the marked lines instead.
 */
export function outOfSelection(pair: PreferencePairRow): { out_of_selection?: Record<string, string | number> } {
  if (pair.chosenPromptStatus === null && pair.rejectedPromptStatus === null && pair.queryStatus === null) return {};
  const mark: Record<string, string | number> = {};
  if (pair.chosenPromptStatus !== null) Object.assign(mark, { chosen_prompt: pair.chosenPromptStatus, chosen_prompt_id: pair.chosenPromptId });
  if (pair.rejectedPromptStatus !== null)
    Object.assign(mark, { rejected_prompt: pair.rejectedPromptStatus, rejected_prompt_id: pair.rejectedPromptId });
  if (pair.queryStatus !== null) Object.assign(mark, { query: pair.queryStatus, query_id: pair.queryId });
  return { out_of_selection: mark };
}

/** Text of the prompt the engine recommended last for this study, or null before its first snapshot. */
export function recommendedPromptText(db: DB, studyId: number): string | null {
  const row = db
    .select({ text: prompts.text })
    .from(engineSnapshots)
    .innerJoin(prompts, eq(prompts.id, engineSnapshots.recommendedPromptId))
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(desc(engineSnapshots.id))
    .limit(1)
    .get();
  return row?.text ?? null;
}

/** A vote row as the raw log writes it (key order = RAW_LOG_COLUMNS). */
export function rawLogRecord(row: RawVoteRow): RawLogRecord {
  const promptASide = row.leftIsA === 1 ? "left" : "right";
  const choice = row.choice as RawLogRecord["choice"];
  return {
    vote_id: row.voteId,
    study_id: row.studyId,
    study_name: row.studyName,
    annotator_id: row.annotatorId,
    annotator_name: row.annotatorName,
    query_id: row.queryId,
    query: row.query,
    prompt_a_id: row.promptAId,
    prompt_a_text: row.promptAText,
    prompt_b_id: row.promptBId,
    prompt_b_text: row.promptBText,
    response_a: row.responseA,
    response_b: row.responseB,
    prompt_a_side: promptASide,
    prompt_b_side: promptASide === "left" ? "right" : "left",
    choice,
    preferred_prompt_id: preferredPromptId({ choice, prompt_a_side: promptASide, prompt_a_id: row.promptAId, prompt_b_id: row.promptBId }),
    comment: row.comment,
    // Date truncates fractional milliseconds (created_at defaults to unixepoch('subsec') * 1000).
    issued_at: new Date(row.issuedAt).toISOString(),
    voted_at: new Date(row.votedAt).toISOString(),
    latency_ms: row.latencyMs,
    policy: row.policy as RawLogRecord["policy"],
    engine_round: row.engineRound,
    annotator_excluded: row.annotatorExcluded === 1,
    annotator_kind: row.annotatorKind,
    purpose: row.purpose,
    audit_of_vote_id: row.auditOfVoteId,
    gold_answer_prompt_id: row.goldAnswerPromptId,
  };
}
