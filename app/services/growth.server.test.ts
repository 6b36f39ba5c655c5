import { and, desc, eq, isNotNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { engineSnapshots, growthRounds, prompts, queries, responses, studies } from "../../db/schema";
import { useFakeProvider } from "../../tests/helpers/fake-provider";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { authorizeStudy, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { assignNextPair } from "~/engine/assign.server";
import { getStudyEngine } from "~/engine/engine.server";
import type { StudyEngine } from "~/engine/study-engine.server";
import { prepareExport } from "~/export/formats.server";
import { generationWorker, startGeneration } from "~/llm/runtime.server";
import { createAnnotator } from "~/models/membership.server";
import { recordVote } from "~/models/vote.server";
import { growPoolAs, setItemActiveAs, updateRetirementAs } from "./studies.server";

// Issue 17 §1–2 and issue 15 §5 end to end below the HTTP layer: the app's own connection and engine, the real
// generation worker and the openai SDK against the fake OpenAI-compatible server.

const GROWTH_SYSTEM_MARK = "You improve system prompts for an AI assistant from human preference votes.";

describe("growing the pool, leaving selection, retiring", () => {
  useTempAppDatabase();
  const fakeServer = useFakeProvider({
    CONFIRM_RESPONSES_ABOVE: "10",
    // Batches are never cut short by the clock, so the engine's pairs depend on the votes alone, not on the machine's load.
    ENGINE_SELECTION_BUDGET_MS: "600000",
  });

  let access: StudyAccess;
  let studyId: number;
  let engine: StudyEngine;
  const annotatorIds: number[] = [];
  let favourite = 0;

  /** One scripted vote: the favourite wins, else the lower prompt id; every fifth vote is "both bad"; each carries a comment. */
  async function vote(round: number): Promise<{ promptAId: number; promptBId: number }> {
    await engine.whenIdle();
    const annotatorId = annotatorIds[round % annotatorIds.length]!;
    const assignment = assignNextPair(studyId, annotatorId)!;
    const left = assignment.leftIsA ? assignment.promptAId : assignment.promptBId;
    const right = assignment.leftIsA ? assignment.promptBId : assignment.promptAId;
    const choice = round % 5 === 4 ? "both_bad" : left === favourite || (right !== favourite && left < right) ? "left" : "right";
    recordVote(studyId, annotatorId, { assignmentId: assignment.id, choice, comment: `comment ${round} on ${choice}` });
    engine.requestUpdate();
    return assignment;
  }

  it("sends the leaders, their records and the annotators' comments, confirms the cost, stores lineage, and the new prompts join the running engine", async () => {
    const owner = await signedInOwner();
    studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    access = authorizeStudy(owner.actor, studyId, "study:edit");
    const ids = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).all();
    favourite = ids[6]!.id;
    for (const name of ["A", "B", "C"]) annotatorIds.push(createAnnotator(db(), name).id);
    startGeneration();
    engine = getStudyEngine(studyId);
    for (let round = 0; round < 40; round++) await vote(round);
    await engine.whenStatsCurrent();

    const disabledQuery = db().select({ id: queries.id }).from(queries).where(eq(queries.studyId, studyId)).orderBy(queries.id).get()!.id;
    expect(setItemActiveAs(access, { kind: "query", id: disabledQuery, active: false })).toBe(true);

    // 3 prompts x 13 enabled queries = 39 responses, above CONFIRM_RESPONSES_ABOVE=10: a person confirms first.
    const unconfirmed = growPoolAs(access, { count: 3, parents: 2, confirmed: false });
    expect(unconfirmed).toMatchObject({ ok: false, confirm: true });
    expect("description" in unconfirmed && unconfirmed.description).toMatch(/^3 mutation calls to gpt-4o-mini, then: .*\(39 new\)/);
    expect(db().select().from(growthRounds).all()).toHaveLength(0);
    const grown = growPoolAs(access, { count: 3, parents: 2, confirmed: true });
    if (!grown.ok) throw new Error(JSON.stringify(grown));
    await generationWorker()!.whenIdle();

    // What the fake server received: three mutation requests carrying both leaders, with their records and comments.
    const growthRequests = fakeServer().requests.filter((request) => JSON.stringify(request.body.messages).includes(GROWTH_SYSTEM_MARK));
    expect(growthRequests).toHaveLength(3);
    const round = db().select().from(growthRounds).where(eq(growthRounds.id, grown.roundId)).get()!;
    expect(round.parents.map((parent) => parent.promptId)).toEqual(grown.parents);
    expect(round.parents[0]!.promptId).toBe(favourite);
    for (const request of growthRequests) {
      const user = (request.body.messages as { role: string; content: string }[]).find((message) => message.role === "user")!.content;
      expect(user).toContain(round.instruction);
      for (const parent of round.parents) {
        const text = db().select({ text: prompts.text }).from(prompts).where(eq(prompts.id, parent.promptId)).get()!.text;
        expect(user).toContain(text);
        expect(user).toContain(`Prompt #${parent.promptId}, rank ${parent.rank}: ${parent.wins} wins, ${parent.losses} losses, ${parent.ties} ties`);
      }
      // The second leader lost to the favourite with a comment, and took part in both-bad votes.
      expect(user).toMatch(/- "comment \d+ on (left|right)"/);
      expect(user).toMatch(/- "comment \d+ on both_bad"/);
    }
    expect(round.instruction).not.toMatch(/comment \d+ on tie/);

    // Lineage: parent, generation, round (instruction and model), as mutated prompts with responses for enabled queries only.
    const children = db().select().from(prompts).where(eq(prompts.growthRoundId, round.id)).orderBy(prompts.id).all();
    expect(children).toHaveLength(3);
    expect(round).toMatchObject({ state: "succeeded", model: "gpt-4o-mini" });
    expect(round.result!.added).toEqual(children.map((child) => child.id));
    children.forEach((child, index) => {
      expect(child).toMatchObject({ source: "mutated", generation: 1, parentIds: [round.parents[index % 2]!.promptId] });
      const ready = db().select({ queryId: responses.queryId }).from(responses).where(eq(responses.promptId, child.id)).all();
      expect(ready).toHaveLength(13);
      expect(ready.map((row) => row.queryId)).not.toContain(disabledQuery);
    });

    // Dedup after normalisation against the whole study: the same answer again (in other case and spacing) adds nothing.
    fakeServer().setChatReply((system, user) =>
      system.includes(GROWTH_SYSTEM_MARK) ? `  ${children[0]!.text.toUpperCase()}  ` : `Answer to ${user}`,
    );
    const again = growPoolAs(access, { count: 1, parents: 1, confirmed: true });
    if (!again.ok) throw new Error(JSON.stringify(again));
    await generationWorker()!.whenIdle();
    fakeServer().setChatReply(null);
    expect(db().select().from(growthRounds).where(eq(growthRounds.id, again.roundId)).get()!.result).toEqual({
      added: [],
      duplicates: 1,
      failures: 0,
    });

    // The running engine (the same object: no restart) has them as arms, and they get pairs.
    expect(getStudyEngine(studyId)).toBe(engine);
    engine.requestUpdate();
    await engine.whenIdle();
    const utilities = engine.selectionView()!.utilities;
    for (const child of children) expect(utilities).toHaveProperty(String(child.id));
    const served = new Set<number>();
    for (let k = 40; k < 70 && children.some((child) => !served.has(child.id)); k++) {
      const pair = await vote(k);
      served.add(pair.promptAId).add(pair.promptBId);
    }
    for (const child of children) expect(served.has(child.id)).toBe(true);
  });

  it("takes a disabled prompt out of the running engine and the recommendation, keeps its votes, and marks it in exports", async () => {
    await engine.whenStatsCurrent();
    const latest = () => db().select().from(engineSnapshots).where(eq(engineSnapshots.studyId, studyId)).orderBy(desc(engineSnapshots.id)).get()!;
    expect(latest().recommendedPromptId).toBe(favourite);
    expect(setItemActiveAs(access, { kind: "prompt", id: favourite, active: false })).toBe(true);
    await engine.whenIdle();
    expect(engine.selectionView()!.recommendedPromptId).not.toBe(favourite);
    for (const [a, b] of engine.selectionView()!.pairs) expect([a, b]).not.toContain(favourite);
    await engine.whenStatsCurrent();
    expect(latest().recommendedPromptId).not.toBe(favourite);
    for (let k = 70; k < 100; k++) {
      const pair = await vote(k);
      expect([pair.promptAId, pair.promptBId]).not.toContain(favourite);
    }

    const lines = (selection: "mark" | "in-selection") => {
      const prepared = prepareExport(db(), studyId, {
        format: "openai",
        system: "none",
        duplicates: "keep",
        selection,
        quality: "omit",
        "exclude-flagged": false,
      });
      if (!prepared.ok) throw new Error(prepared.message);
      return [...prepared.export.lines()].map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    const marked = lines("mark");
    // Marked: the favourite (disabled prompt) and the first query (disabled before the growth round).
    const outOfSelection = marked.filter((line) => line.out_of_selection !== undefined);
    for (const line of outOfSelection)
      expect(Object.keys(line).sort()).toEqual(["input", "non_preferred_output", "out_of_selection", "preferred_output"]);
    for (const line of marked.filter((line) => line.out_of_selection === undefined))
      expect(Object.keys(line).sort()).toEqual(["input", "non_preferred_output", "preferred_output"]);
    const withFavourite = outOfSelection.filter((line) => {
      const mark = line.out_of_selection as Record<string, unknown>;
      return mark.chosen_prompt_id === favourite || mark.rejected_prompt_id === favourite;
    });
    expect(withFavourite.length).toBeGreaterThan(0);
    expect(withFavourite.some((line) => (line.out_of_selection as Record<string, unknown>).chosen_prompt === "disabled")).toBe(true);
    expect(lines("in-selection")).toHaveLength(marked.length - outOfSelection.length);
  });

  it("retires what the rule rules out (with its figures), never serves it, and brings it back for good", async () => {
    updateRetirementAs(access, { retireMinComparisons: 5, retireMargin: 0, poolCap: null });
    await engine.whenStatsCurrent();
    await engine.whenIdle();
    const retired = db()
      .select()
      .from(prompts)
      .where(and(eq(prompts.studyId, studyId), isNotNull(prompts.retiredAt)))
      .all();
    expect(retired.length).toBeGreaterThan(0);
    for (const prompt of retired) {
      expect(prompt.retirement!.rule).toBe("ruled-out");
      expect(prompt.retirement!.comparisons).toBeGreaterThanOrEqual(5);
      expect(prompt.retirement!.upper).toBeLessThan(prompt.retirement!.leaderLower);
      expect(prompt.retirement!.leaderPromptId).not.toBe(favourite);
    }
    const retiredIds = retired.map((prompt) => prompt.id);
    expect(retiredIds).not.toContain(engine.selectionView()!.recommendedPromptId);
    for (let k = 100; k < 120; k++) {
      const pair = await vote(k);
      expect(retiredIds).not.toContain(pair.promptAId);
      expect(retiredIds).not.toContain(pair.promptBId);
    }

    const back = retiredIds[0]!;
    expect(setItemActiveAs(access, { kind: "prompt", id: back, active: true })).toBe(true);
    expect(db().select().from(prompts).where(eq(prompts.id, back)).get()).toMatchObject({ retiredAt: null, keptByOwner: true, active: true });
    const servedAgain = new Set<number>();
    // A prompt that was ruled out is a weak challenger: the engine (ADR 0054's tested leader) may take many votes to ask it.
    for (let k = 120; k < 400 && !servedAgain.has(back); k++) {
      const pair = await vote(k);
      servedAgain.add(pair.promptAId).add(pair.promptBId);
    }
    await engine.whenStatsCurrent();
    expect(servedAgain.has(back)).toBe(true);
    expect(db().select().from(prompts).where(eq(prompts.id, back)).get()!.retiredAt).toBeNull();
  });
});
