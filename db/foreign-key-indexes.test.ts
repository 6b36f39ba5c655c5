import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../tests/helpers/temp-database";
import { openDatabase } from "./client";

// Deleting a parent row makes SQLite look up its children for every foreign key that names it
// (ON DELETE CASCADE / SET NULL). Without an index led by the child column that lookup scans the
// child table, once per deleted row: the publishing commit of every import and addition deletes a
// staging study, and the clean-up of an unpublished job deletes its staged prompts and queries a
// chunk at a time, with the write lock held (ADR 0046: 35 ms of CPU per query at 200,000
// assignments before migrations/0021).

/** The tables that grow with the votes and the pool: a scan of one of them is never cheap. */
const LARGE_TABLES = ["assignments", "votes", "responses", "prompts", "queries", "query_tags", "study_annotators", "prompt_tallies", "pair_tallies"];

/** The parents staged jobs delete: a staging study, its prompts and queries. */
const STAGED_PARENTS = ["studies", "prompts", "queries"];

describe("foreign keys into the large tables", () => {
  const dir = useTempDir();

  it("every child lookup that deleting a study, a prompt or a query runs in them is an index search, not a scan", () => {
    const { db, close } = openDatabase(path.join(dir(), "keys.db"));
    const sqlite = db.$client;
    const lookups: string[] = [];
    for (const table of LARGE_TABLES) {
      const keys = sqlite.prepare('select "table" as parent, "from" as child from pragma_foreign_key_list(?)').all(table) as {
        parent: string;
        child: string;
      }[];
      for (const { parent, child } of keys.filter((key) => STAGED_PARENTS.includes(key.parent))) {
        const plan = (sqlite.prepare(`explain query plan select 1 from "${table}" where "${child}" = ?`).all(1) as { detail: string }[])
          .map((row) => row.detail)
          .join("; ");
        lookups.push(`${parent} → ${table}.${child}: ${/^SEARCH /.test(plan) ? "search" : plan}`);
      }
    }
    close();
    expect(lookups.length).toBeGreaterThan(15);
    expect(lookups.filter((lookup) => !lookup.endsWith(": search"))).toEqual([]);
    // The four that scanned assignments before migrations/0021.
    for (const column of ["study_id", "prompt_a_id", "prompt_b_id", "query_id"]) {
      expect(lookups).toContainEqual(expect.stringMatching(new RegExp(`→ assignments\\.${column}: search$`)));
    }
  });
});
