import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase, type DB } from "../../db/client";
import { prompts, queries, responses } from "../../db/schema";
import { useTempDir } from "../../tests/helpers/temp-database";
import { addToStudy, createStudy, importResponses } from "~/models/study-setup.server";
import { claimPendingResponses, currentSettingsHash, recordResponseOutcome, retryFailedResponses } from "./generation-queue.server";

// responses.updated_at is kept by the column's $onUpdate (ADR 0039), never by a caller: every way the
// app changes a response row must move it.

const LONG_AGO = 1;

function updatedAt(db: DB, responseId: number): number | null {
  return db.$client.prepare("select updated_at from responses where id = ?").pluck().get(responseId) as number | null;
}

/** Runs `change` on a row whose updated_at was set far in the past and answers whether the change moved it to now. */
function movesUpdatedAt(db: DB, responseId: number, change: () => void): boolean {
  db.$client.prepare("update responses set updated_at = ? where id = ?").run(LONG_AGO, responseId);
  const before = Date.now();
  change();
  const after = Date.now();
  const stamped = updatedAt(db, responseId);
  // SQLite's clock is the system clock; a millisecond either side for rounding.
  return stamped !== null && stamped >= before - 1 && stamped <= after + 1;
}

describe("responses.updated_at", () => {
  const dir = useTempDir();

  it("is stamped by every update and upsert of a response, prepared or not, and left null by a plain queueing", () => {
    const { db, close } = openDatabase(path.join(dir(), "updated-at.db"));
    const { studyId } = createStudy(db, {
      name: "s",
      task: "t",
      model: "m",
      temperature: 0.5,
      maxTokens: 100,
      seed: null,
      prompts: [{ text: "Be brief.", label: null, source: "manual" }],
      queries: [{ text: "Why?", notes: null }],
      variants: null,
      responses: [],
    });
    const [queued] = db.select().from(responses).all();
    expect(queued!.updatedAt).toBeNull();
    const id = queued!.id;

    expect(movesUpdatedAt(db, id, () => expect(claimPendingResponses(db, 10, [])).toHaveLength(1))).toBe(true);
    expect(movesUpdatedAt(db, id, () => recordResponseOutcome(db, id, { status: "error", error: "boom", latencyMs: 5 }))).toBe(true);
    expect(movesUpdatedAt(db, id, () => expect(retryFailedResponses(db, studyId)).toBe(1))).toBe(true);
    // The upsert of an imported response (setup page) over the pending row.
    expect(
      movesUpdatedAt(db, id, () =>
        importResponses(db, studyId, [{ line: 1, prompt: { text: "Be brief." }, query: { text: "Why?" }, content: "Because." }]),
      ),
    ).toBe(true);

    // A prepared upsert (as the raw-log import reuses one across chunks) stamps each execution, not its preparation.
    addToStudy(db, studyId, { prompts: [], queries: [{ text: "How?", notes: null }] });
    const second = db.select().from(responses).where(eq(responses.status, "pending")).get()!;
    const upsert = db
      .insert(responses)
      .values({
        promptId: sql.placeholder("promptId"),
        queryId: sql.placeholder("queryId"),
        settingsHash: currentSettingsHash(db, studyId)!,
        content: sql.placeholder("content"),
        status: "ready",
      })
      .onConflictDoUpdate({
        target: [responses.promptId, responses.queryId, responses.settingsHash],
        set: { content: sql`excluded.content`, status: "ready", error: null },
      })
      .prepare();
    expect(movesUpdatedAt(db, second.id, () => upsert.run({ promptId: second.promptId, queryId: second.queryId, content: "Like so." }))).toBe(true);

    // A drizzle insert stamps the new row too (there is no default for $onUpdate to defer to).
    const promptId = db.select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId)).get()!.id;
    const queryId = db.insert(queries).values({ studyId, text: "When?" }).returning().get().id;
    const before = Date.now();
    const inserted = db.insert(responses).values({ promptId, queryId, settingsHash: "other", status: "pending" }).returning().get();
    expect(inserted.updatedAt!.getTime()).toBeGreaterThanOrEqual(before - 1);
    close();
  });
});
