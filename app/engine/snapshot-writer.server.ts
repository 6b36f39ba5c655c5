import { desc, eq } from "drizzle-orm";
import { engineSnapshots, type PromptStat } from "../../db/schema";
import { db } from "~/db.server";
import type { SelectionState, StatisticsState } from "./protocol";

// Engine snapshots: what the dashboard shows of the engine (utility, uncertainty, BT interval,
// P(best), the stopping rule), written when the statistics for a selection arrive. The dashboard
// reads them without a running engine.

/** Vote count of the study's latest snapshot, or -1 without one. */
export function latestSnapshotVotes(studyId: number): number {
  return (
    db()
      .select({ voteCount: engineSnapshots.voteCount })
      .from(engineSnapshots)
      .where(eq(engineSnapshots.studyId, studyId))
      .orderBy(desc(engineSnapshots.id))
      .get()?.voteCount ?? -1
  );
}

/** Stores one snapshot pairing a selection (the policy's estimates) with the statistics computed for it. */
export function writeSnapshot(
  studyId: number,
  policy: string,
  armPromptIds: readonly number[],
  selection: SelectionState,
  stats: StatisticsState,
): void {
  const { utilities, uncertainties, recommended } = selection;
  const statsByArm = new Map(stats.arms.map((row) => [row.arm, row]));
  const promptStats: PromptStat[] = armPromptIds.map((promptId, arm) => {
    const row = statsByArm.get(arm);
    return {
      promptId,
      utility: utilities[arm] ?? 0,
      uncertainty: uncertainties[arm] ?? 0,
      pBest: row?.probabilityBest ?? 0,
      score: row?.score ?? 0,
      lower: row?.lower ?? 0,
      upper: row?.upper ?? 0,
    };
  });
  const recommendedPromptId = stats.voteCount > 0 ? (armPromptIds[recommended] ?? null) : null;
  db()
    .insert(engineSnapshots)
    .values({
      studyId,
      voteCount: stats.voteCount,
      policy,
      recommendedPromptId,
      pBest: statsByArm.get(recommended)?.probabilityBest ?? null,
      converged: stats.converged,
      votesStillNeeded: stats.votesStillNeeded,
      leftWinRate: stats.leftWinRate,
      promptStats,
    })
    .run();
}
