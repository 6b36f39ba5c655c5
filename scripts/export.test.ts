import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../db/client";
import { seedDemoStudy } from "../db/seed/seed";
import { ExportOptionsSchema } from "../app/export/export-options.server";
import { prepareExport } from "../app/export/formats.server";
import { seedVotes } from "../tests/helpers/seed-votes";
import { useTempDir } from "../tests/helpers/temp-database";

function runCli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "scripts/export.ts", ...args], { encoding: "utf8" });
}

describe("npm run export", () => {
  const tempDir = useTempDir();

  it("writes the same bytes as prepareExport, and rejects bad arguments with a readable message and no file", () => {
    const databasePath = path.join(tempDir(), "cli.db");
    const connection = openDatabase(databasePath);
    const studyId = seedDemoStudy(connection.db)!;
    const at = new Date("2025-04-01T08:00:00.000Z");
    seedVotes(connection.db, studyId, [
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at },
      { annotator: "Ada", promptA: 2, promptB: 3, query: 1, leftIsA: false, choice: "tie", at, comment: '+1, "same"' },
    ]);
    const expected = (format: "openai" | "csv") => {
      const prepared = prepareExport(connection.db, studyId, ExportOptionsSchema.parse({ format, system: "chosen-prompt" }));
      if (!prepared.ok) throw new Error(prepared.message);
      return [...prepared.export.lines()].join("");
    };

    for (const format of ["openai", "csv"] as const) {
      const out = path.join(tempDir(), `out.${format}`);
      const result = runCli(["--db", databasePath, "--study", String(studyId), "--format", format, "--system", "chosen-prompt", "--out", out]);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(format === "csv" ? /wrote 2 votes/ : /wrote 1 preference pair to/);
      expect(fs.readFileSync(out, "utf8")).toBe(expected(format));
    }

    // The quality options as flags: a bare --exclude-flagged, --min-agreement with a share. Ada shares no item
    // with anyone, so she has no agreement and --min-agreement leaves her pair out.
    const quality = (extra: string[]) => {
      const out = path.join(tempDir(), `quality-${extra.length}.jsonl`);
      const result = runCli(["--db", databasePath, "--study", String(studyId), "--format", "trl", "--quality", "include", ...extra, "--out", out]);
      expect(result.stderr).toBe("");
      return {
        stdout: result.stdout,
        lines: fs
          .readFileSync(out, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { quality: unknown }),
      };
    };
    const flaggedOut = quality(["--exclude-flagged"]);
    expect(flaggedOut.stdout).toMatch(/wrote 1 preference pair to/);
    expect(flaggedOut.lines[0]!.quality).toMatchObject({ votes: 1, flags: [], annotators: [{ kind: "human", agreement: null }] });
    expect(quality(["--exclude-flagged", "--min-agreement", "0.5"]).stdout).toMatch(/wrote 0 preference pairs to/);
    // No reliability fit is cached for this study (nothing ran the reliability thread): nobody has a reliability to pass.
    expect(quality(["--min-reliability", "-1"]).stdout).toMatch(/wrote 0 preference pairs to/);

    const bad = path.join(tempDir(), "bad.jsonl");
    const result = runCli(["--db", databasePath, "--study", String(studyId), "--format", "xml", "--from", "yesterday", "--out", bad]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--format: format must be one of: trl, trl-conversational, openai, csv, jsonl");
    expect(result.stderr).toContain("--from: from must be a date written YYYY-MM-DD");
    expect(result.stderr).toContain("usage: npm run export");
    const badShare = runCli(["--db", databasePath, "--study", String(studyId), "--format", "trl", "--min-agreement", "high", "--out", bad]);
    expect(badShare.status).toBe(1);
    expect(badShare.stderr).toContain("--min-agreement: min-agreement must be a number from 0 to 1, e.g. 0.7");
    const badReliability = runCli(["--db", databasePath, "--study", String(studyId), "--format", "trl", "--min-reliability", "high", "--out", bad]);
    expect(badReliability.status).toBe(1);
    expect(badReliability.stderr).toContain("--min-reliability: min-reliability must be a number, e.g. 0.5");
    expect(fs.existsSync(bad)).toBe(false);
    connection.close();
  });
});
