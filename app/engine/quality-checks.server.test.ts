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

describe("served overlaps (issue 18 §4)", () => {
  useTempAppDatabase();

  it("serves overlaps at the overlap rate: items exactly one other annotator decided, never twice to one annotator, counted like work", () => {
    const study = demoStudy();
    // Labels that depend on the item only (which prompt wins, or a draw), so two annotators always agree on it.
    const byItem = (row: Row): "left" | "right" | "tie" => {
      const label = (row.promptAId + row.promptBId + row.queryId) % 3;
      if (label === 2) return "tie";
      const lowerWins = label === 0;
      return (row.promptAId < row.promptBId === row.leftIsA) === lowerWins ? "left" : "right";
    };
    const first = createAnnotator(db(), "First");
    const firstServed = annotate(study.id, first.id, 150, 1901, byItem);
    expect(firstServed.map((row) => row.purpose).filter((p) => p !== "work")).toEqual([]);

    const rate = 0.3;
    db().update(studies).set({ overlapRate: rate }).where(eq(studies.id, study.id)).run();
    const itemKey = (row: { promptAId: number; promptBId: number; queryId: number }) =>
      `${Math.min(row.promptAId, row.promptBId)}:${Math.max(row.promptAId, row.promptBId)}|${row.queryId}`;
    // Answers `requests` pairs, checking each overlap when it is served (before its vote).
    const annotateChecked = (annotatorId: number, requests: number, seed: number) => {
      const random = mulberry32(seed);
      const served: Row[] = [];
      let clock = Date.UTC(2026, 11, 2, 9, 0, 0);
      for (let k = 0; k < requests; k++) {
        clock += 60_000;
        const row = assignNextPair(study.id, annotatorId, { random, now: new Date(clock) })!;
        if (row.purpose === "overlap") {
          const onItem = db()
            .select({ annotatorId: assignments.annotatorId, promptAId: assignments.promptAId, promptBId: assignments.promptBId })
            .from(assignments)
            .innerJoin(votes, eq(votes.assignmentId, assignments.id))
            .where(and(eq(assignments.studyId, study.id), eq(assignments.queryId, row.queryId), eq(assignments.status, "answered")))
            .all()
            .filter((entry) => itemKey({ ...entry, queryId: row.queryId }) === itemKey(row));
          // Decided by exactly one other annotator, never by this one.
          expect(new Set(onItem.map((entry) => entry.annotatorId)).size).toBe(1);
          expect(onItem[0]!.annotatorId).not.toBe(annotatorId);
        }
        served.push(row);
        expect(recordVote(study.id, annotatorId, { assignmentId: row.id, choice: byItem(row), comment: null, latencyMs: 30_000 }).status).toBe(
          "recorded",
        );
      }
      return served;
    };
    const second = createAnnotator(db(), "Second");
    const requests = 100;
    const secondServed = annotateChecked(second.id, requests, 1902);
    const overlaps = secondServed.filter((row) => row.purpose === "overlap");
    // Binomial(100, 0.3): mean 30, sd 4.6; 4 sd either side (seeded, so the verdict is fixed).
    expect(overlaps.length).toBeGreaterThanOrEqual(30 - 4 * 4.6);
    expect(overlaps.length).toBeLessThanOrEqual(30 + 4 * 4.6);
    // Never the same item twice to one annotator, and never an item they had answered (fresh pairs first).
    const keys = secondServed.map(itemKey);
    expect(new Set(keys).size).toBe(keys.length);
    const firstItems = new Set(firstServed.map(itemKey));
    for (const row of overlaps) expect(firstItems.has(itemKey(row))).toBe(true);

    // A third annotator's overlaps come from items only one of the others decided (checked as served).
    const third = createAnnotator(db(), "Third");
    const thirdServed = annotateChecked(third.id, 60, 1903);
    expect(thirdServed.some((row) => row.purpose === "overlap")).toBe(true);

    // Overlap votes are real votes: in the tallies and the engine's history (no audits here, no skips).
    const all = [...firstServed, ...secondServed, ...thirdServed];
    const games = db()
      .select({ low: pairTallies.lowWins, high: pairTallies.highWins, draws: pairTallies.draws })
      .from(pairTallies)
      .all()
      .reduce((sum, row) => sum + row.low + row.high + row.draws, 0);
    expect(games).toBe(all.length);
    const feed = new StudyHistoryFeed(study.id);
    feed.readVotes();
    expect(feed.duels.length).toBe(all.length);

    // Agreement is computed on them: every served item is an overlap item; labels depend on the item only, so alpha and
    // the pairs' kappa are 1.
    const report = annotatorQuality(study);
    const servedItems = new Set([...overlaps, ...thirdServed.filter((row) => row.purpose === "overlap")].map(itemKey));
    expect(report.overall.servedOverlapItems).toBe(servedItems.size);
    expect(report.overall.overlapItems).toBeGreaterThanOrEqual(servedItems.size);
    expect(report.overall.krippendorffAlpha.value).toBeCloseTo(1, 9);
    const pair = report.pairs.find((entry) => entry.first.annotatorId === first.id && entry.second.annotatorId === second.id)!;
    expect(pair.sharedItems).toBeGreaterThanOrEqual(overlaps.length);
    expect(pair.cohenKappa.value).toBeCloseTo(1, 9);
  });

  it("keeps the audit rules with overlaps on: audits never two in a row, within their share", () => {
    const study = demoStudy();
    const other = createAnnotator(db(), "Other");
    annotate(study.id, other.id, 80, 1911, lowerIdWins);
    db().update(studies).set({ auditRate: 0.25, auditMaxShare: 0.15, overlapRate: 0.3 }).where(eq(studies.id, study.id)).run();
    const mixed = createAnnotator(db(), "Mixed");
    const served = annotate(study.id, mixed.id, 80, 1912, lowerIdWins);
    expect(served.some((row) => row.purpose === "overlap")).toBe(true);
    expect(served.some((row) => row.purpose === "audit")).toBe(true);
    served.forEach((row, k) => {
      if (k > 0 && row.purpose === "audit") expect(served[k - 1]!.purpose).not.toBe("audit");
      const auditsSoFar = served.slice(0, k + 1).filter((entry) => entry.purpose === "audit").length;
      expect(auditsSoFar).toBeLessThanOrEqual(0.15 * (k + 1) + 1e-9);
    });
    // Apart from audits (the same item again on purpose), no item comes back to them.
    const keys = served
      .filter((row) => row.purpose !== "audit")
      .map((row) => `${Math.min(row.promptAId, row.promptBId)}:${Math.max(row.promptAId, row.promptBId)}|${row.queryId}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
