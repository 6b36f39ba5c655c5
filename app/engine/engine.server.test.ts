import { count, desc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { assignments, engineCheckpoints, engineSnapshots, prompts, queries, responses, studies, votes } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { assignNextPair, issueNextAssignment, withProposalRollback } from "~/engine/assign.server";
import { closeAllEngines, getStudyEngine } from "~/engine/engine.server";
import { backoffFactor, EventRate } from "~/engine/study-engine.server";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import { createAnnotator } from "~/models/membership.server";
import { whenReliabilityFitsIdle } from "~/models/reliability-thread.server";
import { recordVote } from "~/models/vote.server";

function demoStudyId() {
  return db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
}

function pairKey(a: number, b: number) {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** A seeded source so the annotators' side draws are reproducible. */
function seeded(seed: number) {
  let state = seed;
  return () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** An annotator who always prefers the response of `favourite` and otherwise the lower prompt id. */
function scriptedChoice(assignment: { promptAId: number; promptBId: number; leftIsA: boolean }, favourite: number) {
  const left = assignment.leftIsA ? assignment.promptAId : assignment.promptBId;
  const right = assignment.leftIsA ? assignment.promptBId : assignment.promptAId;
  if (left === favourite) return "left" as const;
  if (right === favourite) return "right" as const;
  return left < right ? ("left" as const) : ("right" as const);
}

describe("the engine drives pair assignment", () => {
  useTempAppDatabase();

  it("converges on the prompt a scripted annotator always prefers, within 80 votes", async () => {
    const studyId = demoStudyId();
    const promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((p) => p.id);
    const favourite = promptIds[6]!;
    const annotator = createAnnotator(db(), "Scripted");
    const random = seeded(7);
    const engine = getStudyEngine(studyId);
    let votesCast = 0;
    for (; votesCast < 80; votesCast++) {
      await engine.whenIdle();
      const assignment = assignNextPair(studyId, annotator.id, { random })!;
      recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: scriptedChoice(assignment, favourite), comment: null });
      engine.requestUpdate();
    }
    await engine.whenStatsCurrent();
    const latest = db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get()!;
    expect(latest.voteCount).toBe(votesCast);
    expect(latest.recommendedPromptId).toBe(favourite);
    expect(latest.policy).toBe("duet");
    const favouriteStats = latest.promptStats.find((s) => s.promptId === favourite)!;
    expect(favouriteStats.pBest).toBeGreaterThan(0.5);
    // After the warm-up the pairs came from the engine, not from the random fallback.
    const policies = db().select({ policy: assignments.policy }).from(assignments).where(eq(assignments.annotatorId, annotator.id)).all();
    expect(policies.filter((p) => p.policy === "duet").length).toBeGreaterThan(60);
  });

  it("does not take in a vote whose transaction rolls back", async () => {
    const studyId = demoStudyId();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    const committed = () => db().select({ n: count() }).from(votes).where(eq(votes.studyId, studyId)).get()!.n;
    const annotator = createAnnotator(db(), "Rolled back");
    const assignment = assignNextPair(studyId, annotator.id)!;
    // The clock moved past the engine's vote-reading throttle (Date only, no fake timers), so an
    // update inside the transaction would read the uncommitted vote if the engine did not wait.
    vi.setSystemTime(Date.now() + 60_000);
    try {
      expect(() =>
        db().transaction(() => {
          recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "left", comment: null });
          engine.requestUpdate();
          throw new Error("the commit fails");
        }),
      ).toThrow("the commit fails");
    } finally {
      vi.useRealTimers();
    }
    await Promise.resolve();
    await engine.whenIdle();
    expect(engine.round()).toBe(committed());
    // The vote cast again for real (it may reuse the rolled-back row id) is taken in.
    recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "left", comment: null });
    engine.requestUpdate();
    await engine.whenIdle();
    expect(engine.round()).toBe(committed());
  });

  it("puts back the proposals a rolled-back transaction claimed, so the engine's state follows SQLite", async () => {
    const studyId = demoStudyId();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    const open = () => Array.from(engine.openProposals(), ({ index }) => index);
    const before = open();
    expect(before.length).toBeGreaterThan(0);
    const annotator = createAnnotator(db(), "Rolled-back claim");
    const issued = () => db().select({ n: count() }).from(assignments).where(eq(assignments.annotatorId, annotator.id)).get()!.n;
    expect(() =>
      withProposalRollback(studyId, () =>
        db().transaction(() => {
          expect(issueNextAssignment(studyId, annotator.id)?.created).toBe(true);
          // Claimed inside the transaction: no one else may take it meanwhile.
          expect(open().length).toBeLessThan(before.length);
          throw new Error("the commit fails");
        }),
      ),
    ).toThrow("the commit fails");
    expect(issued()).toBe(0);
    expect(open()).toEqual(before);
    // Committed, the same claim stays taken.
    const assignment = assignNextPair(studyId, annotator.id)!;
    expect(issued()).toBe(1);
    expect(open().length).toBeLessThan(before.length);
    expect(assignment.policy).not.toBe("random");
  });

  it("gives K concurrent annotators K different pairs", async () => {
    const studyId = demoStudyId();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    const held = new Set<string>();
    for (let k = 0; k < 6; k++) {
      const annotator = createAnnotator(db(), `Concurrent ${k}`);
      const assignment = assignNextPair(studyId, annotator.id)!;
      held.add(pairKey(assignment.promptAId, assignment.promptBId));
    }
    expect(held.size).toBe(6);
  });

  it("rebuilds after a restart from SQLite alone: same vote count, same recommendation, no redundant snapshot", async () => {
    const studyId = demoStudyId();
    // Settled: the reliability fit the first snapshot asks for is stored, and its scales reached the engine (ADR 0044),
    // so what the rebuilt engine reads from SQLite is what this one ended with.
    const engine = getStudyEngine(studyId);
    for (let round = 0; round < 3; round++) {
      await engine.whenStatsCurrent();
      await whenReliabilityFitsIdle();
    }
    await engine.whenStatsCurrent();
    const before = db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get()!;
    // A crash saves nothing: the next engine learns from the votes alone.
    await closeAllEngines();
    db().delete(engineCheckpoints).run();
    const snapshotsBefore = db().select({ n: count() }).from(engineSnapshots).get()!.n;
    const rebuilt = getStudyEngine(studyId);
    await rebuilt.whenStatsCurrent();
    const decisiveVotes = db().select({ n: count() }).from(votes).where(eq(votes.studyId, studyId)).get()!.n;
    expect(rebuilt.round()).toBe(decisiveVotes);
    expect(rebuilt.selectionView()!.recommendedPromptId).toBe(before.recommendedPromptId);
    // The latest snapshot already covered every vote: nothing new to store.
    expect(db().select({ n: count() }).from(engineSnapshots).get()!.n).toBe(snapshotsBefore);
    expect(before.voteCount).toBe(decisiveVotes);
  });

  it("returns an abandoned pair to the pool once its assignment expires", async () => {
    // Three prompts and one query: exactly three possible duels.
    const study = db().insert(studies).values({ name: "three duels", task: "t", model: "m" }).returning().get();
    const settingsHash = generationSettingsHash(study);
    const query = db().insert(queries).values({ studyId: study.id, text: "q" }).returning().get();
    for (const text of ["first prompt", "second prompt", "third prompt"]) {
      const prompt = db()
        .insert(prompts)
        .values({ studyId: study.id, text, normalizedText: text, ...lexicalEmbedding(text) })
        .returning()
        .get();
      db()
        .insert(responses)
        .values({ promptId: prompt.id, queryId: query.id, settingsHash, content: `${text} answer`, status: "ready" })
        .run();
    }
    await getStudyEngine(study.id).whenIdle();
    const leaver = createAnnotator(db(), "Leaves");
    const abandoned = assignNextPair(study.id, leaver.id)!;
    const held = [createAnnotator(db(), "Holds one"), createAnnotator(db(), "Holds another")].map((annotator) => {
      const assignment = assignNextPair(study.id, annotator.id)!;
      return pairKey(assignment.promptAId, assignment.promptBId);
    });
    // While the leaver's assignment was still open, the other two got the two other duels...
    expect(new Set([pairKey(abandoned.promptAId, abandoned.promptBId), ...held]).size).toBe(3);
    // ...and once its time is up (only the leaver's clock runs out here), its duel is the one left to give.
    db()
      .update(assignments)
      .set({ expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(assignments.id, abandoned.id))
      .run();
    const arrives = assignNextPair(study.id, createAnnotator(db(), "Arrives").id)!;
    expect(db().select().from(assignments).where(eq(assignments.id, abandoned.id)).get()!.status).toBe("expired");
    expect(pairKey(arrives.promptAId, arrives.promptBId)).toBe(pairKey(abandoned.promptAId, abandoned.promptBId));
  });

  it("lets a prompt added to a running study join as a new arm, and shows it next", async () => {
    const studyId = demoStudyId();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    const text = "You are Lumen's support assistant. Answer in exactly two friendly sentences.";
    // Stored as the app stores a new prompt offline: with its lexical embedding.
    const added = db()
      .insert(prompts)
      .values({ studyId, text, normalizedText: text.toLowerCase(), source: "manual", ...lexicalEmbedding(text) })
      .returning()
      .get();
    const study = db().select().from(studies).where(eq(studies.id, studyId)).get()!;
    const settingsHash = generationSettingsHash(study);
    for (const query of db().select({ id: queries.id }).from(queries).where(eq(queries.studyId, studyId)).all()) {
      db()
        .insert(responses)
        .values({ promptId: added.id, queryId: query.id, settingsHash, content: `Two sentences for ${query.id}.`, status: "ready" })
        .run();
    }
    engine.requestUpdate();
    await engine.whenIdle();
    const proposed = engine.openProposals().next().value!.pair;
    expect([proposed.promptAId, proposed.promptBId]).toContain(added.id);
    const annotator = createAnnotator(db(), "Sees the newcomer");
    const assignment = assignNextPair(studyId, annotator.id)!;
    expect([assignment.promptAId, assignment.promptBId]).toContain(added.id);
  });

  it("keeps handing out the engine's pairs while a refit waits out its back-off, without refitting", async () => {
    const studyId = demoStudyId();
    // A fresh engine: no top-up scheduled on the real clock by an earlier test.
    await closeAllEngines();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    const annotator = createAnnotator(db(), "Waits for no refit");
    const random = seeded(3);
    const round = engine.round();
    const openCount = () => Array.from(engine.openProposals()).length;
    // The clock turned back ten minutes (Date only): the next refit is due ten minutes after the last one ran.
    vi.setSystemTime(Date.now() - 600_000);
    try {
      for (let k = 0; k < 30; k++) {
        // Without top-ups the first batch (8 pairs) runs out and stays empty until the refit.
        await vi.waitFor(() => expect(openCount()).toBeGreaterThan(0), { timeout: 60_000, interval: 5 });
        const assignment = assignNextPair(studyId, annotator.id, { random })!;
        expect(assignment.policy).toBe("duet");
        recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: random() < 0.5 ? "left" : "right", comment: null });
        engine.requestUpdate();
      }
      // The top-ups proposed on the fit the engine had: none of the 30 votes reached the policy yet.
      expect(engine.round()).toBe(round);
    } finally {
      vi.useRealTimers();
    }
    // The refit still waits on the clock that was turned back: the next test file starts its own engines.
    await closeAllEngines();
  });
});

describe("backoffFactor", () => {
  it("leaves the engine alone while requests are few and holds it back as the request thread fills up", () => {
    expect(backoffFactor(0)).toBe(1);
    expect(backoffFactor(0.2)).toBe(1);
    expect(backoffFactor(0.35)).toBeCloseTo(5.5);
    expect(backoffFactor(0.5)).toBe(10);
    expect(backoffFactor(1)).toBe(10);
  });
});

describe("EventRate", () => {
  it("reports the events per second of the last completed window, taking back events taken back", () => {
    const rate = new EventRate(2_000, 0);
    rate.add(10);
    // No window completed yet.
    expect(rate.perSecond(1_000)).toBe(0);
    expect(rate.perSecond(2_500)).toBe(4);
    rate.add(5);
    rate.add(-1);
    // The rate holds until the next window completes, then is that window's alone.
    expect(rate.perSecond(3_000)).toBe(4);
    expect(rate.perSecond(4_500)).toBe(2);
    expect(rate.perSecond(6_500)).toBe(0);
  });
});
