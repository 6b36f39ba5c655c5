import { afterAll, describe, expect, it } from "vitest";
import { prompts, queries, studies } from "../../db/schema";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { annotatorReliability } from "~/models/annotator-reliability.server";
import { scheduleReliabilityFit, stopReliabilityThread, whenReliabilityFitsIdle } from "~/models/reliability-thread.server";

/** The page's read, after the fit it scheduled (on the reliability thread) is stored. */
async function fitted(studyId: number) {
  const first = annotatorReliability(studyId);
  expect(first).toEqual({ report: null, pending: true });
  await whenReliabilityFitsIdle();
  const { report, pending } = annotatorReliability(studyId);
  expect(pending).toBe(false);
  return report!;
}

// A fixed log on four prompts (indices 0 < 1 < 2 < 3, the higher the better): three honest annotators always pick the
// higher prompt, one adversary always the lower, each on the six pairs four times, sides alternating.
function setUp(): number {
  const study = db().insert(studies).values({ name: "Reliability", task: "t", model: "m" }).returning().get();
  for (const text of ["p0", "p1", "p2", "p3"]) db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).run();
  db().insert(queries).values({ studyId: study.id, text: "q" }).run();
  const log: SeededVote[] = [];
  let minute = 0;
  for (const annotator of ["Ann", "Ben", "Cal", "Dee"])
    for (let repeat = 0; repeat < 4; repeat++)
      for (let low = 0; low < 4; low++)
        for (let high = low + 1; high < 4; high++) {
          const leftIsA = (repeat + low + high) % 2 === 0;
          // Prompt A is `low`: the honest pick is `high` (B), shown on the right when leftIsA.
          const pickHigh = annotator !== "Dee";
          const choice = pickHigh === leftIsA ? "right" : "left";
          log.push({ annotator, promptA: low, promptB: high, query: 0, leftIsA, choice, at: new Date(Date.UTC(2026, 10, 1, 10, minute++)) });
        }
  log.push({ annotator: "Ann", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "skip", at: new Date(Date.UTC(2026, 10, 2)) });
  seedVotes(db(), study.id, log);
  return study.id;
}

describe("annotatorReliability", () => {
  useTempAppDatabase();
  afterAll(() => stopReliabilityThread());

  it("gives the adversary a reversed reliability and flags only them, with no side term for alternating sides", async () => {
    const report = await fitted(setUp());
    expect(report).toMatchObject({ votes: 96, truncated: false, current: true });
    expect(report.converged).toBe(true);
    const names = new Map(
      db()
        .query.annotators.findMany()
        .sync()
        .map((row) => [row.id, row.displayName]),
    );
    const byName = (name: string) => report.annotators.find((row) => names.get(row.annotatorId) === name)!;
    expect(byName("Dee")).toMatchObject({ votes: 24, flagged: true, reversed: true });
    expect(byName("Dee").reliability).toBeLessThan(0);
    // The engine counts the flagged adversary's votes reversed, everyone else's at 1 (ADR 0047).
    expect(byName("Dee").engineScale).toBeLessThan(-0.5);
    for (const name of ["Ann", "Ben", "Cal"]) {
      expect(byName(name)).toMatchObject({ votes: 24, flagged: false, reversed: false, engineScale: 1 });
      expect(byName(name).reliability).toBeGreaterThan(0.5);
    }
    expect(Math.abs(report.side)).toBeLessThan(2 * report.sideStdErr);
    expect(report.engineSideTerm).toBe(0);
    expect(report.leftShareAtEqualScores).toBeCloseTo(1 / (1 + Math.exp(-report.side)), 12);
  });

  it("fits only the latest votes when there are more than it reads", async () => {
    const studyId = setUp();
    scheduleReliabilityFit(studyId, 30);
    await whenReliabilityFitsIdle();
    const report = annotatorReliability(studyId).report!;
    expect(report).toMatchObject({ votes: 30, truncated: true });
    // The log ends with Dee's 24 votes, after Cal's: the latest 30 are 6 of Cal's and all of Dee's.
    const names = new Map(
      db()
        .query.annotators.findMany()
        .sync()
        .map((row) => [row.id, row.displayName]),
    );
    const counts = Object.fromEntries(report.annotators.map((row) => [names.get(row.annotatorId), row.votes]));
    expect(counts).toEqual({ Cal: 6, Dee: 24 });
  });

  it("is null for a study without decided votes", () => {
    const study = db().insert(studies).values({ name: "Empty", task: "t", model: "m" }).returning().get();
    expect(annotatorReliability(study.id)).toEqual({ report: null, pending: false });
  });
});
