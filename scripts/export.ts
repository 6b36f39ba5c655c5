/**
 * Export CLI (issue 6, DESIGN §8), from the database file or from a running server:
 *   npm run export -- --study <id> --format trl|trl-conversational|openai|csv|jsonl --out <file>
 *     [--system none|recommended|chosen-prompt] [--duplicates keep|majority] [--selection mark|in-selection] [--annotator <id,id>]
 *     [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--quality omit|include] [--exclude-flagged] [--min-agreement <0..1>] [--min-reliability <number>]
 *     [--db <sqlite file> | --url <server> [--token <API token>]]
 * --quality include adds a `quality` object to each preference line (annotator kind, agreement, consistency,
 * gold accuracy, reliability, flags); --exclude-flagged leaves out the votes carrying a flag (excluded, too_fast,
 * side_bias, unreliable, audit, gold); --min-agreement keeps the votes of annotators whose agreement with the others on
 * shared items is known and at least that share (ADR 0035); --min-reliability those whose fitted reliability in the
 * study's cached crowd fit is at least that (ADR 0041). They apply to the preference formats; the raw log is every vote.
 * With --db (or neither), reads the SQLite file directly: whoever can read the file can read every
 * vote anyway. With --url, downloads from the server's export route with an owner's API token
 * (--token, or PROMPTDUEL_TOKEN so it stays out of the shell history), like the export page would.
 * Both write the same bytes as the download button on the study's export page (same prepareExport).
 */
import fs from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { z } from "zod";
import { openReader } from "../db/client";
import { parseEnv } from "../app/env.server";
import { ExportCliArgsSchema } from "../app/export/export-options.server";
import { prepareExport } from "../app/export/formats.server";
import { writeLinesToFile } from "../app/export/stream.server";
import { parseFlags, validateFlags } from "./lib-sim/args";

const USAGE =
  "npm run export -- --study <id> --format trl|trl-conversational|openai|csv|jsonl --out <file> [--system none|recommended|chosen-prompt] [--duplicates keep|majority] [--selection mark|in-selection] [--annotator <id,id>] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--quality omit|include] [--exclude-flagged] [--min-agreement <0..1>] [--min-reliability <number>] [--db <sqlite file> | --url <server> --token <API token>]";

const CliSchema = ExportCliArgsSchema.safeExtend({
  url: z.url({ protocol: /^https?$/, error: "url must be the server's http(s) address, e.g. http://localhost:3000" }).optional(),
  token: z.string({ error: "token must be an API token (pd_…)" }).min(1, "token must be an API token (pd_…)").optional(),
}).refine((args) => !(args.url && args.db), { message: "--db and --url exclude each other: read the file, or ask the server", path: ["url"] });

async function main(argv: readonly string[]): Promise<void> {
  const { study, out, db, url, token, ...options } = validateFlags(CliSchema, parseFlags(argv), USAGE);
  if (url) {
    const bytes = await exportFromServer(url, token ?? process.env.PROMPTDUEL_TOKEN, study, options, out);
    console.log(`wrote ${bytes} bytes to ${out} (from ${new URL(url).origin})`);
    return;
  }
  const lines = await exportFromFile(db, study, options, out);
  const rows = options.format === "csv" ? lines - 1 : lines;
  const unit = options.format === "csv" || options.format === "jsonl" ? "vote" : "preference pair";
  console.log(`wrote ${rows} ${unit}${rows === 1 ? "" : "s"} to ${out}`);
}

type Options = Omit<z.infer<typeof CliSchema>, "study" | "out" | "db" | "url" | "token">;

/** Writes the export from the SQLite file; returns how many lines (records) it wrote. */
async function exportFromFile(db: string | undefined, study: number, options: Options, out: string): Promise<number> {
  const databasePath = db ?? parseEnv().DATABASE_PATH;
  if (!fs.existsSync(databasePath)) throw new Error(`database file not found: ${databasePath} (set --db or DATABASE_PATH)`);
  const connection = openReader(databasePath);
  try {
    const prepared = prepareExport(connection.db, study, options);
    if (!prepared.ok) throw new Error(prepared.message);
    let count = 0;
    await writeLinesToFile(
      (function* countLines() {
        for (const line of prepared.export.lines()) {
          count++;
          yield line;
        }
      })(),
      out,
    );
    return count;
  } finally {
    connection.close();
  }
}

/**
 * GET /studies/:id/export/download with the token, streamed to `out` through `<out>.partial` (a
 * broken download never looks finished); returns the bytes written. The server's refusal (401 bad
 * or revoked token, 403 scope, 404 another study's token, 400 bad option) becomes the error message.
 */
async function exportFromServer(base: string, token: string | undefined, study: number, options: Options, out: string): Promise<number> {
  if (!token) throw new Error("--url needs an API token: --token pd_… or PROMPTDUEL_TOKEN (create one on the study's API tokens page)");
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined && value !== null) query.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  const response = await fetch(new URL(`/studies/${study}/export/download?${query}`, base), {
    headers: { Authorization: `Bearer ${token}` },
    redirect: "manual",
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`the server refused the export (${response.status}): ${(await response.text()).trim() || response.statusText}`);
  }
  const partial = `${out}.partial`;
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), fs.createWriteStream(partial));
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  fs.renameSync(partial, out);
  return fs.statSync(out).size;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
