import path from "node:path";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import miniStudy from "../../tests/fixtures/mini-study.json";
import { useTempDir } from "../../tests/helpers/temp-database";
import { openDatabase } from "../client";
import { appMeta, prompts, queries, responses, studies } from "../schema";
import { seedDemoStudy } from "./seed";

describe("seedDemoStudy", () => {
  const dir = useTempDir();

  it("seeds the shipped demo: ≥ 8 prompts, ≥ 12 queries and a ready response for every pair", () => {
    const { db, close } = openDatabase(path.join(dir(), "demo.db"));
    const studyId = seedDemoStudy(db);
    expect(studyId).toBeTypeOf("number");
    const promptCount = db.select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId!)).get()!.n;
    const queryCount = db.select({ n: count() }).from(queries).where(eq(queries.studyId, studyId!)).get()!.n;
    const readyCount = db.select({ n: count() }).from(responses).where(eq(responses.status, "ready")).get()!.n;
    expect(promptCount).toBeGreaterThanOrEqual(8);
    expect(queryCount).toBeGreaterThanOrEqual(12);
    expect(readyCount).toBe(promptCount * queryCount);
    close();
  });

  it("stores an offline embedding with its model name for every demo prompt", () => {
    const { db, close } = openDatabase(path.join(dir(), "embedded.db"));
    const studyId = seedDemoStudy(db)!;
    const rows = db.select({ embedding: prompts.embedding, model: prompts.embeddingModel }).from(prompts).where(eq(prompts.studyId, studyId)).all();
    expect(rows.every((row) => row.model === LEXICAL_EMBEDDING_MODEL && row.embedding?.byteLength === 256 * 4)).toBe(true);
    close();
  });

  it("never seeds twice, even after the demo study was deleted", () => {
    const { db, close } = openDatabase(path.join(dir(), "twice.db"));
    const first = seedDemoStudy(db, miniStudy);
    expect(first).not.toBeNull();
    expect(seedDemoStudy(db, miniStudy)).toBeNull();
    expect(db.select({ n: count() }).from(studies).get()!.n).toBe(1);
    db.delete(studies).where(eq(studies.id, first!)).run();
    expect(seedDemoStudy(db, miniStudy)).toBeNull();
    expect(db.select({ n: count() }).from(studies).get()!.n).toBe(0);
    // Cascades removed the children with the study.
    expect(db.select({ n: count() }).from(responses).get()!.n).toBe(0);
    close();
  });

  it("rejects a demo file with a missing response and writes nothing", () => {
    const { db, close } = openDatabase(path.join(dir(), "bad.db"));
    const broken = { ...miniStudy, responses: miniStudy.responses.slice(1) };
    expect(() => seedDemoStudy(db, broken)).toThrow(/every prompt needs a response to every query/);
    expect(db.select({ n: count() }).from(studies).get()!.n).toBe(0);
    expect(db.select().from(appMeta).all()).toEqual([]);
    close();
  });
});
