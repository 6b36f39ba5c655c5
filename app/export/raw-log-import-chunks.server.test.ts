import Database from "better-sqlite3";
import { and, asc, count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { annotators, assignments, jobs, pendingImports, prompts, queries, studies, studyAnnotators, votes } from "../../db/schema";
import { recount, stored } from "../../tests/helpers/tallies";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { db } from "~/db.server";
import { StudyHistoryFeed } from "~/engine/history-feed.server";
import { getDashboard } from "~/models/dashboard.server";
import { listStudyAnnotators, setAnnotatorExcluded } from "~/models/membership.server";
import { ExportOptionsSchema } from "./export-options.server";
import { getExportSummary } from "./export-page.server";
import { prepareExport } from "./formats.server";
import { cleanUpPendingImports } from "~/jobs/staged-writes.server";
import { importRawLog, prepareRawLogImport, writeRawLogImport, type ImportWriter } from "./raw-log-import.server";

// A raw-log import writes in chunks nobody sees and publishes them in one small commit (ADR 0036).
// A kill leaves exactly the chunks committed so far: these tests stop the writer after a chunk
// (throwing, with no clean-up: the state a SIGKILL leaves) and look at what readers see.

function rawLog(studyId: number): string {
  const prepared = prepareExport(db(), studyId, ExportOptionsSchema.parse({ format: "jsonl" }));
  if (!prepared.ok) throw new Error(prepared.message);
  return [...prepared.export.lines()].join("");
}

function emptyStudyLike(studyId: number) {
  const { id: _id, createdAt: _createdAt, ...settings } = db().select().from(studies).where(eq(studies.id, studyId)).get()!;
  return db().insert(studies).values(settings).returning().get().id;
}

/** What the owner and the engine can see of a study. */
function visible(studyId: number) {
  const dashboard = getDashboard(studyId);
  return {
    exportVotes: getExportSummary(db(), studyId).votes,
    annotators: listStudyAnnotators(studyId).length,
    prompts: db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()!.n,
    queries: db().select({ n: count() }).from(queries).where(eq(queries.studyId, studyId)).get()!.n,
    tallied: dashboard.votesPerAnnotator.reduce((total, row) => total + row.votes, 0),
  };
}

class Killed extends Error {}

/** Stops after `chunks` chunks have committed, as a kill would: nothing is cleaned up. */
function killedAfter(chunks: number, between?: (chunk: number) => void): ImportWriter {
  let done = 0;
  return {
    chunk(write) {
      if (done === chunks) throw new Killed();
      db().transaction((tx) => write(tx));
      done++;
      between?.(done);
    },
    publish() {
      throw new Killed();
    },
  };
}

function runningJob(studyId: number): number {
  return db().insert(jobs).values({ kind: "import-log", studyId, inputFile: "", state: "running" }).returning({ id: jobs.id }).get().id;
}

describe("a chunked raw-log import", () => {
  const database = useTempAppDatabase();

  function sourceWithVotes(count: number) {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const at = (k: number) => new Date(Date.UTC(2025, 3, 1, 8, 0, k));
    const specs: SeededVote[] = Array.from({ length: count }, (_, k) => ({
      annotator: `Annotator ${k % 4}`,
      promptA: k % 5,
      promptB: 5 + (k % 3),
      query: k % 4,
      leftIsA: k % 3 === 0,
      choice: (["left", "right", "tie", "both_bad", "skip"] as const)[k % 5]!,
      latencyMs: k % 7 === 0 ? null : 900 + k,
      at: at(k),
    }));
    seedVotes(db(), source, specs);
    return source;
  }

  it("killed after any chunk leaves nothing visible, is cleaned up, and the retry imports every vote once with exact tallies", () => {
    const source = sourceWithVotes(30);
    const log = rawLog(source);
    const target = emptyStudyLike(source);
    const nothing = visible(target);
    expect(nothing).toEqual({ exportVotes: 0, annotators: 0, prompts: 0, queries: 0, tallied: 0 });
    const annotatorRows = db().select({ n: count() }).from(annotators).get()!.n;
    const prepared = prepareRawLogImport(db(), target, log);
    if (!prepared.ok) throw new Error(prepared.errors.join("\n"));

    // Every moment a kill can meet: after the staging chunk, among the prompts, the votes, and with every chunk written.
    for (const chunks of [1, 3, 6, 9, 1000]) {
      const jobId = runningJob(target);
      expect(() => writeRawLogImport(db(), jobId, prepared.plan, killedAfter(chunks), { chunkRows: 4 })).toThrow(Killed);
      expect(visible(target)).toEqual(nothing);
      expect(stored(db())).toEqual(recount(db()));
      expect(db().select({ n: count() }).from(pendingImports).get()!.n).toBe(1);
      if (chunks === 1000) {
        // Every vote written, none counted by any reader or tally.
        expect(db().select({ n: count() }).from(votes).where(eq(votes.studyId, target)).get()!.n).toBe(30);
      }
      // The retry's first step: everything that attempt wrote goes, a chunk at a time.
      expect(cleanUpPendingImports(db())).toBeGreaterThan(0);
      expect(db().select({ n: count() }).from(pendingImports).get()!.n).toBe(0);
      expect(db().select({ n: count() }).from(votes).where(eq(votes.studyId, target)).get()!.n).toBe(0);
      expect(db().select({ n: count() }).from(annotators).get()!.n).toBe(annotatorRows);
      expect(db().select({ n: count() }).from(studies).where(eq(studies.task, "import staging")).get()!.n).toBe(0);
      expect(stored(db())).toEqual(recount(db()));
    }

    const imported = importRawLog(db(), target, log, { chunkRows: 4 });
    expect(imported).toMatchObject({ ok: true, summary: { votes: 30, skipped: 0, promptsCreated: 8, queriesCreated: 4, annotatorsCreated: 4 } });
    expect(visible(target)).toEqual({ exportVotes: 30, annotators: 4, prompts: 8, queries: 4, tallied: 30 });
    expect(stored(db())).toEqual(recount(db()));
    expect(db().select({ n: count() }).from(pendingImports).get()!.n).toBe(0);
    // The same votes as the source, one for one.
    const origins = db().select({ origin: votes.origin }).from(votes).where(eq(votes.studyId, target)).all();
    expect(new Set(origins.map((row) => row.origin)).size).toBe(30);

    // Importing it again skips everything and changes nothing.
    const before = { visible: visible(target), tallies: stored(db()), annotators: db().select({ n: count() }).from(annotators).get()!.n };
    expect(importRawLog(db(), target, log, { chunkRows: 4 })).toMatchObject({
      ok: true,
      summary: { votes: 30 - 30, skipped: 30, promptsCreated: 0, queriesCreated: 0, annotatorsCreated: 0 },
    });
    expect({ visible: visible(target), tallies: stored(db()), annotators: db().select({ n: count() }).from(annotators).get()!.n }).toEqual(before);
  });

  it("holds no lock between chunks: another connection writes at once, even with no busy wait at all", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const log = rawLog(source);
    const target = emptyStudyLike(source);
    const prepared = prepareRawLogImport(db(), target, log);
    if (!prepared.ok) throw new Error(prepared.errors.join("\n"));
    // The probe: a connection of its own that fails at once (busy_timeout 0) rather than wait for a lock.
    const probe = new Database(database.path());
    probe.pragma("busy_timeout = 0");
    const probeWrite = probe.prepare("update studies set guidelines = ? where id = ?");
    const writes: number[] = [];
    const between = (chunk: number) => {
      probe.transaction(() => probeWrite.run(`probe ${chunk}`, source)).immediate();
      writes.push(chunk);
    };
    let done = 0;
    const writer: ImportWriter = {
      chunk(write) {
        db().transaction((tx) => write(tx));
        between(++done);
      },
      publish: (write) => db().transaction((tx) => write(tx)),
    };
    const summary = writeRawLogImport(db(), runningJob(target), prepared.plan, writer, { chunkRows: 2 });
    probe.close();
    expect(writes.length).toBe(done);
    expect(done).toBeGreaterThan(3);
    expect(summary.votes).toBe(visible(target).exportVotes);
    expect(stored(db())).toEqual(recount(db()));
    // Published: the annotators are listed, the staging study is gone.
    expect(db().select({ n: count() }).from(studyAnnotators).where(eq(studyAnnotators.studyId, target)).get()!.n).toBe(summary.annotatorsCreated);
    expect(db().select({ n: count() }).from(studies).where(eq(studies.task, "import staging")).get()!.n).toBe(0);
  });

  it("the engine's vote feed stops at an unpublished vote, and reads it and every later vote once the import is published", () => {
    const source = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const lines = rawLog(source).trimEnd().split("\n");
    const target = emptyStudyLike(source);
    const counted = (log: string[]) => log.filter((line) => (JSON.parse(line) as { choice: string }).choice !== "skip").length;
    const firstPart = lines.slice(0, lines.length - 6);
    const secondPart = lines.slice(lines.length - 6);
    expect(importRawLog(db(), target, firstPart.join("\n")).ok).toBe(true);
    const prepared = prepareRawLogImport(db(), target, secondPart.join("\n"));
    if (!prepared.ok) throw new Error(prepared.errors.join("\n"));
    // Only votes: every prompt and query of the second part is the study's already, so arms exist for them.
    expect(prepared.plan.summary).toMatchObject({ votes: 6, promptsCreated: 0, queriesCreated: 0 });
    const feed = new StudyHistoryFeed(target);
    let beforePublishing = -1;
    const writer: ImportWriter = {
      chunk: (write) => db().transaction((tx) => write(tx)),
      publish: (write) => {
        // A vote cast in the study while the import is unpublished: its id is above the import's.
        seedVotes(db(), target, [{ annotator: "Live", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at: new Date() }]);
        feed.readVotes();
        beforePublishing = feed.duels.length;
        return db().transaction((tx) => write(tx));
      },
    };
    writeRawLogImport(db(), runningJob(target), prepared.plan, writer, { chunkRows: 2 });
    expect(beforePublishing).toBe(counted(firstPart));
    feed.readVotes();
    expect(feed.duels.length).toBe(counted(firstPart) + counted(secondPart) + 1);
  });

  it("a probe write meets the lock only while a transaction is open: the same probe fails inside one (the test can fail)", () => {
    const other = openDatabase(database.path());
    const probe = new Database(database.path());
    probe.pragma("busy_timeout = 0");
    expect(() =>
      other.db.transaction(() => {
        probe.prepare("update studies set guidelines = 'probe' where id = 1").run();
      }),
    ).toThrow(/database is locked/);
    probe.close();
    other.close();
  });
  it("an overlapping log maps its annotators to the study's own, and with one of them excluded and an audit answered every tally equals the recount", () => {
    const source = sourceWithVotes(12);
    const lines = rawLog(source).trimEnd().split("\n");
    const target = emptyStudyLike(source);
    // The first part, then the owner excludes one of its annotators and an audit is answered in the study.
    const half = Math.floor(lines.length / 2);
    expect(importRawLog(db(), target, `${lines.slice(0, half).join("\n")}\n`, { chunkRows: 3 })).toMatchObject({ ok: true });
    const members = listStudyAnnotators(target);
    const excluded = members[0]!;
    expect(setAnnotatorExcluded(db(), target, excluded.annotatorId, new Date())).toBe("changed");
    const answered = db().select().from(votes).where(eq(votes.studyId, target)).orderBy(asc(votes.id)).get()!;
    const { id: _id, ...copy } = db().select().from(assignments).where(eq(assignments.id, answered.assignmentId)).get()!;
    const audit = db()
      .insert(assignments)
      .values({ ...copy, leftIsA: !copy.leftIsA, purpose: "audit", auditOf: answered.assignmentId })
      .returning({ id: assignments.id })
      .get();
    db().insert(votes).values({ assignmentId: audit.id, studyId: target, annotatorId: copy.annotatorId, choice: "left", latencyMs: 800 }).run();
    expect(stored(db())).toEqual(recount(db()));

    // The whole log: its first part is skipped; its annotators are the study's, the excluded one's new votes out of the tallies.
    const votesOf = (annotatorId: number) =>
      db()
        .select({ n: count() })
        .from(votes)
        .where(and(eq(votes.studyId, target), eq(votes.annotatorId, annotatorId)))
        .get()!.n;
    const excludedBefore = votesOf(excluded.annotatorId);
    const whole = importRawLog(db(), target, rawLog(source), { chunkRows: 3 });
    if (!whole.ok) throw new Error(whole.errors.join("\n"));
    expect(whole.summary).toMatchObject({ annotatorsCreated: 0 });
    expect(whole.summary.annotatorsMatched).toBeGreaterThan(0);
    expect(whole.summary.votes).toBeGreaterThan(0);
    expect(whole.summary.votes + whole.summary.skipped).toBe(lines.length);
    expect(listStudyAnnotators(target)).toHaveLength(members.length);
    expect(votesOf(excluded.annotatorId)).toBeGreaterThan(excludedBefore);
    expect(stored(db())).toEqual(recount(db()));
    expect(setAnnotatorExcluded(db(), target, excluded.annotatorId, null)).toBe("changed");
    expect(stored(db())).toEqual(recount(db()));
  });
});
