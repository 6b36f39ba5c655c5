import { count, eq, ne, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { engineSnapshots, prompts, studies } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import type { SelectionState, StatisticsState } from "./protocol";
import { MAX_SERIES_ROWS, snapshotStorageBound, writeSnapshot } from "./snapshot-writer.server";

describe("snapshot storage", () => {
  useTempAppDatabase();

  it("stays under snapshotStorageBound after every write however many there are, with statistics on the latest row only", () => {
    const studyId = db().insert(studies).values({ name: "Long study", task: "t", model: "m" }).returning({ id: studies.id }).get().id;
    const promptCount = 300;
    const promptIds = Array.from(
      { length: promptCount },
      (_, k) =>
        db()
          .insert(prompts)
          .values({ studyId, text: `prompt ${k}`, normalizedText: `prompt ${k}` })
          .returning({ id: prompts.id })
          .get().id,
    );
    // Numbers written in full, as the engine's are (a seeded generator: the same rows every run).
    let state = 7;
    const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const storageBytes = () =>
      db().get<{ bytes: number }>(
        sql`select coalesce(sum(pgsize), 0) as bytes from dbstat where name in ('engine_snapshots', 'engine_snapshots_study_idx')`,
      ).bytes;
    const bound = snapshotStorageBound(promptCount);
    let largest = 0;
    // Past two thinnings of the series: the bound holds at every step, not only at the end.
    for (let k = 1; k <= 2 * MAX_SERIES_ROWS + 60; k++) {
      const utilities = Float64Array.from(promptIds, () => random() * 4 - 2);
      const selection: SelectionState = {
        type: "selection",
        studyId,
        requestId: k,
        voteCount: 20 * k,
        pairs: [],
        recommended: k % 5,
        utilities,
        uncertainties: utilities.map(() => random()),
        recommendationScores: utilities.map((u) => u - random()),
        fitMs: 0,
        selectMs: 0,
        interim: false,
      };
      const stats: StatisticsState = {
        type: "statistics",
        studyId,
        requestId: k,
        voteCount: 20 * k,
        arms: promptIds.map((_, arm) => ({
          arm,
          score: random() * 3,
          lower: -random(),
          upper: random() * 4,
          probabilityBest: random() / promptCount,
        })),
        leftWinRate: 0.5,
        converged: false,
        votesStillNeeded: 100,
        statsMs: 1,
      };
      writeSnapshot(studyId, "duet", promptIds, selection, stats);
      const rows = db().select({ n: count() }).from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).get()!.n;
      const withStatistics = db()
        .select({ voteCount: engineSnapshots.voteCount })
        .from(engineSnapshots)
        .where(ne(sql`${engineSnapshots.promptStats}`, "[]"))
        .all();
      expect(rows).toBeLessThanOrEqual(MAX_SERIES_ROWS);
      expect(withStatistics).toEqual([{ voteCount: 20 * k }]);
      const bytes = storageBytes();
      // Before ADR 0027 an emptied row kept its leaf page: ~1.2 MB here just before each thinning.
      expect(bytes).toBeLessThanOrEqual(bound);
      largest = Math.max(largest, bytes);
    }
    // The series was thinned (more writes than rows) and the statistics are what the last write said.
    expect(db().select({ n: count() }).from(engineSnapshots).get()!.n).toBeLessThan(2 * MAX_SERIES_ROWS + 60);
    expect(largest).toBeGreaterThan(0);
  });
});
