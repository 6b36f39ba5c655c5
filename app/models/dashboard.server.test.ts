import { describe, expect, it } from "vitest";
import { asc, eq } from "drizzle-orm";
import { engineSnapshots, prompts, studies } from "../../db/schema";
import { seedVotes } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { getDashboard } from "~/models/dashboard.server";

describe("getDashboard", () => {
  useTempAppDatabase();

  it("says how many decisive votes the latest engine snapshot counts, so the page can say when its scores lag", () => {
    const studyId = db().select({ id: studies.id }).from(studies).get()!.id;
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

  it("says why the engine's recommendation is not the raw-vote Bradley–Terry leader", () => {
    const studyId = db().select({ id: studies.id }).from(studies).get()!.id;
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
