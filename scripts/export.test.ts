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

    const bad = path.join(tempDir(), "bad.jsonl");
    const result = runCli(["--db", databasePath, "--study", String(studyId), "--format", "xml", "--from", "yesterday", "--out", bad]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--format: format must be one of: trl, trl-conversational, openai, csv, jsonl");
    expect(result.stderr).toContain("--from: from must be a date written YYYY-MM-DD");
    expect(result.stderr).toContain("usage: npm run export");
    expect(fs.existsSync(bad)).toBe(false);
    connection.close();
  });
});
