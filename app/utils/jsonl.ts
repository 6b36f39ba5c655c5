/**
 * The non-blank lines of a JSONL text with their 1-based line numbers. A leading byte-order mark and
 * CRLF line endings are ignored (editors on Windows write both).
 */
export function* jsonlLines(text: string): Generator<{ line: number; text: string }, void, undefined> {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() !== "") yield { line: index + 1, text: line };
  }
}
