/**
 * CSV writing (RFC 4180: comma separator, CRLF row ends, fields quoted when needed, quotes doubled)
 * with formula-injection protection for spreadsheets.
 */

// A cell starting with one of these is run as a formula by Excel, LibreOffice or Google Sheets
// (OWASP "CSV Injection"); tab and CR are included because some importers strip them first.
const FORMULA_LEADING = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field. null becomes an empty field; numbers and booleans are written as they are. A text
 * that starts with = + - @ tab or CR gets a leading apostrophe so a spreadsheet shows it as text
 * instead of evaluating it: the file is for people opening it in a spreadsheet; the JSONL log is the
 * lossless form.
 */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return "";
  if (typeof value !== "string") return String(value);
  const text = FORMULA_LEADING.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row, CRLF-terminated. */
export function csvRow(values: readonly (string | number | boolean | null)[]): string {
  return `${values.map(csvField).join(",")}\r\n`;
}
