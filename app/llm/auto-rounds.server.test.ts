import { asc, desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, autoRounds, engineSnapshots, growthRounds, prompts, studies } from "../../db/schema";
import { useFakeProvider } from "../../tests/helpers/fake-provider";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { authorizeStudy, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { assignNextPair } from "~/engine/assign.server";
import { discardStudyEngine, getStudyEngine, selectionChanged } from "~/engine/engine.server";
import type { StudyEngine } from "~/engine/study-engine.server";
import { createAnnotator } from "~/models/membership.server";
import { recordVote } from "~/models/vote.server";
import { updateAutoRoundsAs } from "~/services/auto-rounds.server";
import { considerAutomaticRound, type AutoRoundsSettings } from "./auto-rounds.server";
import { planGrowth } from "./growth.server";
import { generationWorker, providerConfig, startGeneration, stopGeneration } from "./runtime.server";

// Issue 17 §3 below the HTTP layer: the app's own connection, engine and generation worker, the openai SDK against the
// fake OpenAI-compatible server. Every check waits for a state (the engine's statistics, the worker's idle queue).

const GROWTH_SYSTEM_MARK = "You improve system prompts for an AI assistant from human preference votes.";

describe("automatic rounds", () => {
  useTempAppDatabase();
  const fakeServer = useFakeProvider({
    // 14 queries: 3 new prompts (42 responses) pass, 4 (56) would need a confirmation.
    CONFIRM_RESPONSES_ABOVE: "50",
    CONFIRM_COST_ABOVE_USD: "100",
    ENGINE_SELECTION_BUDGET_MS: "600000",
  });

  let access: StudyAccess;
  let studyId: number;
  let engine: StudyEngine;
  const annotatorIds: number[] = [];
  let favourite = 0;
  let voteNumber = 0;
  let decisive = 0;

  /**
   * One scripted vote, noisy so the stopping rule does not fire in these few hundred votes: the favourite wins 80% of its
   * duels, other pairs are a coin toss (a fixed sequence); every fifth vote is "both bad" (not decisive).
   */
  function castVote(annotatorId: number): boolean {
    const assignment = assignNextPair(studyId, annotatorId);
    if (!assignment) return false;
    const left = assignment.leftIsA ? assignment.promptAId : assignment.promptBId;
    const right = assignment.leftIsA ? assignment.promptBId : assignment.promptAId;
    const round = voteNumber++;
    const coin = ((round * 2654435761) >>> 0) / 2 ** 32;
    const leftWins = left === favourite ? coin < 0.8 : right === favourite ? coin >= 0.8 : coin < 0.5;
    const choice = round % 5 === 4 ? "both_bad" : leftWins ? "left" : "right";
    if (choice !== "both_bad") decisive++;
    recordVote(studyId, annotatorId, { assignmentId: assignment.id, choice, comment: null });
    return true;
  }

  /**
   * Votes `perSnapshot` at a time, each batch followed by a snapshot (the check runs after each), until `until` holds or
   * `limit` votes. One vote a snapshot where a test checks exactly when a round was queued; more elsewhere, since each
   * snapshot refits the engine and its bootstrap (the cost of these tests on a loaded machine).
   */
  async function voteUntil(until: () => boolean, { limit = 400, perSnapshot = 1 } = {}): Promise<void> {
    for (let k = 0; k < limit && !until();) {
      await engine.whenIdle();
      for (let j = 0; j < perSnapshot; j++, k++) expect(castVote(annotatorIds[k % annotatorIds.length]!)).toBe(true);
      engine.requestUpdate();
      await engine.whenStatsCurrent();
      await generationWorker()!.whenIdle();
    }
    expect(until()).toBe(true);
  }

  const rounds = () => db().select().from(autoRounds).where(eq(autoRounds.studyId, studyId)).orderBy(asc(autoRounds.id)).all();
  const study = () => db().select().from(studies).where(eq(studies.id, studyId)).get()!;
  const settings = (overrides: Partial<AutoRoundsSettings>): AutoRoundsSettings => ({
    autoRoundEvery: 20,
    autoRoundCount: 4,
    autoRoundParents: 2,
    autoRoundStableVotes: 5,
    autoRoundMaxRounds: 5,
    autoRoundMaxPrompts: null,
    autoRoundMaxCostUsd: null,
    ...overrides,
  });

  it("queues a round at the first crossing of N decisive votes with a stable leader, within the confirmation threshold and the prompt budget, and stops at that budget", async () => {
    const owner = await signedInOwner();
    studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    access = authorizeStudy(owner.actor, studyId, "study:edit");
    favourite = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).all()[6]!.id;
    for (const name of ["A", "B", "C", "D"]) annotatorIds.push(createAnnotator(db(), name).id);
    // The loop's own stop is under test here, not the study's closing on convergence.
    db().update(studies).set({ closeOnConvergence: false }).where(eq(studies.id, studyId)).run();
    startGeneration();
    engine = getStudyEngine(studyId);
    expect(updateAutoRoundsAs(access, settings({ autoRoundMaxPrompts: 4 }))).toBeNull();

    await voteUntil(() => rounds().length === 1);
    const [first] = rounds();
    // The check ran after every vote: nothing before 20 decisive votes, and the round names the threshold it crossed.
    expect(first!.thresholdVotes % 20).toBe(0);
    expect(first!.thresholdVotes).toBeGreaterThanOrEqual(20);
    expect(first!.decisiveVotes).toBeGreaterThanOrEqual(first!.thresholdVotes);
    expect(first!.decisiveVotes).toBeLessThan(first!.thresholdVotes + 20);
    expect(first!.decisiveVotes).toBeLessThanOrEqual(decisive);
    expect(first!.voteCount - first!.leaderSinceVotes).toBeGreaterThanOrEqual(5);
    expect(first!.leaderPromptId).not.toBeNull();
    // 4 asked, 3 queued: 4 x 14 responses would need a person's confirmation.
    expect(first!.count).toBe(3);
    expect(first!.note).toMatch(/3 of 4 prompts.*confirmation threshold/);

    // The same growth round as the owner's (ADR 0024): the fake server got 3 mutation requests, the children joined.
    await generationWorker()!.whenIdle();
    const growth = db().select().from(growthRounds).where(eq(growthRounds.id, first!.growthRoundId!)).get()!;
    expect(growth).toMatchObject({ state: "succeeded", count: 3, requestedBy: { userId: null, label: "automatic rounds" } });
    expect(growth.result!.added).toHaveLength(3);
    expect(growth.joinedAtVotes).toBeGreaterThanOrEqual(first!.voteCount);
    expect(fakeServer().requests.filter((request) => JSON.stringify(request.body.messages).includes(GROWTH_SYSTEM_MARK))).toHaveLength(3);
    const audit = db().select().from(auditLog).where(eq(auditLog.action, "auto_round.queued")).all();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: "automatic rounds", actorUserId: null });

    // The next crossing: one prompt left in the budget of 4.
    await voteUntil(() => rounds().length === 2);
    expect(rounds()[1]!).toMatchObject({ count: 1, thresholdVotes: expect.any(Number) as number });
    expect(rounds()[1]!.thresholdVotes).toBeGreaterThan(first!.thresholdVotes);
    await voteUntil(() => study().autoRoundsStoppedAt !== null);
    expect(study().autoRoundsStopReason).toBe("its budget of 4 prompts is spent");
    expect(rounds()).toHaveLength(2);
  });

  it("stops at its budget of rounds, and of cost, shrinking a round to the cost left", async () => {
    // Saving clears the stop; the two rounds so far count towards the budgets.
    expect(updateAutoRoundsAs(access, settings({ autoRoundCount: 3, autoRoundMaxRounds: 3 }))).toBeNull();
    await voteUntil(() => rounds().length === 3, { perSnapshot: 4 });
    await voteUntil(() => study().autoRoundsStoppedAt !== null, { perSnapshot: 4 });
    expect(study().autoRoundsStopReason).toBe("its budget of 3 rounds is spent");

    const spent = rounds().reduce((sum, row) => sum + row.estimatedCostUsd!, 0);
    const costOfThree = planGrowth(db(), studyId, 3, 2, providerConfig())!.plan.costUsd!;
    expect(costOfThree).toBeGreaterThan(0);
    const budget = Number((spent + 1.5 * costOfThree).toFixed(4));
    expect(updateAutoRoundsAs(access, settings({ autoRoundCount: 3, autoRoundMaxRounds: 10, autoRoundMaxCostUsd: budget }))).toBeNull();
    await voteUntil(() => rounds().length === 4, { perSnapshot: 4 });
    expect(rounds()[3]!.count).toBe(3);
    // The fifth round gets what half a round of three leaves: fewer prompts, never past the budget.
    await voteUntil(() => rounds().length === 5 || study().autoRoundsStoppedAt !== null, { perSnapshot: 4 });
    const total = rounds().reduce((sum, row) => sum + row.estimatedCostUsd!, 0);
    expect(total).toBeLessThanOrEqual(budget);
    if (rounds().length === 5) {
      expect(rounds()[4]!.count).toBeLessThan(3);
      await voteUntil(() => study().autoRoundsStoppedAt !== null, { perSnapshot: 4 });
    }
    expect(study().autoRoundsStopReason).toMatch(/cost budget|budget of \$/);
  });

  it("stops when the stopping rule fires and the last round found no better prompt, and keeps going when it did", async () => {
    expect(updateAutoRoundsAs(access, settings({ autoRoundCount: 1, autoRoundMaxRounds: 50 }))).toBeNull();
    const last = rounds().at(-1)!;
    const lastAdded = db().select().from(growthRounds).where(eq(growthRounds.id, last.growthRoundId!)).get()!.result!.added;
    const facts = { voteCount: last.voteCount, decisiveVotes: last.thresholdVotes, converged: true, recommendedComparisons: 40 };
    // A child of the last round leads: the loop is still active (it holds the study open) and queues nothing new here.
    expect(considerAutomaticRound(studyId, { ...facts, recommendedPromptId: lastAdded[0]! })).toMatchObject({ kind: "waiting", holdsClosure: true });
    expect(study().autoRoundsStoppedAt).toBeNull();
    // An older prompt leads: the last round found nothing better, the loop stops and lets the study close.
    expect(considerAutomaticRound(studyId, { ...facts, recommendedPromptId: favourite })).toMatchObject({ kind: "stopped", holdsClosure: false });
    expect(study().autoRoundsStopReason).toMatch(/^the stopping rule fired at \d+ votes and the last round found no better prompt$/);
    expect(db().select().from(auditLog).where(eq(auditLog.action, "auto_rounds.stopped")).all().length).toBeGreaterThanOrEqual(4);
  });

  it("queues one round per crossing under concurrent votes and when the check runs twice", async () => {
    expect(updateAutoRoundsAs(access, settings({ autoRoundCount: 1, autoRoundMaxRounds: 50 }))).toBeNull();
    const before = rounds().length;
    const nextThreshold = rounds().at(-1)!.thresholdVotes + 20;
    // Bursts of votes from every annotator at once, the engine told after each burst: many snapshots may see the crossing.
    for (let burst = 0; burst < 40 && rounds().length === before; burst++) {
      await engine.whenIdle();
      await Promise.all(
        annotatorIds.map(async (annotatorId) => {
          castVote(annotatorId);
          engine.requestUpdate();
        }),
      );
      await engine.whenStatsCurrent();
    }
    expect(rounds()).toHaveLength(before + 1);
    const queued = rounds().at(-1)!;
    expect(queued.thresholdVotes).toBeGreaterThanOrEqual(nextThreshold);
    // The same facts checked again (a second snapshot of the same votes): nothing more.
    const again = considerAutomaticRound(studyId, {
      voteCount: queued.voteCount,
      decisiveVotes: queued.decisiveVotes,
      converged: false,
      recommendedPromptId: queued.leaderPromptId,
      recommendedComparisons: 40,
    });
    expect(again.kind).toBe("waiting");
    await generationWorker()!.whenIdle();
    const afterRun = considerAutomaticRound(studyId, {
      voteCount: queued.voteCount,
      decisiveVotes: queued.decisiveVotes,
      converged: false,
      recommendedPromptId: queued.leaderPromptId,
      recommendedComparisons: 40,
    });
    expect(afterRun).toMatchObject({ kind: "waiting", reason: `next round at ${queued.thresholdVotes + 20} decisive votes` });
    expect(rounds()).toHaveLength(before + 1);
    const thresholds = rounds().map((row) => row.thresholdVotes);
    expect(new Set(thresholds).size).toBe(thresholds.length);
  });

  it("survives a restart: the rebuilt engine does not repeat a crossing and fires at the next", async () => {
    const before = rounds();
    await discardStudyEngine(studyId);
    await stopGeneration();
    startGeneration();
    engine = getStudyEngine(studyId);
    // A snapshot of the same votes from the rebuilt engine (which counts every decisive vote again): the crossing it
    // sees is recorded in SQLite, so nothing is queued twice.
    const lastSnapshot = () => db().select({ id: engineSnapshots.id }).from(engineSnapshots).orderBy(desc(engineSnapshots.id)).get()!.id;
    const snapshotBefore = lastSnapshot();
    selectionChanged(studyId);
    await engine.whenStatsCurrent();
    expect(lastSnapshot()).toBeGreaterThan(snapshotBefore);
    expect(rounds()).toHaveLength(before.length);
    await voteUntil(() => rounds().length === before.length + 1, { perSnapshot: 4 });
    const next = rounds().at(-1)!;
    expect(next.thresholdVotes % 20).toBe(0);
    expect(next.thresholdVotes).toBeGreaterThan(before.at(-1)!.thresholdVotes);
  });
});
