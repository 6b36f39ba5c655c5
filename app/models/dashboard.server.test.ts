import { describe, expect, it } from "vitest";
import { engineSnapshots, studies } from "../../db/schema";
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
});
