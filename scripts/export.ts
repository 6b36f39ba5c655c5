/**
 * Export CLI (issue 6, DESIGN §8):
 *   npm run export -- --study <id> --format trl|trl-conversational|openai|csv|jsonl --out <file>
 *     [--system none|recommended|chosen-prompt] [--duplicates keep|majority] [--annotator <id,id>]
 *     [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--db <sqlite file>]
 * Writes the same bytes as the download button on the study's export page (same prepareExport).
 */
import fs from "node:fs";
import { openReader } from "../db/client";
import { parseEnv } from "../app/env.server";
import { ExportCliArgsSchema } from "../app/export/export-options.server";
import { prepareExport } from "../app/export/formats.server";
import { writeLinesToFile } from "../app/export/stream.server";
import { parseFlags, validateFlags } from "./lib-sim/args";

const USAGE =
  "npm run export -- --study <id> --format trl|trl-conversational|openai|csv|jsonl --out <file> [--system none|recommended|chosen-prompt] [--duplicates keep|majority] [--annotator <id,id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--db <sqlite file>]";

async function main(argv: readonly string[]): Promise<void> {
  const { study, out, db, ...options } = validateFlags(ExportCliArgsSchema, parseFlags(argv), USAGE);
  const databasePath = db ?? parseEnv().DATABASE_PATH;
  if (!fs.existsSync(databasePath)) throw new Error(`database file not found: ${databasePath} (set --db or DATABASE_PATH)`);
  const connection = openReader(databasePath);
  try {
    const prepared = prepareExport(connection.db, study, options);
    if (!prepared.ok) throw new Error(prepared.message);
    let lines = 0;
    await writeLinesToFile(
      (function* countLines() {
        for (const line of prepared.export.lines()) {
          lines++;
          yield line;
        }
      })(),
      out,
    );
    const rows = options.format === "csv" ? lines - 1 : lines;
    const unit = options.format === "csv" || options.format === "jsonl" ? "vote" : "preference pair";
    console.log(`wrote ${rows} ${unit}${rows === 1 ? "" : "s"} to ${out}`);
  } finally {
    connection.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
