// Parsers for what an owner pastes or uploads when setting up a study: queries, prompts and
// pre-generated responses as plain text, CSV or JSONL. Pure functions; every error names its line.
// Server-only (.server): csv-parse touches Node's Buffer when loaded, which throws in a browser.

import { CsvError, parse, type InfoRecord } from "csv-parse/sync";
import { parseTagList, parseTags } from "~/models/query-tags";
import { jsonlLines } from "./jsonl";

/** A problem in an uploaded or pasted file, with the 1-based line it was found on. */
export class ImportError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = "ImportError";
  }
}

export interface ParsedQuery {
  text: string;
  notes: string | null;
  /** Normalised tags (app/models/query-tags.ts); absent or empty for none. */
  tags?: string[];
}

export interface ParsedPrompt {
  text: string;
  label: string | null;
}

/** A pre-generated response naming its prompt and query by text or by id. */
export interface ParsedResponse {
  line: number;
  prompt: { text: string } | { id: number };
  query: { text: string } | { id: number };
  content: string;
}

type FileFormat = "csv" | "jsonl" | "text";

/** Longest query and prompt accepted: a line longer than this is not a query but a pasted file. */
export const MAX_QUERY_CHARS = 8_000;
export const MAX_PROMPT_CHARS = 20_000;

function checkLength(text: string, max: number, what: string, line: number): string {
  if (text.length > max) {
    throw new ImportError(
      line,
      `this ${what} is ${text.length.toLocaleString("en-US")} characters long; a ${what} can have at most ${max.toLocaleString("en-US")}`,
    );
  }
  return text;
}

/** The format of an upload, from its file name. */
function fileFormat(fileName: string): FileFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson") || lower.endsWith(".json")) return "jsonl";
  return "text";
}

/**
 * RFC 4180 CSV (csv-parse): comma-separated, fields optionally in double quotes ("" for a quote
 * inside), quoted fields may span lines; a BOM and blank lines are skipped. Returns each record with
 * the line it starts on; a malformed file throws ImportError with the line where parsing stopped.
 */
export function parseCsv(content: string): { line: number; fields: string[] }[] {
  let parsed: { record: string[]; info: InfoRecord }[];
  try {
    // Ragged rows are allowed here so that csvObjects can name the expected field count. The declared
    // return type of parse does not follow `info: true`, which wraps each record with its info.
    parsed = parse(content, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof parsed;
  } catch (error) {
    if (error instanceof CsvError) throw new ImportError(typeof error.lines === "number" ? error.lines : 1, csvProblem(error));
    throw error;
  }
  // info.lines is the line a record ends on; a quoted field's own line breaks move its start back.
  return parsed.map(({ record, info }) => ({
    line: info.lines - record.reduce((breaks, field) => breaks + (field.match(LINE_BREAK) ?? []).length, 0),
    fields: record,
  }));
}

const LINE_BREAK = /\r\n|\r|\n/g;

/** csv-parse's error codes in an owner's words. */
function csvProblem(error: CsvError): string {
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "the file ends inside a quoted field: a quote opened on this line or before is never closed";
    case "CSV_INVALID_CLOSING_QUOTE":
      return 'a quoted field is followed by more text; write a quote inside a quoted field as ""';
    case "INVALID_OPENING_QUOTE":
      return 'a quote in the middle of an unquoted field; quote the whole field and write the quote as ""';
    default:
      return `not valid CSV (${error.message})`;
  }
}

/** CSV records as objects keyed by the lower-cased header; requires one of `textColumns`. */
function csvObjects(content: string, textColumns: string[]): { line: number; row: Record<string, string> }[] {
  const [header, ...records] = parseCsv(content);
  if (!header) throw new ImportError(1, "the file is empty");
  const columns = header.fields.map((name) => name.trim().toLowerCase());
  if (!textColumns.some((name) => columns.includes(name))) {
    throw new ImportError(header.line, `the header needs a column named ${textColumns.map((c) => `"${c}"`).join(" or ")}`);
  }
  return records.map((record) => {
    if (record.fields.length !== columns.length) {
      throw new ImportError(record.line, `expected ${columns.length} fields like the header, found ${record.fields.length}`);
    }
    return { line: record.line, row: Object.fromEntries(columns.map((name, k) => [name, record.fields[k]!])) };
  });
}

/** Non-blank JSONL lines parsed as objects. */
function jsonlObjects(content: string): { line: number; row: Record<string, unknown> }[] {
  const objects: { line: number; row: Record<string, unknown> }[] = [];
  for (const { line, text } of jsonlLines(content)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ImportError(line, "not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new ImportError(line, "expected a JSON object");
    }
    objects.push({ line, row: value as Record<string, unknown> });
  }
  return objects;
}

function requiredText(row: Record<string, unknown>, keys: string[], line: number): string {
  for (const key of keys) {
    const value = row[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new ImportError(line, `"${key}" must be a string`);
    if (value.trim() === "") throw new ImportError(line, `"${key}" is empty`);
    return value.trim();
  }
  throw new ImportError(line, `needs a ${keys.map((k) => `"${k}"`).join(" or ")} field`);
}

function optionalText(row: Record<string, unknown>, key: string, line: number): string | null {
  const value = row[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new ImportError(line, `"${key}" must be a string`);
  return value.trim() === "" ? null : value.trim();
}

/** Queries pasted one per line: each non-blank line is one query. */
export function parseQueryLines(content: string): ParsedQuery[] {
  const queries: ParsedQuery[] = [];
  content.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const text = raw.trim();
    if (text) queries.push({ text: checkLength(text, MAX_QUERY_CHARS, "query", index + 1), notes: null });
  });
  return queries;
}

/**
 * Queries from an upload: CSV with a "text" (or "query") column and optional "notes" and "tags" columns
 * (tags comma-separated, so a field with several is quoted: "billing, refunds"), JSONL objects with the
 * same fields ("tags" an array of strings, or one comma-separated string), or plain text with one query per line (no tags).
 */
export function parseQueriesFile(fileName: string, content: string): ParsedQuery[] {
  const format = fileFormat(fileName);
  if (format === "text") return parseQueryLines(content);
  const rows = format === "csv" ? csvObjects(content, ["text", "query"]) : jsonlObjects(content);
  return rows.map(({ line, row }) => ({
    text: checkLength(requiredText(row, ["text", "query"], line), MAX_QUERY_CHARS, "query", line),
    notes: optionalText(row, "notes", line),
    tags: queryTags(row, line),
  }));
}

/** A row's "tags", normalised; undefined when it has none. */
function queryTags(row: Record<string, unknown>, line: number): string[] | undefined {
  const value = row.tags;
  if (value === undefined || value === null) return undefined;
  let parsed: ReturnType<typeof parseTags>;
  if (typeof value === "string") parsed = parseTagList(value);
  else if (Array.isArray(value) && value.every((tag) => typeof tag === "string")) parsed = parseTags(value);
  else throw new ImportError(line, '"tags" must be an array of strings or a comma-separated string');
  if (!parsed.ok) throw new ImportError(line, parsed.problem);
  return parsed.tags.length > 0 ? parsed.tags : undefined;
}

const SEPARATOR_LINE = /^\s*-{3,}\s*$/;

/**
 * Prompts pasted as text. If any line is only "---", those lines separate prompts (so a prompt may
 * contain blank lines); otherwise blank lines do.
 */
export function parsePromptBlocks(content: string): ParsedPrompt[] {
  const lines = content.split(/\r?\n/);
  const blocks: { firstLine: number; lines: string[] }[] = [{ firstLine: 1, lines: [] }];
  const separatedByRules = lines.some((line) => SEPARATOR_LINE.test(line));
  lines.forEach((line, index) => {
    const isSeparator = separatedByRules ? SEPARATOR_LINE.test(line) : line.trim() === "";
    if (isSeparator) blocks.push({ firstLine: index + 2, lines: [] });
    else blocks[blocks.length - 1]!.lines.push(line);
  });
  return blocks
    .map((block) => ({ line: block.firstLine + block.lines.findIndex((line) => line.trim() !== ""), text: block.lines.join("\n").trim() }))
    .filter((block) => block.text !== "")
    .map(({ line, text }) => ({ text: checkLength(text, MAX_PROMPT_CHARS, "prompt", line), label: null }));
}

/**
 * Prompts from an upload: CSV with a "text" (or "prompt") column and an optional "label", JSONL
 * objects with the same fields, or text separated as in parsePromptBlocks.
 */
export function parsePromptsFile(fileName: string, content: string): ParsedPrompt[] {
  const format = fileFormat(fileName);
  if (format === "text") return parsePromptBlocks(content);
  const rows = format === "csv" ? csvObjects(content, ["text", "prompt"]) : jsonlObjects(content);
  return rows.map(({ line, row }) => ({
    text: checkLength(requiredText(row, ["text", "prompt"], line), MAX_PROMPT_CHARS, "prompt", line),
    label: optionalText(row, "label", line),
  }));
}

function reference(row: Record<string, unknown>, name: "prompt" | "query", line: number): { text: string } | { id: number } {
  const id = row[`${name}_id`];
  if (id !== undefined && id !== null) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 1) throw new ImportError(line, `"${name}_id" must be a positive integer`);
    return { id };
  }
  return { text: requiredText(row, [name], line) };
}

/**
 * Pre-generated responses, one JSON object per line: {"prompt": "<prompt text>", "query": "<query
 * text>", "response": "<content>"}, or "prompt_id" / "query_id" instead of the texts.
 */
export function parseResponsesJsonl(content: string): ParsedResponse[] {
  const rows = jsonlObjects(content);
  if (rows.length === 0) throw new ImportError(1, "the file has no responses");
  return rows.map(({ line, row }) => ({
    line,
    prompt: reference(row, "prompt", line),
    query: reference(row, "query", line),
    content: requiredText(row, ["response"], line),
  }));
}
