import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineCheckpoints, prompts, queries, responses, studies } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { assignNextPair } from "~/engine/assign.server";
import { closeAllEngines, enginePoolStats, engineStatus, getStudyEngine, stopStudyEngine } from "~/engine/engine.server";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import { createAnnotator } from "~/models/membership.server";
import { recordVote } from "~/models/vote.server";

// The engine pool (issue 14): engines stop when idle, give their threads and memory back, and start
// again from SQLite in exactly the state they stopped in; at most ENGINE_MAX_LOADED run at once.

const POOL_VARIABLES = ["ENGINE_MAX_LOADED", "ENGINE_IDLE_SECONDS", "ENGINE_THREADS"] as const;
const saved = Object.fromEntries(POOL_VARIABLES.map((name) => [name, process.env[name]]));

async function configurePool(settings: Partial<Record<(typeof POOL_VARIABLES)[number], string>>) {
  await closeAllEngines();
  for (const name of POOL_VARIABLES) {
    if (settings[name] === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = settings[name];
  }
}

afterAll(async () => {
  await closeAllEngines();
  for (const name of POOL_VARIABLES) if (saved[name] !== undefined) process.env[name] = saved[name];
});

/** A study of `promptCount` prompts and one query, every response ready. */
function smallStudy(name: string, promptCount = 4) {
  const study = db().insert(studies).values({ name, task: "t", model: "m" }).returning().get();
  const settingsHash = generationSettingsHash(study);
  const query = db()
    .insert(queries)
    .values({ studyId: study.id, text: `${name} question` })
    .returning()
    .get();
  for (let k = 0; k < promptCount; k++) {
    const text = `${name} prompt number ${k} answers ${"briefly ".repeat(k)}`;
    const prompt = db()
      .insert(prompts)
      .values({ studyId: study.id, text, normalizedText: text, ...lexicalEmbedding(text) })
      .returning()
      .get();
    db()
      .insert(responses)
      .values({ promptId: prompt.id, queryId: query.id, settingsHash, content: `answer ${k}`, status: "ready" })
      .run();
  }
  return study.id;
}

/**
 * Two selection states are the same: equal estimates, recommendation and vote count, and the same
 * proposals — up to the point where one batch was cut short by its time budget (a busy machine
 * proposes fewer pairs in 150 ms; the order the policy picks them in does not change).
 */
function expectSameSelection(actual: SelectionView, expected: SelectionView) {
  const { pairs: actualPairs, ...actualRest } = actual;
  const { pairs: expectedPairs, ...expectedRest } = expected;
  expect(actualRest).toEqual(expectedRest);
  const common = Math.min(actualPairs.length, expectedPairs.length);
  expect(common).toBeGreaterThan(0);
  expect(actualPairs.slice(0, common)).toEqual(expectedPairs.slice(0, common));
}

type SelectionView = NonNullable<ReturnType<ReturnType<typeof getStudyEngine>["selectionView"]>>;

/** Votes `times` times through the real assignment path, the lower prompt id always winning, waiting for the engine between votes. */
async function vote(studyId: number, times: number) {
  const annotator = createAnnotator(db(), `Voter ${studyId}`);
  for (let k = 0; k < times; k++) {
    await getStudyEngine(studyId).whenIdle();
    const assignment = assignNextPair(studyId, annotator.id)!;
    const leftId = assignment.leftIsA ? assignment.promptAId : assignment.promptBId;
    const rightId = assignment.leftIsA ? assignment.promptBId : assignment.promptAId;
    recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: leftId < rightId ? "left" : "right", comment: null });
    getStudyEngine(studyId).requestUpdate();
  }
  await getStudyEngine(studyId).whenStatsCurrent();
}

describe("the engine pool", () => {
  useTempAppDatabase();
  beforeAll(() => configurePool({ ENGINE_IDLE_SECONDS: "3600" }));

  it("stops an engine (threads released, state saved) and starts it again in exactly the selection state it stopped in", async () => {
    const studyId = smallStudy("Resume", 6);
    await vote(studyId, 14);
    const before = getStudyEngine(studyId).selectionView()!;
    expect(before.voteCount).toBe(14);

    await stopStudyEngine(studyId);
    expect(engineStatus(studyId)).toEqual({ state: "stopped" });
    expect(enginePoolStats()).toMatchObject({ running: 0, threads: 0 });
    expect(db().select().from(engineCheckpoints).where(eq(engineCheckpoints.studyId, studyId)).get()).toMatchObject({
      voteCount: 14,
      policy: "duet",
    });

    const resumed = getStudyEngine(studyId);
    await resumed.whenIdle();
    expectSameSelection(resumed.selectionView()!, before);
    // And it goes on learning: the next votes are taken in as usual.
    await vote(studyId, 3);
    expect(getStudyEngine(studyId).round()).toBe(17);
  });

  it("rebuilds from the votes alone when no state was saved, the same way every time", async () => {
    const studyId = smallStudy("Rebuild", 5);
    await vote(studyId, 10);
    const rebuild = async () => {
      await closeAllEngines();
      db().delete(engineCheckpoints).where(eq(engineCheckpoints.studyId, studyId)).run();
      const engine = getStudyEngine(studyId);
      await engine.whenIdle();
      return engine.selectionView()!;
    };
    const first = await rebuild();
    expect(first.voteCount).toBe(10);
    expectSameSelection(await rebuild(), first);
  });

  it("ignores a saved state the study no longer fits (a prompt gone) and learns from the votes instead", async () => {
    const studyId = smallStudy("Outdated", 4);
    await vote(studyId, 6);
    await stopStudyEngine(studyId);
    const checkpoint = db().select().from(engineCheckpoints).where(eq(engineCheckpoints.studyId, studyId)).get()!;
    db()
      .update(engineCheckpoints)
      .set({ armPromptIds: [...checkpoint.armPromptIds].reverse() })
      .where(eq(engineCheckpoints.studyId, studyId))
      .run();
    const engine = getStudyEngine(studyId);
    await engine.whenIdle();
    expect(engine.round()).toBe(6);
  });
});

describe("the engine pool's bounds", () => {
  useTempAppDatabase();

  it("runs at most ENGINE_MAX_LOADED engines; a study over the cap gets random pairs, then its turn once others go idle; idle engines free every thread", async () => {
    await configurePool({ ENGINE_MAX_LOADED: "2", ENGINE_IDLE_SECONDS: "1", ENGINE_THREADS: "2" });
    const [first, second, third] = [smallStudy("Cap one"), smallStudy("Cap two"), smallStudy("Cap three")];
    await getStudyEngine(first).whenIdle();
    await getStudyEngine(second).whenIdle();
    getStudyEngine(third);
    expect(engineStatus(third)).toEqual({ state: "waiting", position: 1 });
    expect(enginePoolStats().threads).toBeLessThanOrEqual(2);
    const assignment = assignNextPair(third, createAnnotator(db(), "Over the cap").id)!;
    expect(assignment.policy).toBe("random");

    // Nobody uses the first two any more: they stop, the third runs, then it too goes idle.
    await expect.poll(() => engineStatus(third).state, { timeout: 60_000, interval: 100 }).toBe("running");
    await expect.poll(() => enginePoolStats(), { timeout: 60_000, interval: 100 }).toMatchObject({ running: 0, waiting: 0, threads: 0 });
    expect(db().select({ n: count() }).from(engineCheckpoints).get()!.n).toBeGreaterThanOrEqual(2);
  });

  it("gives a waiting study its turn even while every running engine stays busy", async () => {
    await configurePool({ ENGINE_MAX_LOADED: "1", ENGINE_IDLE_SECONDS: "1" });
    const [busy, patient] = [smallStudy("Always busy"), smallStudy("Patient")];
    await getStudyEngine(busy).whenIdle();
    getStudyEngine(patient);
    expect(engineStatus(patient).state).toBe("waiting");
    const keepBusy = setInterval(() => getStudyEngine(busy), 50);
    try {
      await expect.poll(() => engineStatus(patient).state, { timeout: 60_000, interval: 100 }).toBe("running");
    } finally {
      clearInterval(keepBusy);
    }
  });
});
