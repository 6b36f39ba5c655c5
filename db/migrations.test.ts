import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../tests/helpers/temp-database";
import { openDatabase } from "./client";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/** A copy of migrations/ holding only the first `count` migrations: the schema as an older release had it. */
function migrationsUpTo(dir: string, count: number): string {
  const target = path.join(dir, `migrations-${count}`);
  fs.cpSync(MIGRATIONS, target, { recursive: true });
  const journalFile = path.join(target, "meta", "_journal.json");
  const journal = JSON.parse(fs.readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
  for (const dropped of journal.entries.slice(count)) fs.rmSync(path.join(target, `${dropped.tag}.sql`));
  journal.entries = journal.entries.slice(0, count);
  fs.writeFileSync(journalFile, JSON.stringify(journal));
  return target;
}

/** Two prompts ("A", "B") and a query in the study, as every schema since 0000 stores them. */
function promptsAndQuery(sqlite: Database.Database, studyId: number) {
  const promptIds = ["A", "B"].map((text) =>
    Number(sqlite.prepare("insert into prompts (study_id, text, normalized_text) values (?, ?, ?)").run(studyId, text, text).lastInsertRowid),
  );
  const queryId = Number(sqlite.prepare("insert into queries (study_id, text) values (?, 'q')").run(studyId).lastInsertRowid);
  return { promptIds, queryId };
}

/** Parameters: study, annotator, prompt a, prompt b, query. */
const INSERT_ANSWERED_ASSIGNMENT =
  "insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, status) values (?, ?, ?, ?, ?, 1, 0, 1, 'random', 'answered')";

describe("migration 0009 (accounts, invites, tokens, audit)", () => {
  const dir = useTempDir();

  it("turns the old users table into annotators on a populated database: ids, names, assignments and votes kept", () => {
    const file = path.join(dir(), "populated.db");
    const old = openDatabase(file, { migrationsFolder: migrationsUpTo(dir(), 9) });
    const sqlite = old.db.$client;
    const studyId = Number(sqlite.prepare("insert into studies (name, task, model) values ('s', 't', 'm')").run().lastInsertRowid);
    const { promptIds, queryId } = promptsAndQuery(sqlite, studyId);
    const insertUser = sqlite.prepare("insert into users (display_name, role, invite_token_hash) values (?, 'annotator', ?)");
    const ada = Number(insertUser.run("Ada", "hash-1").lastInsertRowid);
    const grace = Number(insertUser.run("Grace", null).lastInsertRowid);
    const insertAssignment = sqlite.prepare(INSERT_ANSWERED_ASSIGNMENT);
    const insertVote = sqlite.prepare("insert into votes (assignment_id, study_id, annotator_id, choice) values (?, ?, ?, ?)");
    for (const [annotator, choice] of [
      [ada, "left"],
      [grace, "right"],
      [ada, "tie"],
    ] as const) {
      const assignmentId = insertAssignment.run(studyId, annotator, promptIds[0], promptIds[1], queryId).lastInsertRowid;
      insertVote.run(assignmentId, studyId, annotator, choice);
    }
    old.close();

    const migrated = openDatabase(file);
    const db = migrated.db.$client;
    expect(db.prepare("select id, display_name as name, kind, user_id as userId from annotators order by id").all()).toEqual([
      { id: ada, name: "Ada", kind: "human", userId: null },
      { id: grace, name: "Grace", kind: "human", userId: null },
    ]);
    expect(
      db
        .prepare(
          "select an.display_name as name, v.choice from votes v join assignments a on a.id = v.assignment_id join annotators an on an.id = a.annotator_id and an.id = v.annotator_id order by v.id",
        )
        .all(),
    ).toEqual([
      { name: "Ada", choice: "left" },
      { name: "Grace", choice: "right" },
      { name: "Ada", choice: "tie" },
    ]);
    // The children now reference annotators, and the keys hold: deleting an annotator still cascades.
    const references = (table: string) =>
      (db.prepare(`select "table" from pragma_foreign_key_list('${table}') where "from" = 'annotator_id'`).pluck().all() as string[]).sort();
    expect(references("votes")).toEqual(["annotators"]);
    expect(references("assignments")).toEqual(["annotators"]);
    expect(db.prepare("select count(*) from users").pluck().get()).toBe(0);
    db.prepare("delete from annotators where id = ?").run(grace);
    expect(db.prepare("select count(*) from votes").pluck().get()).toBe(2);
    migrated.close();
  });
});

describe("migration 0018 (unused study columns dropped)", () => {
  const dir = useTempDir();

  it("drops warmup_pairs and exploration_weight on a populated database, every other value, vote and tally kept", () => {
    const file = path.join(dir(), "populated.db");
    const old = openDatabase(file, { migrationsFolder: migrationsUpTo(dir(), 18) });
    const sqlite = old.db.$client;
    const studyId = Number(
      sqlite
        .prepare(
          "insert into studies (name, task, model, warmup_pairs, exploration_weight, status, guidelines) values ('s', 't', 'm', 9, 2.5, 'paused', 'g')",
        )
        .run().lastInsertRowid,
    );
    const { promptIds, queryId } = promptsAndQuery(sqlite, studyId);
    const annotatorId = Number(sqlite.prepare("insert into annotators (display_name) values ('Ada')").run().lastInsertRowid);
    const assignmentId = sqlite.prepare(INSERT_ANSWERED_ASSIGNMENT).run(studyId, annotatorId, promptIds[0], promptIds[1], queryId).lastInsertRowid;
    sqlite
      .prepare("insert into votes (assignment_id, study_id, annotator_id, choice) values (?, ?, ?, 'left')")
      .run(assignmentId, studyId, annotatorId);
    const studyBefore = sqlite.prepare("select * from studies where id = ?").get(studyId) as Record<string, unknown>;
    const talliesBefore = sqlite.prepare("select * from prompt_tallies order by prompt_id").all();
    expect(talliesBefore).toHaveLength(2);
    old.close();

    const migrated = openDatabase(file);
    const db = migrated.db.$client;
    const { warmup_pairs: _warmup, exploration_weight: _exploration, ...kept } = studyBefore;
    // Later migrations may add columns (with their defaults); every value the study had is kept.
    const after = db.prepare("select * from studies where id = ?").get(studyId) as Record<string, unknown>;
    expect(after).toMatchObject(kept);
    expect(after).not.toHaveProperty("warmup_pairs");
    expect(after).not.toHaveProperty("exploration_weight");
    expect(db.prepare("select choice from votes").pluck().all()).toEqual(["left"]);
    expect(db.prepare("select * from prompt_tallies order by prompt_id").all()).toEqual(talliesBefore);
    // The tally triggers still fire after the drop.
    db.prepare("delete from votes").run();
    expect(db.prepare("select sum(wins + losses) from prompt_tallies").pluck().get()).toBe(0);
    migrated.close();
  });
});
