import { afterAll, describe, expect, it } from "vitest";
import { prompts, queries, studies } from "../../db/schema";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { getDashboard } from "~/models/dashboard.server";
import { stopReliabilityThread, whenReliabilityFitsIdle } from "~/models/reliability-thread.server";

// A fixed log on four prompts (0 < 1 < 2 < 3, the higher the better): three honest annotators pick the higher prompt of
// each of the six pairs four times (72 votes), and an adversary picks the lower one eight times (48 votes): the raw
// tallies barely tell the prompts apart, the crowd model weighs the adversary against the others. Sides alternate.
function setUp(): { studyId: number; promptIds: number[] } {
  const study = db().insert(studies).values({ name: "Crowd", task: "t", model: "m" }).returning().get();
  const promptIds = ["p0", "p1", "p2", "p3"].map(
    (text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).returning().get().id,
  );
  db().insert(queries).values({ studyId: study.id, text: "q" }).run();
  const log: SeededVote[] = [];
  let minute = 0;
  const vote = (annotator: string, repeats: number, pickHigh: boolean) => {
    for (let repeat = 0; repeat < repeats; repeat++)
      for (let low = 0; low < 4; low++)
        for (let high = low + 1; high < 4; high++) {
          const leftIsA = (repeat + low + high) % 2 === 0;
          const choice = pickHigh === leftIsA ? "right" : "left";
          log.push({ annotator, promptA: low, promptB: high, query: 0, leftIsA, choice, at: new Date(Date.UTC(2026, 10, 1, 10, minute++)) });
        }
  };
  for (const honest of ["Ann", "Ben", "Cal"]) vote(honest, 4, true);
  vote("Dee", 8, false);
  seedVotes(db(), study.id, log);
  return { studyId: study.id, promptIds };
}

describe("the dashboard's crowd scores", () => {
  useTempAppDatabase();
  afterAll(() => stopReliabilityThread());

  it("reads the cached crowd fit beside the ranking: the adversary weighs less, and the crowd leader is named", async () => {
    const { studyId, promptIds } = setUp();
    // Before any fit: no crowd scores, and the read scheduled one (off the request).
    const before = getDashboard(studyId);
    expect(before.crowd).toBeNull();
    expect(before.leaderboard.rows.every((row) => row.crowdScore === null && row.crowdRank === null)).toBe(true);
    await whenReliabilityFitsIdle();
    const after = getDashboard(studyId);
    expect(after.crowd).toMatchObject({ votes: 120, truncated: false, pending: false, flaggedAnnotators: 1 });
    const crowdRankOf = Object.fromEntries(after.leaderboard.rows.map((row) => [row.promptId, row.crowdRank]));
    expect([promptIds[3], promptIds[2], promptIds[1], promptIds[0]].map((id) => crowdRankOf[id!])).toEqual([1, 2, 3, 4]);
    // The crowd leader is the best prompt; it is named when the ranking's leader is another.
    const rankedLeader = after.leaderboard.rows.find((row) => row.rank === 1)!;
    expect(after.crowd!.differentLeader?.promptId ?? rankedLeader.promptId).toBe(promptIds[3]);
  });
});
