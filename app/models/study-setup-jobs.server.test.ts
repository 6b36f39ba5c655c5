import Database from "better-sqlite3";
import { asc, count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { jobs, pendingImports, prompts, queries, queryTags, responses, studies, studyMembers } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import type { JobResult } from "~/jobs/job-context.server";
import { cleanUpPendingImports, type StagedWriter } from "~/jobs/staged-writes.server";
import { claimPendingResponses, responseProgress } from "~/llm/generation-queue.server";
import { ownerlessStudies, insertUser } from "./account.server";
import { responseStatusCounts } from "./dashboard.server";
import { getStudyCounts, listStudiesOf } from "./study.server";
import { writeStudyAddition, writeStudyCreation } from "./study-setup-jobs.server";
import type { NewStudy } from "./study-setup.server";

// Study creation and additions write in chunks nobody sees and publish them in one small commit
// (ADR 0043). A kill leaves exactly the chunks committed so far: these tests stop the writer after a
// chunk (throwing, with no clean-up: the state a SIGKILL leaves) and look at what readers see.

class Killed extends Error {}

/** Stops after `chunks` chunks have committed, as a kill would: nothing is cleaned up. */
function killedAfter(chunks: number): StagedWriter<JobResult> {
  let done = 0;
  return {
    chunk(write) {
      if (done === chunks) throw new Killed();
      db().transaction((tx) => write(tx));
      done++;
    },
    publish() {
      throw new Killed();
    },
  };
}

/** Every chunk and the publication committed. */
const committing: StagedWriter<JobResult> = {
  chunk: (write) => db().transaction((tx) => write(tx)),
  publish: (write) => db().transaction((tx) => write(tx)),
};

/** Killed inside the publishing commit, with all of its writes done but not committed. */
const killedInPublish: StagedWriter<JobResult> = {
  chunk: (write) => db().transaction((tx) => write(tx)),
  publish: (write) =>
    db().transaction((tx) => {
      write(tx);
      throw new Killed();
    }),
};

function runningJob(kind: "add-to-study" | "create-study", studyId: number | null): number {
  return db().insert(jobs).values({ kind, studyId, inputFile: "", state: "running" }).returning({ id: jobs.id }).get().id;
}

const n = (rows: { n: number } | undefined) => rows?.n ?? 0;

/** What the owner, the annotate page and the generation worker can see of a study. */
function visible(studyId: number) {
  const progress = responseProgress(db(), studyId);
  return {
    prompts: n(db().select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()),
    queries: n(db().select({ n: count() }).from(queries).where(eq(queries.studyId, studyId)).get()),
    tags: n(db().select({ n: count() }).from(queryTags).where(eq(queryTags.studyId, studyId)).get()),
    counts: getStudyCounts(studyId),
    statuses: responseStatusCounts(studyId),
    progress: { total: progress.total, pending: progress.pending, ready: progress.ready },
  };
}

/** Rows of every study: a clean-up leaves the database as it found it. */
function allRows() {
  return {
    studies: n(db().select({ n: count() }).from(studies).get()),
    prompts: n(db().select({ n: count() }).from(prompts).get()),
    queries: n(db().select({ n: count() }).from(queries).get()),
    responses: n(db().select({ n: count() }).from(responses).get()),
    tags: n(db().select({ n: count() }).from(queryTags).get()),
    pending: n(db().select({ n: count() }).from(pendingImports).get()),
  };
}

describe("a chunked addition", () => {
  const database = useTempAppDatabase();

  it("killed after any chunk or inside its publishing commit leaves nothing visible, is cleaned up, and the retry adds everything once", () => {
    const target = db().select().from(studies).orderBy(asc(studies.id)).get()!.id;
    const own = db().select({ text: queries.text }).from(queries).where(eq(queries.studyId, target)).orderBy(asc(queries.id)).get()!.text;
    const ownPrompt = db().select({ text: prompts.text }).from(prompts).where(eq(prompts.studyId, target)).get()!.text;
    const additions = {
      // One repeats a prompt of the study up to case and spacing.
      prompts: [
        { text: "Answer in one sentence.", label: null, source: "manual" as const },
        { text: "Answer as a pirate.", label: "pirate", source: "manual" as const },
        { text: `  ${ownPrompt.toUpperCase()} `, label: null, source: "manual" as const },
      ],
      // One repeats a query of the study (its tag is added to the study's query), one new query is tagged.
      queries: [
        ...Array.from({ length: 24 }, (_, k) => ({ text: `New question ${k}?`, notes: null, tags: k === 3 ? ["billing"] : undefined })),
        { text: own, notes: null, tags: ["repeated"] },
      ],
    };
    const before = visible(target);
    const rowsBefore = allRows();
    const embeddings = new Map();
    // Every moment a kill can meet: after the staging chunk, among the prompts, queries and responses, with every chunk written.
    for (const chunks of [1, 2, 4, 9, 30, 1000]) {
      const jobId = runningJob("add-to-study", target);
      expect(() => writeStudyAddition(db(), jobId, target, additions, embeddings, killedAfter(chunks), { chunkRows: 4 })).toThrow(Killed);
      expect(visible(target)).toEqual(before);
      // The generation worker takes none of the staged pending responses.
      expect(claimPendingResponses(db(), 10_000, [])).toEqual([]);
      expect(n(db().select({ n: count() }).from(pendingImports).get())).toBe(1);
      if (chunks === 1000) expect(allRows().responses).toBeGreaterThan(rowsBefore.responses);
      expect(cleanUpPendingImports(db())).toBeGreaterThan(0);
      expect(allRows()).toEqual(rowsBefore);
    }
    // Killed inside the publishing commit: its moves and deletions roll back with it.
    const inPublish = runningJob("add-to-study", target);
    expect(() => writeStudyAddition(db(), inPublish, target, additions, embeddings, killedInPublish, { chunkRows: 4 })).toThrow(Killed);
    expect(visible(target)).toEqual(before);
    expect(n(db().select({ n: count() }).from(pendingImports).get())).toBe(1);
    cleanUpPendingImports(db());
    expect(allRows()).toEqual(rowsBefore);

    // The retry, with a probe connection that must find the lock free between any two chunks.
    const probe = new Database(database.path());
    probe.pragma("busy_timeout = 0");
    const probeWrite = probe.prepare("update studies set guidelines = ? where id = ?");
    let chunks = 0;
    const writer: StagedWriter<JobResult> = {
      chunk(write) {
        db().transaction((tx) => write(tx));
        chunks++;
        probe.transaction(() => probeWrite.run(`probe ${chunks}`, target)).immediate();
      },
      publish: (write) => db().transaction((tx) => write(tx)),
    };
    const result = writeStudyAddition(db(), runningJob("add-to-study", target), target, additions, embeddings, writer, { chunkRows: 4 });
    probe.close();
    expect(chunks).toBeGreaterThan(10);
    const [prompts0, queries0] = [before.prompts, before.queries];
    const newPairs = 2 * (queries0 + 24) + prompts0 * 24;
    expect(result).toMatchObject({
      studyId: target,
      promptsAdded: 2,
      promptDuplicates: 1,
      queriesAdded: 24,
      queryDuplicates: 1,
      responsesQueued: newPairs,
    });
    const after = visible(target);
    expect(after).toMatchObject({ prompts: prompts0 + 2, queries: queries0 + 24, tags: before.tags + 2 });
    expect(after.progress).toEqual({
      total: (prompts0 + 2) * (queries0 + 24),
      pending: before.progress.pending + newPairs,
      ready: before.progress.ready,
    });
    expect(after.statuses.pending).toBe(before.statuses.pending + newPairs);
    expect(allRows()).toMatchObject({ studies: rowsBefore.studies, pending: 0, responses: rowsBefore.responses + newPairs });

    // The same addition again adds nothing.
    const again = writeStudyAddition(db(), runningJob("add-to-study", target), target, additions, embeddings, committing);
    expect(again).toMatchObject({ promptsAdded: 0, promptDuplicates: 3, queriesAdded: 0, queryDuplicates: 25, responsesQueued: 0 });
    expect(visible(target)).toEqual(after);
  });

  it("a new study is invisible until its publishing commit: no owner, not listed, not generated; killed, it is removed", () => {
    const user = insertUser(db(), { email: "creator@example.com", displayName: "Creator", passwordHash: "x" });
    const study: NewStudy = {
      name: "Chunked study",
      task: "Answer support questions.",
      model: "gpt-4o-mini",
      temperature: 0.7,
      maxTokens: 256,
      seed: null,
      prompts: Array.from({ length: 7 }, (_, k) => ({ text: `Prompt number ${k}.`, label: null, source: "manual" as const })),
      queries: Array.from({ length: 9 }, (_, k) => ({ text: `Query ${k}?`, notes: null })),
      variants: { seedPrompt: "Be helpful.", count: 2 },
      responses: [{ line: 2, prompt: { text: "Prompt number 0." }, query: { text: "Query 0?" }, content: "Imported answer." }],
    };
    const rowsBefore = allRows();
    const ownerless = ownerlessStudies(db()).length;
    for (const chunks of [1, 3, 8, 1000]) {
      expect(() =>
        writeStudyCreation(db(), runningJob("create-study", null), study, user.id, new Map(), killedAfter(chunks), { chunkRows: 4 }),
      ).toThrow(Killed);
      expect(listStudiesOf(user.id)).toEqual([]);
      expect(ownerlessStudies(db())).toHaveLength(ownerless);
      // The first test's addition left pending responses to claim; none of this study's.
      expect(claimPendingResponses(db(), 10_000, []).filter((job) => /^Query \d\?$/.test(job.userMessage))).toEqual([]);
      cleanUpPendingImports(db());
      expect(allRows()).toEqual(rowsBefore);
    }
    const result = writeStudyCreation(db(), runningJob("create-study", null), study, user.id, new Map(), committing, { chunkRows: 4 });
    // 8 prompts (the seed too) × 9 queries, one of them imported.
    expect(result).toMatchObject({ promptsAdded: 8, queriesAdded: 9, responsesQueued: 8 * 9 - 1 });
    expect(listStudiesOf(user.id).map((row) => row.id)).toEqual([result.studyId]);
    expect(db().select().from(studies).where(eq(studies.id, result.studyId)).get()!.status).toBe("draft");
    expect(db().select().from(studyMembers).where(eq(studyMembers.studyId, result.studyId)).all()).toMatchObject([
      { userId: user.id, role: "owner" },
    ]);
    expect(visible(result.studyId).progress).toEqual({ total: 72, pending: 71, ready: 1 });
    expect(allRows()).toMatchObject({ studies: rowsBefore.studies + 1, pending: 0 });
  });
});
