import { z } from "zod";
import { decimalId } from "~/utils/strict-fields";

export const EXPORT_FORMATS = ["trl", "trl-conversational", "openai", "csv", "jsonl"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats with message lists, the only ones a system message can go into. */
export const CONVERSATIONAL_FORMATS: readonly ExportFormat[] = ["trl-conversational", "openai"];
/** Formats holding only decisive preferences (DPO pairs); csv and jsonl are the raw log of every vote. */
export const PREFERENCE_FORMATS: readonly ExportFormat[] = ["trl", "trl-conversational", "openai"];

/**
 * none: no system message; recommended: the study's recommended prompt (latest engine snapshot);
 * chosen-prompt: the prompt that produced the chosen response, i.e. the system message under which
 * the chosen answer was actually generated.
 */
export const SYSTEM_MESSAGE_OPTIONS = ["none", "recommended", "chosen-prompt"] as const;
export type SystemMessageOption = (typeof SYSTEM_MESSAGE_OPTIONS)[number];

/**
 * keep: one DPO pair per decisive vote. majority: one pair per (query, prompt pair) in the direction
 * most decisive votes took; a group whose decisive votes split evenly yields no pair.
 */
export const DUPLICATE_OPTIONS = ["keep", "majority"] as const;
export type DuplicateOption = (typeof DUPLICATE_OPTIONS)[number];

/**
 * mark: every pair, those with a prompt or query out of selection (disabled, retired) carrying `out_of_selection`;
 * in-selection: only the pairs whose two prompts and query are in selection now.
 */
export const SELECTION_OPTIONS = ["mark", "in-selection"] as const;
export type SelectionOption = (typeof SELECTION_OPTIONS)[number];

/**
 * omit: the lines are exactly the formats (DESIGN §8); include: every preference line carries a `quality`
 * object (app/export/quality-fields.server.ts, ADR 0035). Off by default so a file keeps the format a strict
 * uploader accepts; the export page asks for it explicitly.
 */
export const QUALITY_FIELD_OPTIONS = ["omit", "include"] as const;
export type QualityFieldOption = (typeof QUALITY_FIELD_OPTIONS)[number];

const DAY_MS = 86_400_000;

/** A yes/no option: a bare CLI flag (true), a checked box ("on") or yes/true/1; absent or blank is no. */
const yesNo = (name: string) =>
  z.preprocess(
    (value) => (value === "" || value === null ? undefined : typeof value === "string" ? value.toLowerCase() : value),
    z
      .union([z.boolean(), z.enum(["on", "yes", "true", "1"]).transform(() => true), z.enum(["no", "false", "0"]).transform(() => false)], {
        error: `${name} takes no value, or yes / no`,
      })
      .default(false),
  );

/** A share in [0, 1] written in plain decimal ("0.7", "1"), or absent. */
const share = (name: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string({ error: `${name} must be a number from 0 to 1, e.g. 0.7` })
      .trim()
      .regex(/^(0|1)(\.\d+)?$|^\.\d+$/, `${name} must be a number from 0 to 1, e.g. 0.7`)
      .transform(Number)
      .refine((value) => value >= 0 && value <= 1, `${name} must be a number from 0 to 1, e.g. 0.7`)
      .optional(),
  );

/** An empty form field or query parameter means "not given". */
const blankToUndefined = (value: unknown) => (value === "" || value === null ? undefined : value);

const utcDay = (name: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, `${name} must be a date written YYYY-MM-DD`)
      .refine((value) => {
        const time = Date.parse(`${value}T00:00:00.000Z`);
        return !Number.isNaN(time) && new Date(time).toISOString().startsWith(value);
      }, `${name} is not a real calendar date`)
      .optional(),
  );

/**
 * The export choices shared by the download route and the CLI: every option validated with a
 * message a person can act on. Options that do not apply to the chosen format (system message and
 * duplicates for the raw log, system message for TRL standard) are accepted and have no effect.
 */
export const ExportOptionsShape = {
  format: z.enum(EXPORT_FORMATS, { error: `format must be one of: ${EXPORT_FORMATS.join(", ")}` }),
  system: z.preprocess(
    blankToUndefined,
    z.enum(SYSTEM_MESSAGE_OPTIONS, { error: `system must be one of: ${SYSTEM_MESSAGE_OPTIONS.join(", ")}` }).default("none"),
  ),
  duplicates: z.preprocess(
    blankToUndefined,
    z.enum(DUPLICATE_OPTIONS, { error: `duplicates must be one of: ${DUPLICATE_OPTIONS.join(", ")}` }).default("keep"),
  ),
  selection: z.preprocess(
    blankToUndefined,
    z.enum(SELECTION_OPTIONS, { error: `selection must be one of: ${SELECTION_OPTIONS.join(", ")}` }).default("mark"),
  ),
  // Comma-separated annotator ids; empty means every annotator.
  annotator: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\s*[1-9]\d{0,15}\s*(,\s*[1-9]\d{0,15}\s*)*$/, "annotator must be an annotator id or a comma-separated list of ids")
      .transform((value) => [...new Set(value.split(",").map((part) => Number(part.trim())))].sort((x, y) => x - y))
      .optional(),
  ),
  quality: z.preprocess(
    blankToUndefined,
    z.enum(QUALITY_FIELD_OPTIONS, { error: `quality must be one of: ${QUALITY_FIELD_OPTIONS.join(", ")}` }).default("omit"),
  ),
  // Preference formats only: leave out every vote that carries a quality flag (QUALITY_FLAGS in quality-fields.server.ts).
  "exclude-flagged": yesNo("exclude-flagged"),
  // Preference formats only: only votes of annotators whose agreement with counted others is known and at least this share.
  "min-agreement": share("min-agreement"),
  // Preference formats only: only votes of annotators whose fitted reliability (the cached crowd fit, ADR 0041) is known
  // and at least this (1 votes as the crowd does, 0 at random, below 0 prefers the worse response).
  "min-reliability": z.preprocess(
    blankToUndefined,
    z
      .string({ error: "min-reliability must be a number, e.g. 0.5" })
      .trim()
      .regex(/^-?(\d+(\.\d+)?|\.\d+)$/, "min-reliability must be a number, e.g. 0.5")
      .transform(Number)
      .refine((value) => Math.abs(value) <= 100, "min-reliability must be between -100 and 100")
      .optional(),
  ),
  // Inclusive UTC days on the vote's timestamp.
  from: utcDay("from"),
  to: utcDay("to"),
};

const checkDateRange = (options: { from?: string; to?: string }, ctx: z.RefinementCtx) => {
  if (options.from && options.to && options.from > options.to) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "to must be on or after from" });
  }
};

export const ExportOptionsSchema = z.object(ExportOptionsShape).superRefine(checkDateRange);
export type ExportOptions = z.infer<typeof ExportOptionsSchema>;

/** Same options plus what the CLI needs; strict so a mistyped flag is an error, not silently ignored. */
export const ExportCliArgsSchema = z
  .strictObject({
    ...ExportOptionsShape,
    study: decimalId("study must be a positive whole number (a study id)"),
    out: z.string({ error: "out must be a file path" }).min(1, "out must be a file path"),
    // SQLite file to read; the CLI falls back to DATABASE_PATH, then the app's default.
    db: z.string({ error: "db must be a file path" }).min(1, "db must be a file path").optional(),
  })
  .superRefine(checkDateRange);

export interface VoteFilter {
  studyId: number;
  annotatorIds: number[] | null;
  /** Inclusive lower bound on votes.created_at, epoch ms. */
  fromMs: number | null;
  /** Exclusive upper bound on votes.created_at, epoch ms (the day after `to`). */
  toMs: number | null;
}

export function voteFilter(studyId: number, options: ExportOptions): VoteFilter {
  return {
    studyId,
    annotatorIds: options.annotator && options.annotator.length > 0 ? options.annotator : null,
    fromMs: options.from ? Date.parse(`${options.from}T00:00:00.000Z`) : null,
    toMs: options.to ? Date.parse(`${options.to}T00:00:00.000Z`) + DAY_MS : null,
  };
}

/** Readable one-line-per-problem message from a failed parse. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.code === "unrecognized_keys" ? `unknown option(s): ${issue.keys.join(", ")}` : issue.message)).join("\n");
}
