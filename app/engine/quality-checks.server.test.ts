import { and, asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../bandit/random";
import { assignments, goldItems, pairTallies, prompts, queries, studies, votes } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { assignNextPair } from "~/engine/assign.server";
import { StudyHistoryFeed } from "~/engine/history-feed.server";
import { annotatorQuality } from "~/models/annotator-quality.server";
import { createAnnotator } from "~/models/membership.server";
import { recordVote } from "~/models/vote.server";

// Audits and gold items served through the real pair request (issue 18 §2, §3; ADR 0034), with a seeded
// random source, on the demo study (10 prompts, 14 queries, every response ready).

function demoStudy() {
  return db().select().from(studies).orderBy(asc(studies.id)).get()!;
}

type Row = typeof assignments.$inferSelect;

/** Answers `requests` pairs in a row; `choose` decides each vote from the assignment. Returns the assignments in order. */
function annotate(studyId: number, annotatorId: number, requests: number, seed: number, choose: (row: Row) => "left" | "right" | "tie") {
  const random = mulberry32(seed);
  const served: Row[] = [];
  let clock = Date.UTC(2026, 11, 1, 9, 0, 0);
  for (let k = 0; k < requests; k++) {
    clock += 60_000;
    const row = assignNextPair(studyId, annotatorId, { random, now: new Date(clock) })!;
    served.push(row);
    expect(recordVote(studyId, annotatorId, { assignmentId: row.id, choice: choose(row), comment: null, latencyMs: 30_000 }).status).toBe("recorded");
  }
  return served;
}

/** The choice that makes the lower-id prompt win, wherever it is shown: a perfectly consistent annotator. */
const lowerIdWins = (row: Row) => (row.promptAId < row.promptBId === row.leftIsA ? "left" : "right");

describe("audits and gold items in the work", () => {
  useTempAppDatabase();

  it("serves audits with the sides swapped, never two in a row, within the share; they leave the tallies and the engine", () => {
    const study = demoStudy();
    db().update(studies).set({ auditRate: 0.3, auditMaxShare: 0.2 }).where(eq(studies.id, study.id)).run();
    const steady = createAnnotator(db(), "Steady");
    const served = annotate(study.id, steady.id, 60, 1801, lowerIdWins);
    const audits = served.filter((row) => row.purpose === "audit");
    expect(audits.length).toBeGreaterThan(3);
    served.forEach((row, k) => {
      if (k > 0 && row.purpose === "audit") expect(served[k - 1]!.purpose).not.toBe("audit");
      // After answering k + 1 pairs, audits are at most the share of them.
      const auditsSoFar = served.slice(0, k + 1).filter((entry) => entry.purpose === "audit").length;
      expect(auditsSoFar).toBeLessThanOrEqual(0.2 * (k + 1) + 1e-9);
    });
    const byId = new Map(served.map((row) => [row.id, row]));
    for (const audit of audits) {
      const original = byId.get(audit.auditOf!)!;
      expect(original.purpose).toBe("work");
      expect(original.id).toBeLessThan(audit.id);
      expect([audit.queryId, audit.promptAId, audit.promptBId]).toEqual([original.queryId, original.promptAId, original.promptBId]);
      expect(audit.leftIsA).toBe(!original.leftIsA);
    }
    // No item is audited twice.
    expect(new Set(audits.map((row) => row.auditOf)).size).toBe(audits.length);

    // Tallies and the engine's history count the work votes only.
    const decisiveGames = db()
      .select({ low: pairTallies.lowWins, high: pairTallies.highWins, draws: pairTallies.draws })
      .from(pairTallies)
      .all()
      .reduce((sum, row) => sum + row.low + row.high + row.draws, 0);
    expect(decisiveGames).toBe(served.length - audits.length);
    const feed = new StudyHistoryFeed(study.id);
    feed.readVotes();
    expect(feed.duels.length).toBe(served.length - audits.length);

    // A perfectly consistent annotator: every audit repeats the decision. One who always clicks left: none does.
    const left = createAnnotator(db(), "Lefty");
    const lefty = annotate(study.id, left.id, 60, 1802, () => "left").filter((row) => row.purpose === "audit");
    expect(lefty.length).toBeGreaterThan(3);
    const rows = annotatorQuality(study).annotators;
    expect(rows.find((row) => row.annotatorId === steady.id)!.consistency).toMatchObject({ judged: audits.length, matched: audits.length, rate: 1 });
    expect(rows.find((row) => row.annotatorId === left.id)!.consistency).toMatchObject({ judged: lefty.length, matched: 0, rate: 0 });
  });

  it("serves the same sequence again with the same seed, and no check at all with the rates at 0", () => {
    const study = demoStudy();
    db().update(studies).set({ auditRate: 0.3, auditMaxShare: 0.2 }).where(eq(studies.id, study.id)).run();
    const first = annotate(study.id, createAnnotator(db(), "Seeded one").id, 30, 77, lowerIdWins);
    // A fresh study state is not available in the same database: compare the audit positions of a second
    // annotator with the same seed, whose history is built the same way from an equally empty start.
    const second = annotate(study.id, createAnnotator(db(), "Seeded two").id, 30, 77, lowerIdWins);
    const positions = (rows: Row[]) => rows.flatMap((row, k) => (row.purpose === "audit" ? [k] : []));
    expect(positions(first).length).toBeGreaterThan(0);
    expect(positions(second)).toEqual(positions(first));

    db().update(studies).set({ auditRate: 0, goldRate: 0 }).where(eq(studies.id, study.id)).run();
    const plain = annotate(study.id, createAnnotator(db(), "Plain").id, 30, 77, lowerIdWins);
    expect(plain.every((row) => row.purpose === "work")).toBe(true);
  });

  it("mixes gold items in at the gold rate, each once per annotator, and scores gold accuracy against the owner's answer", () => {
    const study = demoStudy();
    db().update(studies).set({ goldRate: 0.25, auditRate: 0 }).where(eq(studies.id, study.id)).run();
    const promptIds = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, study.id)).orderBy(asc(prompts.id)).all();
    const queryIds = db().select({ id: queries.id }).from(queries).where(eq(queries.studyId, study.id)).orderBy(asc(queries.id)).all();
    // 14 gold items: prompts 0 and 1 on every query, the owner preferring the higher id (prompt 1).
    for (const { id: queryId } of queryIds) {
      db()
        .insert(goldItems)
        .values({ studyId: study.id, queryId, lowPromptId: promptIds[0]!.id, highPromptId: promptIds[1]!.id, preferredPromptId: promptIds[1]!.id })
        .run();
    }
    const annotator = createAnnotator(db(), "Golden");
    const requests = 40;
    const served = annotate(study.id, annotator.id, requests, 1803, lowerIdWins);
    const gold = served.filter((row) => row.purpose === "gold");
    // The count of gold requests is Binomial(40, 0.25) (mean 10, sd 2.7) while items are left; seeded, so exact.
    expect(gold.length).toBeGreaterThanOrEqual(4);
    expect(gold.length).toBeLessThanOrEqual(14);
    expect(new Set(gold.map((row) => row.queryId)).size).toBe(gold.length);
    for (const row of gold)
      expect([Math.min(row.promptAId, row.promptBId), Math.max(row.promptAId, row.promptBId)]).toEqual([promptIds[0]!.id, promptIds[1]!.id]);
    // Votes on gold items count like work (they are real comparisons).
    const counted = db()
      .select({ id: votes.id })
      .from(votes)
      .innerJoin(assignments, eq(assignments.id, votes.assignmentId))
      .where(and(eq(votes.annotatorId, annotator.id), eq(assignments.purpose, "gold")))
      .all();
    expect(counted.length).toBe(gold.length);
    // Always the lower id: every gold answer is wrong, unless the engine served the same item as work too.
    const row = annotatorQuality(study).annotators.find((entry) => entry.annotatorId === annotator.id)!;
    expect(row.gold.judged).toBeGreaterThanOrEqual(gold.length);
    expect(row.gold).toMatchObject({ matched: 0, rate: 0 });
  });
});
