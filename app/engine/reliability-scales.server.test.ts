import { desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { annotators, engineSnapshots, prompts, queries, studies } from "../../db/schema";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { discardStudyEngine, getStudyEngine, stopStudyEngine } from "~/engine/engine.server";
import { readVoteModel } from "~/models/vote-model.server";
import { whenReliabilityFitsIdle } from "~/models/reliability-thread.server";

// Four prompts, 0 < 1 < 2 < 3 (the higher the better). Three honest annotators pick the higher prompt of each of the
// six pairs four times (72 votes); with `adversary`, a fourth picks the lower one, six times on the pairs of prompt 0
// (the one it pushes) and twice on the others (24 votes, a quarter). Sides alternate.
function setUp(adversary: boolean): { studyId: number; promptIds: number[] } {
  const study = db().insert(studies).values({ name: "Crowd", task: "t", model: "m" }).returning().get();
  const promptIds = ["a short answer", "a longer answer", "a careful answer", "the best answer"].map(
    (text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).returning().get().id,
  );
  db().insert(queries).values({ studyId: study.id, text: "q" }).run();
  const log: SeededVote[] = [];
  let minute = 0;
  const vote = (annotator: string, low: number, high: number, pick: number, repeats: number) => {
    for (let repeat = 0; repeat < repeats; repeat++) {
      const leftIsA = (repeat + low + high + minute) % 2 === 0;
      const left = leftIsA ? low : high;
      log.push({
        annotator,
        promptA: low,
        promptB: high,
        query: 0,
        leftIsA,
        choice: pick === left ? "left" : "right",
        at: new Date(Date.UTC(2026, 10, 1, 10, minute++)),
      });
    }
  };
  for (let low = 0; low < 4; low++)
    for (let high = low + 1; high < 4; high++) {
      for (const honest of ["Ann", "Ben", "Cal"]) vote(honest, low, high, high, 4);
      if (adversary) vote("Dee", low, high, low, low === 0 ? 6 : 2);
    }
  seedVotes(db(), study.id, log);
  return { studyId: study.id, promptIds };
}

/** The engine's view once its reliability fit is stored and applied (nothing left to refit, snapshot or fit). */
async function settled(studyId: number) {
  const engine = getStudyEngine(studyId);
  for (let round = 0; round < 3; round++) {
    await engine.whenStatsCurrent();
    await whenReliabilityFitsIdle();
  }
  await engine.whenIdle();
  return engine.selectionView()!;
}

const latestSnapshot = (studyId: number) =>
  db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get()!;

describe("the engine weighs each vote by its annotator's reliability (docs/decisions/0044)", () => {
  useTempAppDatabase();

  it("an adversary's votes move the engine less once the stored fit's scales reach it; a restart resumes there", async () => {
    const honest = setUp(false);
    const { studyId, promptIds } = setUp(true);
    // u(best) - u(the adversary's prompt): how far the engine holds the adversary's prompt below the best one.
    const gap = (view: { utilities: Record<number, number | undefined> }, ids: number[]) => view.utilities[ids[3]!]! - view.utilities[ids[0]!]!;
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    // Before any reliability fit every vote counts 1: the adversary pulls its prompt up towards the best.
    const unscaled = engine.selectionView()!;
    expect(unscaled.voteCount).toBe(96);
    const reference = await settled(honest.studyId);
    expect(reference.recommendedPromptId).toBe(honest.promptIds[3]);
    expect(gap(unscaled, promptIds)).toBeLessThan(gap(reference, honest.promptIds));
    // Once the fit is stored the engine refits with the scales, past votes included: the adversary's count reversed.
    const scaled = await settled(studyId);
    const voteModel = readVoteModel(studyId);
    const scales = voteModel.annotatorScales;
    // seedVotes made each study its own annotators: this study's are the later ones.
    const idOf = (name: string) =>
      db().select({ id: annotators.id }).from(annotators).where(eq(annotators.displayName, name)).orderBy(desc(annotators.id)).get()!.id;
    expect(scales.get(idOf("Dee"))!).toBeLessThan(-0.5);
    // Only a flagged annotator is scaled (ADR 0047): the honest ones count 1 exactly.
    for (const name of ["Ann", "Ben", "Cal"]) expect(scales.get(idOf(name))).toBe(1);
    expect(scaled.voteCount).toBe(96);
    expect(scaled.recommendedPromptId).toBe(promptIds[3]);
    // How far the adversary moved the engine from the honest annotators' engine: less with the scales.
    const moved = (view: typeof scaled) => gap(reference, honest.promptIds) - gap(view, promptIds);
    expect(moved(scaled)).toBeLessThan(moved(unscaled));
    // The snapshot (the dashboard's recommendation) says so too.
    expect(latestSnapshot(studyId).recommendedPromptId).toBe(promptIds[3]);

    // Stopped (its state saved with the scales) and started again from SQLite: exactly where it was.
    await stopStudyEngine(studyId);
    const restarted = getStudyEngine(studyId);
    await restarted.whenIdle();
    expect(restarted.selectionView()).toEqual(scaled);

    // Rebuilt from the votes alone (no saved state): the same scales, the same recommendation.
    await discardStudyEngine(studyId);
    await whenReliabilityFitsIdle();
    expect(readVoteModel(studyId)).toEqual(voteModel);
    const rebuilt = await settled(studyId);
    expect(rebuilt.recommendedPromptId).toBe(promptIds[3]);
  });

  it("a crowd that favours the left response: the stored fit's side term reaches the engine and survives a restart (ADR 0048)", async () => {
    // Four prompts; three annotators answer each pair eight times, sides alternating: the higher prompt of a distant
    // pair, but whichever is on the left of two neighbours (a lean the crowd fit measures as gamma).
    const study = db().insert(studies).values({ name: "Lean", task: "t", model: "m" }).returning().get();
    ["one", "two", "three", "four"].forEach((text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).run());
    db().insert(queries).values({ studyId: study.id, text: "q" }).run();
    const log: SeededVote[] = [];
    let minute = 0;
    for (let low = 0; low < 4; low++)
      for (let high = low + 1; high < 4; high++)
        for (const annotator of ["Ann", "Ben", "Cal"])
          for (let repeat = 0; repeat < 8; repeat++) {
            const leftIsA = repeat % 2 === 0;
            const choice = high - low === 1 ? "left" : leftIsA ? "right" : "left";
            log.push({ annotator, promptA: low, promptB: high, query: 0, leftIsA, choice, at: new Date(Date.UTC(2026, 10, 2, 10, minute++)) });
          }
    seedVotes(db(), study.id, log);
    const engine = getStudyEngine(study.id);
    await engine.whenIdle();
    const unsided = engine.selectionView()!;
    const sided = await settled(study.id);
    const voteModel = readVoteModel(study.id);
    expect(voteModel.sideTerm).toBeGreaterThan(0.5);
    expect([...voteModel.annotatorScales.values()].every((scale) => scale === 1)).toBe(true);
    expect(sided.voteCount).toBe(144);
    expect(sided.utilities).not.toEqual(unsided.utilities);

    // Stopped (its state saved with the side term) and started again from SQLite: exactly where it was.
    await stopStudyEngine(study.id);
    const restarted = getStudyEngine(study.id);
    await restarted.whenIdle();
    expect(restarted.selectionView()).toEqual(sided);
  });
});
