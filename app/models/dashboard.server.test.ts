import { asc, count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { engineSnapshots, prompts, queries, studies } from "../../db/schema";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { MAX_SERIES_ROWS, writeSnapshot } from "~/engine/snapshot-writer.server";
import type { SelectionState, StatisticsState } from "~/engine/protocol";
import { catchUpCaption, getDashboard, LEADERBOARD_PAGE_SIZE } from "~/models/dashboard.server";

function demoStudyId() {
  return db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
}

describe("getDashboard", () => {
  useTempAppDatabase();

  it("says how many decisive votes the latest engine snapshot counts, so the page can say when its scores lag", () => {
    const studyId = demoStudyId();
    expect(getDashboard(studyId).engine).toBeNull();
    const at = new Date("2026-11-21T10:00:00Z");
    seedVotes(db(), studyId, [
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at },
      { annotator: "Ada", promptA: 0, promptB: 2, query: 1, leftIsA: true, choice: "skip", at },
      { annotator: "Ada", promptA: 1, promptB: 2, query: 2, leftIsA: false, choice: "tie", at },
    ]);
    const snapshot = (voteCount: number) => db().insert(engineSnapshots).values({ studyId, voteCount, policy: "duet", promptStats: [] }).run();

    snapshot(1);
    expect(getDashboard(studyId).engine).toMatchObject({ voteCount: 1, decisiveVotes: 2, upToDate: false });
    snapshot(2);
    expect(getDashboard(studyId).engine).toMatchObject({ voteCount: 2, decisiveVotes: 2, upToDate: true });
  });

  it("counts records, the win matrix and votes per annotator from the tallies exactly as the votes say", () => {
    const study = db().insert(studies).values({ name: "Tallied", task: "t", model: "m" }).returning().get();
    for (const text of ["one", "two", "three"]) db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).run();
    seedVotesWithQuery(study.id, [
      // prompt 0 shown left beats prompt 1; prompt 1 shown left loses to prompt 0 on the right; a tie; a both-bad; a skip
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", latencyMs: 1000, at: new Date() },
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: false, choice: "right", latencyMs: 3000, at: new Date() },
      { annotator: "Bo", promptA: 2, promptB: 0, query: 0, leftIsA: true, choice: "tie", at: new Date() },
      { annotator: "Bo", promptA: 1, promptB: 2, query: 0, leftIsA: true, choice: "both_bad", at: new Date() },
      { annotator: "Bo", promptA: 1, promptB: 2, query: 0, leftIsA: true, choice: "skip", at: new Date() },
    ]);
    const dashboard = getDashboard(study.id);
    const ids = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, study.id))
      .orderBy(prompts.id)
      .all()
      .map((row) => row.id);
    const record = (id: number) => dashboard.leaderboard.rows.find((entry) => entry.promptId === id)!;
    expect(record(ids[0]!)).toMatchObject({ wins: 2, losses: 0, ties: 1, bothBad: 0 });
    expect(record(ids[1]!)).toMatchObject({ wins: 0, losses: 2, ties: 0, bothBad: 1 });
    expect(record(ids[2]!)).toMatchObject({ wins: 0, losses: 0, ties: 1, bothBad: 1 });
    expect(dashboard.decisiveVotes).toBe(4);
    // Ties and both-bad votes are counted apart from the wins (not as half-wins), once per pair.
    const at = (matrix: number[][], row: number, column: number) => {
      const { promptIds } = dashboard.winMatrix;
      return matrix[promptIds.indexOf(ids[row]!)]![promptIds.indexOf(ids[column]!)];
    };
    const cells = (matrix: number[][]) => [
      at(matrix, 0, 1),
      at(matrix, 1, 0),
      at(matrix, 0, 2),
      at(matrix, 2, 0),
      at(matrix, 1, 2),
      at(matrix, 2, 1),
    ];
    expect(cells(dashboard.winMatrix.wins)).toEqual([2, 0, 0, 0, 0, 0]);
    expect(cells(dashboard.winMatrix.draws)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(dashboard.votesPerAnnotator.map(({ displayName, votes, skips, meanLatencyMs }) => ({ displayName, votes, skips, meanLatencyMs }))).toEqual(
      [
        { displayName: "Bo", votes: 3, skips: 1, meanLatencyMs: null },
        { displayName: "Ada", votes: 2, skips: 0, meanLatencyMs: 2000 },
      ],
    );
  });
});

describe("the leaderboard page", () => {
  useTempAppDatabase();

  /** A study of `count` prompts labelled P0…, the first with a long text. */
  function studyWithPrompts(count: number) {
    const study = db().insert(studies).values({ name: "Many", task: "t", model: "m" }).returning().get();
    const ids = Array.from(
      { length: count },
      (_, k) =>
        db()
          .insert(prompts)
          .values({ studyId: study.id, text: `prompt ${k} `.repeat(k === 0 ? 40 : 1), normalizedText: `p${k}`, label: `P${k}` })
          .returning()
          .get().id,
    );
    return { studyId: study.id, ids };
  }

  it("ranks every prompt but carries one bounded page of rows, with their texts; the ranks go on across pages", () => {
    const { studyId, ids } = studyWithPrompts(LEADERBOARD_PAGE_SIZE + 5);
    const first = getDashboard(studyId);
    expect(first.leaderboard).toMatchObject({ page: 1, pageCount: 2, total: LEADERBOARD_PAGE_SIZE + 5 });
    expect(first.leaderboard.rows).toHaveLength(LEADERBOARD_PAGE_SIZE);
    expect(first.leaderboard.rows[0]!.text).toBe("prompt 0 ".repeat(40));
    const second = getDashboard(studyId, { page: 2 });
    expect(second.leaderboard.rows.map((row) => row.promptId)).toEqual(ids.slice(LEADERBOARD_PAGE_SIZE));
    expect(second.leaderboard.rows.every((row) => row.text.startsWith("prompt "))).toBe(true);
    // A page past the end shows the last one.
    expect(getDashboard(studyId, { page: 99 }).leaderboard.page).toBe(2);
  });

  it("does not rank a prompt with 3 comparisons above one with 40 and a better record, whatever its score or the engine says", () => {
    const { studyId, ids } = studyWithPrompts(4);
    const [lucky, steady, other, rival] = ids as [number, number, number, number];
    db().insert(queries).values({ studyId, text: "q" }).run();
    const vote = (winner: number, loser: number): SeededVote => ({
      annotator: "Ada",
      promptA: ids.indexOf(winner),
      promptB: ids.indexOf(loser),
      query: 0,
      leftIsA: true,
      choice: "left",
      at: new Date(),
    });
    seedVotes(db(), studyId, [
      ...Array.from({ length: 3 }, () => vote(lucky, other)),
      ...Array.from({ length: 30 }, (_, k) => vote(steady, k % 2 ? other : rival)),
      ...Array.from({ length: 10 }, (_, k) => vote(k % 2 ? other : rival, steady)),
    ]);
    // The snapshot gives the lucky prompt the top score, as a fit on 3 wins of 3 may.
    const stat = (promptId: number, score: number, halfWidth: number) => ({
      promptId,
      utility: score,
      uncertainty: halfWidth,
      pBest: 0.25,
      score,
      lower: score - halfWidth,
      upper: score + halfWidth,
    });
    db()
      .insert(engineSnapshots)
      .values({
        studyId,
        voteCount: 43,
        policy: "duet",
        // The engine recommends it too (its vote guard backs an unbeaten prompt on a few wins).
        recommendedPromptId: lucky,
        promptStats: [stat(lucky, 2, 3), stat(steady, 1, 0.4), stat(other, -1, 0.5), stat(rival, -1, 0.5)],
      })
      .run();
    const rows = getDashboard(studyId).leaderboard.rows;
    expect(rows.map((row) => [row.promptId, row.comparisons, row.rank])).toEqual([
      [steady, 40, 1],
      [other, 23, 2],
      [rival, 20, 3],
      [lucky, 3, null],
    ]);
    expect(rows[3]!.recommended).toBe(true);
  });
});

/** seedVotes for a study with no query yet: adds one. */
function seedVotesWithQuery(studyId: number, specs: SeededVote[]) {
  db().insert(queries).values({ studyId, text: "q" }).run();
  seedVotes(db(), studyId, specs);
}

describe("engine snapshots", () => {
  useTempAppDatabase();

  function write(studyId: number, promptIds: number[], voteCount: number, pBest: number, recommended: number, converged = false) {
    const utilities = Float64Array.from(promptIds, (_, arm) => arm);
    const selection: SelectionState = {
      type: "selection",
      studyId,
      requestId: voteCount,
      voteCount,
      pairs: [],
      recommended,
      utilities,
      uncertainties: utilities,
      recommendationScores: utilities,
      fitMs: 0,
      selectMs: 0,
      interim: false,
    };
    const stats: StatisticsState = {
      type: "statistics",
      studyId,
      requestId: voteCount,
      voteCount,
      arms: promptIds.map((_, arm) => ({ arm, score: arm, lower: arm - 1, upper: arm + 1, probabilityBest: arm === recommended ? pBest : 0 })),
      leftWinRate: 0.5,
      converged,
      votesStillNeeded: converged ? null : 10,
      statsMs: 1,
    };
    writeSnapshot(studyId, "duet", promptIds, selection, stats);
  }

  it("stay bounded however long a study runs: per-prompt statistics only on the latest row, a thinned series that keeps its shape and where it converged", () => {
    const studyId = demoStudyId();
    const promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((row) => row.id);
    // A long study: P(best) climbs, dips once sharply around vote 3,000, converges at 6,000; the leader changes at 2,000.
    const curve = (votes: number) => (votes >= 2990 && votes <= 3010 ? 0.05 : Math.min(0.99, votes / 8000));
    for (let votes = 1; votes <= 10_000; votes += 10) write(studyId, promptIds, votes, curve(votes), votes < 2000 ? 0 : 3, votes >= 6000);

    const rows = db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(engineSnapshots.voteCount).all();
    expect(rows.length).toBeLessThanOrEqual(MAX_SERIES_ROWS);
    expect(rows.filter((row) => row.promptStats.length > 0).map((row) => row.voteCount)).toEqual([9991]);
    expect(rows.at(-1)!.promptStats).toHaveLength(promptIds.length);
    expect(rows[0]!.voteCount).toBe(1);
    expect(rows.find((row) => row.converged)!.voteCount).toBe(6001);
    expect(rows.some((row) => row.pBest === 0.05)).toBe(true);
    expect(rows.find((row) => row.recommendedPromptId === promptIds[3])!.voteCount).toBe(2001);
    // The kept points follow the curve: every point on it, spread over the whole range.
    for (const row of rows) expect(row.pBest).toBeCloseTo(curve(row.voteCount), 10);
    const gaps = rows.slice(1).map((row, k) => row.voteCount - rows[k]!.voteCount);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * (10_000 / 40));

    const dashboard = getDashboard(studyId);
    expect(dashboard.engine).toMatchObject({ voteCount: 9991, converged: true, convergedAtVotes: 6001 });
    expect(dashboard.convergence).toHaveLength(rows.length);
    expect(db().select({ n: count() }).from(engineSnapshots).get()!.n).toBe(rows.length);
  });
});

describe("catchUpCaption", () => {
  const now = 1_000_000;

  it("says nothing when the scores count every vote", () => {
    expect(catchUpCaption(0, { state: "stopped" }, now, now)).toBeNull();
  });

  it("says how far behind the scores are, what the engine is doing about it, and how old they are", () => {
    const running = { state: "running" as const, busy: true, votesBehind: 3, nextStatsAt: null };
    expect(catchUpCaption(3, running, now - 4_000, now)).toBe(
      "3 newer votes are not in these scores yet (W / L / T already include them): the engine is counting them now. The latest scores are 4 seconds old.",
    );
    expect(catchUpCaption(1, { ...running, nextStatsAt: now + 12_400 }, now - 120_000, now)).toBe(
      "1 newer vote is not in these scores yet (W / L / T already include them): the engine counts them in about 12 s. The latest scores are 2 minutes old.",
    );
    expect(catchUpCaption(650, { state: "waiting", position: 3 }, null, now)).toBe(
      "650 newer votes are not in these scores yet (W / L / T already include them): the engine waits for a free slot, behind 2 other studies.",
    );
    expect(catchUpCaption(5, { state: "loading" }, null, now)).toContain("the engine is reading the study to count them");
    expect(catchUpCaption(5, { state: "stopped" }, null, now)).toContain("the engine will count them when it next starts");
  });

  it("says why the engine's recommendation is not the raw-vote Bradley–Terry leader", () => {
    const studyId = demoStudyId();
    const ids = db()
      .select({ id: prompts.id, label: prompts.label })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .orderBy(asc(prompts.id))
      .all();
    const at = new Date("2026-11-21T10:00:00Z");
    // Prompt 3 beat prompt 4 once; prompt 4 leads the raw-vote scores (the snapshot says so).
    seedVotes(db(), studyId, [{ annotator: "Ada", promptA: 3, promptB: 4, query: 0, leftIsA: true, choice: "left", at }]);
    const stat = (promptId: number, score: number) => ({
      promptId,
      utility: 0,
      uncertainty: 1,
      engineScore: 0,
      score,
      lower: score - 1,
      upper: score + 1,
      pBest: 0.5,
    });
    db()
      .insert(engineSnapshots)
      .values({ studyId, voteCount: 1, policy: "duet", recommendedPromptId: ids[3]!.id, promptStats: [stat(ids[3]!.id, 0.1), stat(ids[4]!.id, 0.4)] })
      .run();
    const name = (k: number) => ids[k]!.label ?? `#${ids[k]!.id}`;
    expect(getDashboard(studyId).recommendationNote).toBe(
      `The engine recommends ${name(3)}, while ${name(4)} leads the raw-vote Bradley–Terry scores. ${name(3)} beat ${name(4)} 1–0 head to head.`,
    );
    db()
      .insert(engineSnapshots)
      .values({ studyId, voteCount: 1, policy: "duet", recommendedPromptId: ids[4]!.id, promptStats: [stat(ids[3]!.id, 0.1), stat(ids[4]!.id, 0.4)] })
      .run();
    expect(getDashboard(studyId).recommendationNote).toBeNull();
  });
});
