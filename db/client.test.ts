import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../tests/helpers/temp-database";
import { openDatabase } from "./client";
import { studies } from "./schema";

describe("openDatabase", () => {
  const dir = useTempDir();

  it("creates the file, applies the migrations and sets WAL, foreign keys and NORMAL sync", () => {
    const file = path.join(dir(), "nested", "app.db");
    const connection = openDatabase(file);
    const sqlite = connection.db.$client;
    expect(sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(sqlite.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(sqlite.pragma("synchronous", { simple: true })).toBe(1);
    expect(sqlite.pragma("busy_timeout", { simple: true })).toBe(5000);
    const tables = sqlite
      .prepare(
        "select name from sqlite_master where type = 'table' and name not like '\\_\\_%' escape '\\' and name not like 'sqlite%' order by name",
      )
      .pluck()
      .all();
    expect(tables).toEqual([
      "annotator_tallies",
      "annotators",
      "api_tokens",
      "app_meta",
      "assignments",
      "audit_log",
      "auto_rounds",
      "engine_checkpoints",
      "engine_snapshots",
      "gold_items",
      "growth_rounds",
      "invites",
      "jobs",
      "judge_batches",
      "judge_verdicts",
      "pair_tallies",
      "pending_imports",
      "prompt_tallies",
      "prompts",
      "queries",
      "query_tags",
      "reliability_fits",
      "responses",
      "sessions",
      "studies",
      "study_annotators",
      "study_judges",
      "study_members",
      "users",
      "votes",
    ]);
    connection.close();
  });

  it("checkpoints the WAL in a background thread when asked", async () => {
    const file = path.join(dir(), "checkpointed.db");
    const connection = openDatabase(file, { backgroundCheckpoints: true });
    const sqlite = connection.db.$client;
    expect(sqlite.pragma("wal_autocheckpoint", { simple: true })).toBe(10_000);
    const before = fs.statSync(file).size;
    const insert = sqlite.prepare("insert into app_meta (key, value) values (?, ?)");
    // ~1,000 pages: below the connection's own threshold, so only the background thread moves them.
    for (let i = 0; i < 200; i++) sqlite.transaction(() => insert.run(`key ${i}`, "x".repeat(20_000)))();
    await expect.poll(() => fs.statSync(file).size, { timeout: 30_000, interval: 50 }).toBeGreaterThan(before + 3_000_000);
    connection.close();
  });

  it("uses FULL sync when asked", () => {
    const connection = openDatabase(path.join(dir(), "full.db"), { synchronous: "FULL" });
    expect(connection.db.$client.pragma("synchronous", { simple: true })).toBe(2);
    connection.close();
  });

  it("reopens an existing database without re-running migrations or losing rows", () => {
    const file = path.join(dir(), "reopen.db");
    const first = openDatabase(file);
    first.db.insert(studies).values({ name: "kept", task: "t", model: "m" }).run();
    first.close();
    const second = openDatabase(file);
    expect(
      second.db
        .select()
        .from(studies)
        .all()
        .map((s) => s.name),
    ).toEqual(["kept"]);
    second.close();
  });

  it("enforces foreign keys after migrating", () => {
    const connection = openDatabase(path.join(dir(), "fk.db"));
    expect(() => connection.db.$client.prepare("insert into prompts (study_id, text, normalized_text) values (999, 'x', 'x')").run()).toThrow(
      /FOREIGN KEY/,
    );
    connection.close();
  });
});
