import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { recount, stored } from "../tests/helpers/tallies";
import { useTempDir } from "../tests/helpers/temp-database";
import { openDatabase, type DB } from "./client";
import { VOTE_CHOICES } from "./schema";

// The vote tallies (migrations/0007_vote_tallies.sql) must always equal what the votes say, whichever
// way votes come and go: inserted one by one, deleted, cascaded away with a prompt or a study, or
// already there when the migration runs, and an excluded annotator's votes out of the prompt and pair
// tallies (migrations/0011) for as long as they are excluded.

/** Two studies of four prompts, and `count` votes of every kind between random pairs, by three annotators. */
function populate(db: DB, count: number, seed: number) {
  const sqlite = db.$client;
  let state = seed;
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const studyIds = [1, 2].map((k) =>
    Number(sqlite.prepare("insert into studies (name, task, model) values (?, 't', 'm')").run(`study ${k} ${seed}`).lastInsertRowid),
  );
  // Annotators were rows of "users" until the accounts migration (0009) renamed that table.
  const annotatorTable = sqlite.prepare("select 1 from sqlite_master where type = 'table' and name = 'annotators'").get() ? "annotators" : "users";
  const annotatorIds = [1, 2, 3].map((k) =>
    Number(sqlite.prepare(`insert into ${annotatorTable} (display_name) values (?)`).run(`annotator ${k}`).lastInsertRowid),
  );
  const promptIds = new Map<number, number[]>();
  const queryIds = new Map<number, number>();
  for (const studyId of studyIds) {
    promptIds.set(
      studyId,
      [0, 1, 2, 3].map((k) =>
        Number(
          sqlite.prepare("insert into prompts (study_id, text, normalized_text) values (?, ?, ?)").run(studyId, `p${k} ${seed}`, `p${k} ${seed}`)
            .lastInsertRowid,
        ),
      ),
    );
    queryIds.set(studyId, Number(sqlite.prepare("insert into queries (study_id, text) values (?, 'q')").run(studyId).lastInsertRowid));
  }
  const insertAssignment = sqlite.prepare(
    "insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, status) values (?, ?, ?, ?, ?, ?, 0, 0, 'random', 'answered')",
  );
  const insertVote = sqlite.prepare("insert into votes (assignment_id, study_id, annotator_id, choice, latency_ms) values (?, ?, ?, ?, ?)");
  for (let k = 0; k < count; k++) {
    const studyId = studyIds[Math.floor(random() * 2)]!;
    const ids = promptIds.get(studyId)!;
    const a = Math.floor(random() * 4);
    const b = (a + 1 + Math.floor(random() * 3)) % 4;
    const annotatorId = annotatorIds[Math.floor(random() * 3)]!;
    const assignmentId = insertAssignment.run(studyId, annotatorId, ids[a], ids[b], queryIds.get(studyId), random() < 0.5 ? 1 : 0).lastInsertRowid;
    const choice = VOTE_CHOICES[Math.floor(random() * VOTE_CHOICES.length)]!;
    insertVote.run(assignmentId, studyId, annotatorId, choice, random() < 0.3 ? null : Math.floor(random() * 5000));
  }
  return { studyIds, promptIds, annotatorIds, insertVote, insertAssignment, queryIds };
}

describe("vote tallies", () => {
  const dir = useTempDir();

  it("follow every inserted and deleted vote, and the cascades of a deleted assignment, prompt and study", () => {
    const { db, close } = openDatabase(path.join(dir(), "tallies.db"));
    const { studyIds, promptIds } = populate(db, 400, 7);
    expect(stored(db)).toEqual(recount(db));
    expect(Object.keys(stored(db).prompts).length).toBe(8);

    db.$client.prepare("delete from votes where id in (select id from votes order by id limit 25)").run();
    expect(stored(db)).toEqual(recount(db));
    db.$client.prepare("delete from assignments where id in (select assignment_id from votes order by id desc limit 25)").run();
    expect(stored(db)).toEqual(recount(db));
    db.$client.prepare("delete from prompts where id = ?").run(promptIds.get(studyIds[0]!)![1]);
    expect(stored(db)).toEqual(recount(db));
    db.$client.prepare("delete from studies where id = ?").run(studyIds[1]);
    expect(stored(db)).toEqual(recount(db));
    expect(db.$client.pragma("foreign_key_check")).toEqual([]);
    close();
  });

  it("leave out an excluded annotator's votes, new ones included, and take them back on reinstatement", () => {
    const { db, close } = openDatabase(path.join(dir(), "exclusion.db"));
    const { studyIds, promptIds, annotatorIds, insertVote, insertAssignment, queryIds } = populate(db, 400, 5);
    const sqlite = db.$client;
    for (const studyId of studyIds)
      for (const annotatorId of annotatorIds)
        sqlite.prepare("insert into study_annotators (study_id, annotator_id) values (?, ?)").run(studyId, annotatorId);
    const [study] = studyIds as [number];
    const [, target] = annotatorIds as [number, number];
    const before = stored(db);
    const setExcluded = sqlite.prepare("update study_annotators set excluded_at = ? where study_id = ? and annotator_id = ?");

    setExcluded.run(Date.now(), study, target);
    expect(stored(db)).toEqual(recount(db));
    expect(stored(db).prompts).not.toEqual(before.prompts);
    // The annotator tally keeps counting them: the owner sees what an excluded annotator did.
    expect(stored(db).annotators).toEqual(before.annotators);
    // Excluding twice (a new time) changes nothing more.
    setExcluded.run(Date.now() + 1, study, target);
    expect(stored(db)).toEqual(recount(db));

    // New votes of the excluded annotator, and deletions of their old ones, stay out of the tallies.
    const ids = promptIds.get(study)!;
    for (const choice of ["left", "right", "tie", "both_bad", "skip"]) {
      const assignmentId = insertAssignment.run(study, target, ids[0], ids[2], queryIds.get(study), 1).lastInsertRowid;
      insertVote.run(assignmentId, study, target, choice, 1000);
    }
    expect(stored(db)).toEqual(recount(db));
    sqlite
      .prepare("delete from votes where id in (select id from votes where annotator_id = ? and study_id = ? order by id limit 10)")
      .run(target, study);
    expect(stored(db)).toEqual(recount(db));
    sqlite
      .prepare("delete from assignments where id in (select assignment_id from votes where annotator_id = ? and study_id = ? order by id limit 10)")
      .run(target, study);
    expect(stored(db)).toEqual(recount(db));

    setExcluded.run(null, study, target);
    expect(stored(db)).toEqual(recount(db));
    sqlite.prepare("delete from prompts where id = ?").run(ids[1]);
    expect(stored(db)).toEqual(recount(db));
    expect(sqlite.pragma("foreign_key_check")).toEqual([]);
    close();
  });

  it("count the votes a database already held when the migration ran", () => {
    // The database as it was before the tallies: every migration up to 0006.
    const folder = path.join(dir(), "migrations-before-tallies");
    fs.cpSync(path.resolve("migrations"), folder, { recursive: true });
    const journalPath = path.join(folder, "meta", "_journal.json");
    const journal = JSON.parse(fs.readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
    const tallies = journal.entries.findIndex((entry) => entry.tag === "0007_vote_tallies");
    journal.entries = journal.entries.slice(0, tallies);
    fs.writeFileSync(journalPath, JSON.stringify(journal));
    const file = path.join(dir(), "migrated.db");
    const before = openDatabase(file, { migrationsFolder: folder });
    populate(before.db, 300, 11);
    before.close();

    const after = openDatabase(file);
    expect(Object.keys(stored(after.db).annotators).length).toBeGreaterThan(0);
    expect(stored(after.db)).toEqual(recount(after.db));
    after.close();
  });
});
