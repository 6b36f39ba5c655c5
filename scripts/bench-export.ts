/**
 * Export memory benchmark (issue 6): `npm run bench:export [-- --votes 100000]`.
 * Loads N votes (default 100,000) into a temporary database holding the demo study, then exports
 * every format to a temporary file and prints, per format, the rows, size, time, and the peak RSS and
 * heap sampled during the export. Streaming keeps both flat: the same figures at a tenth of the votes
 * (same database, date filter) are printed alongside. A benchmark prints figures; it asserts nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { openDatabase } from "../db/client";
import { seedDemoStudy } from "../db/seed/seed";
import { ExportOptionsSchema } from "../app/export/export-options.server";
import { prepareExport } from "../app/export/formats.server";
import { writeLinesToFile } from "../app/export/stream.server";
import { parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";

const USAGE = "npm run bench:export [-- --votes 100000]";
const ArgsSchema = z.strictObject({ votes: positiveInteger("--votes").default(100_000) });

const VOTES_PER_DAY = 1_000;
const FIRST_DAY = Date.UTC(2025, 0, 1);
const DAY_MS = 86_400_000;
const MB = 1024 * 1024;

/** Inserts `count` answered assignments and votes, VOTES_PER_DAY per day from FIRST_DAY, with a seeded generator. */
function loadVotes(connection: ReturnType<typeof openDatabase>, studyId: number, count: number): void {
  const sqlite = connection.db.$client;
  const promptIds = sqlite.prepare("select id from prompts where study_id = ? order by id").pluck().all(studyId) as number[];
  const queryIds = sqlite.prepare("select id from queries where study_id = ? order by id").pluck().all(studyId) as number[];
  const insertAnnotator = sqlite.prepare("insert into annotators (display_name) values (?)");
  const annotators = Array.from({ length: 20 }, (_, k) => Number(insertAnnotator.run(`Annotator ${k + 1}`).lastInsertRowid));
  const insertAssignment = sqlite.prepare(
    "insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, engine_round, status) values (?, ?, ?, ?, ?, ?, ?, ?, 'duet', ?, 'answered')",
  );
  const insertVote = sqlite.prepare(
    "insert into votes (assignment_id, study_id, annotator_id, choice, comment, latency_ms, created_at) values (?, ?, ?, ?, ?, ?, ?)",
  );
  const choices = ["left", "right", "left", "right", "left", "right", "tie", "both_bad", "skip"];
  let state = 12_345;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  sqlite.transaction(() => {
    for (let k = 0; k < count; k++) {
      const promptA = pick(promptIds);
      let promptB = pick(promptIds);
      while (promptB === promptA) promptB = pick(promptIds);
      const annotator = pick(annotators);
      const votedAt = FIRST_DAY + Math.floor(k / VOTES_PER_DAY) * DAY_MS + (k % VOTES_PER_DAY) * 60_000;
      const assignment = insertAssignment.run(
        studyId,
        annotator,
        promptA,
        promptB,
        pick(queryIds),
        random() < 0.5 ? 1 : 0,
        votedAt - 8_000,
        votedAt + 600_000,
        k,
      );
      const comment = random() < 0.05 ? '=HYPERLINK("x"), with "quotes"\nand a newline' : null;
      insertVote.run(assignment.lastInsertRowid, studyId, annotator, pick(choices), comment, 500 + Math.floor(random() * 20_000), votedAt);
    }
  })();
}

interface Measurement {
  rows: number;
  bytes: number;
  seconds: number;
  peakRssMb: number;
  peakHeapMb: number;
}

async function measure(
  connection: ReturnType<typeof openDatabase>,
  studyId: number,
  options: Record<string, string>,
  file: string,
): Promise<Measurement> {
  const prepared = prepareExport(connection.db, studyId, ExportOptionsSchema.parse(options));
  if (!prepared.ok) throw new Error(prepared.message);
  let rows = 0;
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const started = performance.now();
  sample();
  await writeLinesToFile(
    (function* sampled() {
      for (const line of prepared.export.lines()) {
        if (++rows % 1_000 === 0) sample();
        yield line;
      }
    })(),
    file,
  );
  sample();
  const seconds = (performance.now() - started) / 1000;
  const bytes = fs.statSync(file).size;
  fs.rmSync(file);
  return { rows, bytes, seconds, peakRssMb: peakRss / MB, peakHeapMb: peakHeap / MB };
}

async function main(argv: readonly string[]): Promise<void> {
  const { votes } = validateFlags(ArgsSchema, parseFlags(argv), USAGE);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-bench-export-"));
  const connection = openDatabase(path.join(dir, "bench.db"));
  try {
    const studyId = seedDemoStudy(connection.db)!;
    const loadStarted = performance.now();
    loadVotes(connection, studyId, votes);
    console.log(`loaded ${votes.toLocaleString("en")} votes in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s (${dir})`);
    const before = process.memoryUsage();
    console.log(`before the exports: RSS ${(before.rss / MB).toFixed(0)} MB, heap ${(before.heapUsed / MB).toFixed(1)} MB`);
    // Votes of the first tenth of the days: the same export over 10x fewer rows.
    const tenthLastDay = new Date(FIRST_DAY + (Math.ceil(votes / VOTES_PER_DAY / 10) - 1) * DAY_MS).toISOString().slice(0, 10);
    const cases: [string, Record<string, string>][] = [
      ["trl", { format: "trl" }],
      ["trl (majority)", { format: "trl", duplicates: "majority" }],
      // Quality fields and filters (ADR 0035): the annotators' figures are computed once before the first line.
      ["trl (quality)", { format: "trl", quality: "include", "min-agreement": "0.2" }],
      ["trl-conversational", { format: "trl-conversational", system: "chosen-prompt" }],
      ["openai", { format: "openai", system: "chosen-prompt" }],
      ["csv", { format: "csv" }],
      ["jsonl", { format: "jsonl" }],
    ];
    console.log(`\nformat                rows        MB     s   peak RSS MB   peak heap MB   (1/10 of the votes: rows, peak RSS MB, peak heap MB)`);
    for (const [name, options] of cases) {
      const tenth = await measure(connection, studyId, { ...options, to: tenthLastDay }, path.join(dir, "tenth.out"));
      const full = await measure(connection, studyId, options, path.join(dir, "full.out"));
      console.log(
        [
          name.padEnd(18),
          String(full.rows).padStart(8),
          (full.bytes / MB).toFixed(1).padStart(9),
          full.seconds.toFixed(1).padStart(5),
          full.peakRssMb.toFixed(0).padStart(13),
          full.peakHeapMb.toFixed(1).padStart(14),
          `   (${tenth.rows}, ${tenth.peakRssMb.toFixed(0)}, ${tenth.peakHeapMb.toFixed(1)})`,
        ].join(" "),
      );
    }
    console.log(`\nprocess max RSS over the whole run (loading included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  } finally {
    connection.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
