import { and, asc, eq, isNotNull, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  auditLog,
  judgeBatches,
  judgeVerdicts,
  promptInSelection,
  prompts,
  promptTallies,
  queries,
  responses,
  studies,
  studyJudges,
  votes,
} from "../../db/schema";
import { useFakeProvider } from "../../tests/helpers/fake-provider";
import { signedInOwner } from "../../tests/helpers/in-process-actors";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { authorizeStudy, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { getStudyEngine, stopStudyEngine } from "~/engine/engine.server";
import { StudyHistoryFeed } from "~/engine/history-feed.server";
import { prepareExport } from "~/export/formats.server";
import { DEFAULT_JUDGE_INSTRUCTION, parseJudgeAnswer } from "~/llm/judge.server";
import { generationWorker, startGeneration } from "~/llm/runtime.server";
import { judgeAgreement } from "~/models/judge-agreement.server";
import { routeResponse } from "../../tests/helpers/route-response";
import { action as judgeAction } from "~/routes/studies.$studyId.judge";
import { configureJudgeAs, requestJudgeBatchAs, type JudgeSettingsInput } from "./judge.server";
import { setAnnotatorExclusionAs } from "./members.server";
import { updateRetirementAs } from "./studies.server";

// Issue 17 §4 below the HTTP layer: the app's own connection, the real generation worker and the openai SDK against
// the fake OpenAI-compatible server, whose judge prefers the lower prompt id, except that on pairs with the study's
// last prompt it always picks the answer shown first (a position bias the two orders must catch).

const JUDGE_MARK = "You are an impartial judge";
// $0.1 an output token (the fake server counts words as tokens): the fake judge's four-word answers cost $0.4.
const PRICES = { "fake-judge": { input: 0, output: 100_000 } };

describe("the LLM judge", () => {
  useTempAppDatabase();
  const fakeServer = useFakeProvider({ OPENAI_PRICES: JSON.stringify(PRICES) });
  let access: StudyAccess;
  let owner: Awaited<ReturnType<typeof signedInOwner>>;
  let studyId: number;
  let promptIds: number[] = [];
  let queryIds: number[] = [];
  /** Which prompt a response text belongs to (the fake judge sees texts only). */
  const promptOfResponse = new Map<string, number>();

  beforeAll(() => fakeServer().setChatReply(judgeReply));

  /** The fake judge: the lower prompt id wins, except that with prompt 9 the answer shown first always does. */
  function judgeReply(system: string, user: string): string {
    if (!system.startsWith(JUDGE_MARK)) return "unused";
    const [first, second] = [...user.matchAll(/Answer [12]:\n<<<\n([\s\S]*?)\n>>>/g)].map((match) => promptOfResponse.get(match[1]!)!);
    const biased = first === promptIds[9] || second === promptIds[9];
    const better = biased || first! < second! ? "1" : "2";
    return JSON.stringify({ better, rationale: `Prefers ${better} of ${first}/${second}` });
  }

  const settings = (overrides: Partial<JudgeSettingsInput> = {}): JudgeSettingsInput => ({
    model: "fake-judge",
    instruction: DEFAULT_JUDGE_INSTRUCTION,
    mode: "separate",
    maxPairs: null,
    maxCostUsd: null,
    pairsPerMinute: 600,
    ...overrides,
  });
  const worker = () => generationWorker()!;
  const tallies = () => db().select().from(promptTallies).where(eq(promptTallies.studyId, studyId)).orderBy(asc(promptTallies.promptId)).all();
  const engineDuels = () => {
    const feed = new StudyHistoryFeed(studyId);
    feed.readVotes();
    return feed.duels.length;
  };
  const batch = (id: number) => db().select().from(judgeBatches).where(eq(judgeBatches.id, id)).get()!;

  // Six items (query, prompt pair) humans voted on, by index, with their labels (0 = the lower-id prompt won,
  // 1 = the higher won, 2 = a draw). The judge says 0 on each, except 2 (the orders disagree) on the pairs with prompt 9:
  //   item                 judge  humans
  //   i1 (p0, p1, q0)        0     H1 0, H2 0
  //   i2 (p0, p2, q0)        0     H1 0, H2 1
  //   i3 (p1, p2, q0)        0     H1 1
  //   i4 (p0, p1, q1)        0     H1 0
  //   i5 (p0, p9, q1)        2     H1 2, H2 0
  //   i6 (p3, p9, q2)        2     H1 1
  const HUMAN_LABELS: [string, number, number, number, number][] = [
    ["H1", 0, 1, 0, 0],
    ["H2", 0, 1, 0, 0],
    ["H1", 0, 2, 0, 0],
    ["H2", 0, 2, 0, 1],
    ["H1", 1, 2, 0, 1],
    ["H1", 0, 1, 1, 0],
    ["H1", 0, 9, 1, 2],
    ["H2", 0, 9, 1, 0],
    ["H1", 3, 9, 2, 1],
  ];

  it("judges the pairs humans voted on in both orders, stores the rationales, keeps to its budget of pairs, and is not counted by default", async () => {
    owner = await signedInOwner();
    studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    access = authorizeStudy(owner.actor, studyId, "study:manage");
    promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .orderBy(prompts.id)
      .all()
      .map((row) => row.id);
    queryIds = db()
      .select({ id: queries.id })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .orderBy(queries.id)
      .all()
      .map((row) => row.id);
    for (const row of db()
      .select({ promptId: responses.promptId, content: responses.content })
      .from(responses)
      .innerJoin(prompts, eq(prompts.id, responses.promptId))
      .where(eq(prompts.studyId, studyId))
      .all()) {
      promptOfResponse.set(row.content!, row.promptId);
    }
    const at = new Date(Date.UTC(2026, 10, 1, 10));
    seedVotes(
      db(),
      studyId,
      HUMAN_LABELS.map(([annotator, promptA, promptB, query, label], index): SeededVote => {
        const leftIsA = index % 2 === 0;
        const choice = label === 2 ? "tie" : (label === 0) === leftIsA ? "left" : "right";
        return { annotator, promptA, promptB, query, leftIsA, choice, at };
      }),
    );
    const talliesBefore = tallies();
    expect(engineDuels()).toBe(9);

    // A budget in dollars needs a price: none is known for this model.
    expect(await configureJudgeAs(access, settings({ model: "priceless", maxCostUsd: 1 }))).toMatchObject({ ok: false, field: "judgeMaxCostUsd" });
    expect(requestJudgeBatchAs(access, { pairs: 5 })).toMatchObject({ ok: false, error: "Save the judge's settings first." });
    expect(await configureJudgeAs(access, settings({ maxPairs: 6 }))).toEqual({ ok: true, countingChanged: false });
    startGeneration();
    const queued = requestJudgeBatchAs(access, { pairs: 50 });
    // Cut to the budget of pairs.
    expect(queued).toMatchObject({ ok: true, pairs: 6 });
    if (!queued.ok) throw new Error(queued.error);
    await expect.poll(() => batch(queued.batchId).state, { timeout: 30_000 }).toBe("succeeded");
    expect(batch(queued.batchId)).toMatchObject({ judged: 6, positionBias: 2, failures: 0, error: null });

    // Both orders of every pair went to the provider: A's response first, then B's.
    const verdicts = db().select().from(judgeVerdicts).where(eq(judgeVerdicts.studyId, studyId)).orderBy(judgeVerdicts.id).all();
    const judgeCalls = fakeServer().requests.filter((request) => JSON.stringify(request.body.messages).includes(JUDGE_MARK));
    expect(judgeCalls).toHaveLength(12);
    for (const call of judgeCalls) expect(call.body).toMatchObject({ model: "fake-judge", temperature: 0 });
    const items = verdicts.map((verdict) => [
      promptIds.indexOf(verdict.promptAId),
      promptIds.indexOf(verdict.promptBId),
      queryIds.indexOf(verdict.queryId),
    ]);
    expect(items.sort()).toEqual(
      [
        [0, 1, 0],
        [0, 2, 0],
        [1, 2, 0],
        [0, 1, 1],
        [0, 9, 1],
        [3, 9, 2],
      ].sort(),
    );
    for (const verdict of verdicts) {
      const biased = verdict.promptBId === promptIds[9];
      // The rationales say which order each call saw.
      expect(verdict.rationaleAFirst).toBe(`Prefers 1 of ${verdict.promptAId}/${verdict.promptBId}`);
      expect(verdict.rationaleBFirst).toBe(`Prefers ${biased ? 1 : 2} of ${verdict.promptBId}/${verdict.promptAId}`);
      expect(verdict).toMatchObject(
        biased ? { aFirst: "a", bFirst: "b", winner: "tie", positionBias: true } : { aFirst: "a", bFirst: "a", winner: "a", positionBias: false },
      );
      // The fake answers have four words: $0.4 a call.
      expect(verdict.costUsd).toBeCloseTo(0.8, 10);
      const vote = db().select().from(votes).where(eq(votes.id, verdict.voteId)).get()!;
      const assignment = db().all<{ leftIsA: number; annotatorId: number }>(
        sql`select left_is_a as leftIsA, annotator_id as annotatorId from assignments where id = ${vote.assignmentId}`,
      )[0]!;
      expect(vote.choice).toBe(biased ? "tie" : assignment.leftIsA === 1 ? "left" : "right");
    }

    // Shown separately: the leaderboard's tallies and the engine's vote read leave the judge's six votes out.
    expect(tallies()).toEqual(talliesBefore);
    expect(engineDuels()).toBe(9);
    // Its budget is spent: no further batch.
    expect(requestJudgeBatchAs(access, { pairs: 1 })).toMatchObject({ ok: false, error: "The judge's budget of 6 pairs is spent." });

    // Agreement on the table above (worked by hand, judge rows x human columns, labels 0, 1, 2):
    //   overall  [[4, 2, 0], [0, 0, 0], [1, 1, 1]], n = 9: p_o = 5/9, row sums 6, 0, 3, column sums 5, 3, 1,
    //            p_e = (6*5 + 0*3 + 3*1) / 81 = 11/27, kappa = (5/9 - 11/27) / (1 - 11/27) = (4/27) / (16/27) = 0.25
    //   q0       [[3, 2, 0], 0, 0], n = 5: p_o = 3/5, p_e = (5*3) / 25 = 3/5, kappa = 0
    //   q1       [[1, 0, 0], 0, [1, 0, 1]], n = 3: p_o = 2/3, p_e = (1*2 + 2*1) / 9 = 4/9, kappa = (2/9) / (5/9) = 0.4
    //   q2       [0, 0, [0, 1, 0]], n = 1: p_o = 0, p_e = 0, kappa = 0
    const report = judgeAgreement(db(), studyId);
    expect(report.overall).toMatchObject({ items: 6, pairings: 9, agreement: { successes: 5, trials: 9 } });
    expect(report.overall.table).toEqual([
      [4, 2, 0],
      [0, 0, 0],
      [1, 1, 1],
    ]);
    expect(report.overall.cohenKappa.value).toBeCloseTo(0.25, 12);
    expect(report.overall.cohenKappa.lower).not.toBeNull();
    expect(report.overall.cohenKappa.lower!).toBeLessThanOrEqual(0.25);
    expect(report.overall.cohenKappa.upper!).toBeGreaterThanOrEqual(0.25);
    expect(report.perQuery.map((row) => [queryIds.indexOf(row.queryId), row.items, row.pairings, row.agreement.successes])).toEqual([
      [0, 3, 5, 3],
      [1, 2, 3, 2],
      [2, 1, 1, 0],
    ]);
    expect(report.perQuery.map((row) => row.cohenKappa.value)).toEqual([expect.closeTo(0, 12), expect.closeTo(0.4, 12), expect.closeTo(0, 12)]);
    // Per query, 5, 3 and 1 compared votes: only the first is enough for a bootstrap interval (MIN_BOOTSTRAP_ITEMS).
    expect(report.perQuery.map((row) => row.cohenKappa.lower !== null)).toEqual([true, false, false]);
    expect(report).toMatchObject({ verdicts: 6, positionBias: { successes: 2, trials: 6 } });
    expect(report.costUsd).toBeCloseTo(4.8, 10);

    // The raw log marks the judge's votes.
    const prepared = prepareExport(db(), studyId, {
      format: "jsonl",
      system: "none",
      duplicates: "keep",
      selection: "mark",
      quality: "omit",
      "exclude-flagged": false,
    });
    if (!prepared.ok) throw new Error(prepared.message);
    const records = [...prepared.export.lines()].map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.annotator_kind === "judge")).toHaveLength(6);
    expect(records.filter((record) => record.annotator_kind === "human")).toHaveLength(9);
    expect(records.filter((record) => record.annotator_kind === "judge").every((record) => record.annotator_excluded === true)).toBe(true);

    // The quality page's exclusion does not apply to the judge: its setting decides.
    expect(await setAnnotatorExclusionAs(access, verdictsAnnotator(), false)).toBe("judge");
  });

  it("answers a bad judge form with 400 and its field errors, and writes nothing", async () => {
    const post = (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const request = new Request(`http://localhost/studies/${studyId}/judge`, { method: "POST", body: form, headers: { Cookie: owner.cookie } });
      return routeResponse(() => judgeAction({ request, params: { studyId: String(studyId) }, context: {} }));
    };
    const written = () => ({
      judge: db().select().from(studyJudges).all(),
      batches: db().select().from(judgeBatches).all(),
      audit: db().select().from(auditLog).all().length,
    });
    const before = written();
    const settingsResponse = await post({
      intent: "judge-settings",
      judgeModel: "",
      judgeInstruction: "too short",
      judgeMode: "sometimes",
      judgeMaxPairs: "-1",
      judgeMaxCostUsd: "lots",
      judgePairsPerMinute: "0",
    });
    expect(settingsResponse.status).toBe(400);
    const settingsErrors = ((await settingsResponse.json()) as { fieldErrors: Record<string, string[]> }).fieldErrors;
    expect(Object.keys(settingsErrors).sort()).toEqual([
      "judgeInstruction",
      "judgeMaxCostUsd",
      "judgeMaxPairs",
      "judgeMode",
      "judgeModel",
      "judgePairsPerMinute",
    ]);
    expect(settingsErrors.judgePairsPerMinute).toEqual(["Pairs a minute must be at least 1"]);
    const batchResponse = await post({ intent: "judge-batch", judgeBatchPairs: "501" });
    expect(batchResponse.status).toBe(400);
    expect(await batchResponse.json()).toMatchObject({
      ok: false,
      intent: "judge-batch",
      fieldErrors: { judgeBatchPairs: ["Pairs to judge must be at most 500"] },
    });
    expect((await post({ intent: "judge-everything" })).status).toBe(400);
    // A valid request the service refuses: the budget of pairs is spent.
    const spent = await post({ intent: "judge-batch", judgeBatchPairs: "5" });
    expect(spent.status).toBe(400);
    expect(await spent.json()).toMatchObject({ ok: false, fieldErrors: { judgeBatchPairs: ["The judge's budget of 6 pairs is spent."] } });
    expect(written()).toEqual(before);
  });

  function verdictsAnnotator(): number {
    return db().all<{ id: number }>(sql`select annotator_id as id from study_judges where study_id = ${studyId}`)[0]!.id;
  }

  it("counts the judge's votes in the tallies and the engine once the owner includes them, and takes them out again", async () => {
    const before = tallies();
    const games = (rows: typeof before) => rows.reduce((sum, row) => sum + row.wins + row.losses + row.ties + row.bothBad, 0);
    expect(await configureJudgeAs(access, settings({ maxPairs: 6, mode: "counted" }))).toEqual({ ok: true, countingChanged: true });
    expect(engineDuels()).toBe(15);
    // Each verdict is two prompts' games.
    expect(games(tallies()) - games(before)).toBe(12);
    expect(await configureJudgeAs(access, settings({ maxPairs: 6, mode: "separate" }))).toEqual({ ok: true, countingChanged: true });
    expect(tallies()).toEqual(before);
    expect(engineDuels()).toBe(9);
    const actions = db()
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(and(eq(auditLog.studyId, studyId), sql`${auditLog.action} like 'judge.%'`))
      .all()
      .map((row) => row.action);
    expect(actions).toEqual(["judge.configured", "judge.batch_requested", "judge.batch_judged", "judge.configured", "judge.configured"]);
  });

  it("stops a pre-screening batch when its budget in dollars is spent, and a batch whose answers cannot be read", async () => {
    const spent = judgeAgreement(db(), studyId).costUsd;
    // $2 left: a pair costs $0.8 (two calls of four words), so the third pair starts with $0.4 left and the fourth never does.
    expect(await configureJudgeAs(access, settings({ mode: "prescreen", maxCostUsd: spent + 2 }))).toEqual({ ok: true, countingChanged: true });
    const queued = requestJudgeBatchAs(access, { pairs: 20 });
    if (!queued.ok) throw new Error(queued.error);
    await expect.poll(() => batch(queued.batchId).state, { timeout: 30_000 }).toBe("succeeded");
    expect(batch(queued.batchId)).toMatchObject({ judged: 3, failures: 0, mode: "prescreen" });
    expect(batch(queued.batchId).error).toMatch(/^The judge's budget of \$\d+(\.\d+)? is spent/);
    expect(requestJudgeBatchAs(access, { pairs: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/budget of \$.* is spent/) });
    // Counted: pre-screening votes are in the engine's read (9 humans' + 6 + 3 judged).
    expect(engineDuels()).toBe(18);

    fakeServer().setChatReply(() => "I would rather not say.");
    await configureJudgeAs(access, settings({ mode: "prescreen" }));
    const failing = requestJudgeBatchAs(access, { pairs: 10 });
    if (!failing.ok) throw new Error(failing.error);
    await expect.poll(() => batch(failing.batchId).state, { timeout: 30_000 }).toBe("failed");
    expect(batch(failing.batchId)).toMatchObject({ judged: 0, failures: 3 });
    // The provider answered (and charged for) all six calls: five words each, $0.5 a call, count against the budget.
    expect(batch(failing.batchId).costUsd).toBeCloseTo(3, 10);
    expect(batch(failing.batchId).error).toMatch(/^3 pairs in a row could not be judged: The judge's answer does not say which answer is better/);
    await worker().whenIdle();
  });

  it("pre-screens: its votes reach an engine that was not running, and the pool cap keeps the prompts they favour", async () => {
    fakeServer().setChatReply(judgeReply);
    updateRetirementAs(access, { retireMinComparisons: null, retireMargin: 0, poolCap: 5 });
    await getStudyEngine(studyId).whenStatsCurrent();
    // Too few comparisons yet for the cap to retire anything (it needs measured prompts).
    expect(inSelection()).toHaveLength(10);
    await stopStudyEngine(studyId);
    await configureJudgeAs(access, settings({ mode: "prescreen", pairsPerMinute: 60_000 }));
    const queued = requestJudgeBatchAs(access, { pairs: 120 });
    if (!queued.ok) throw new Error(queued.error);
    await expect.poll(() => batch(queued.batchId).state, { timeout: 60_000 }).toBe("succeeded");
    expect(batch(queued.batchId)).toMatchObject({ judged: 120, failures: 0 });
    // The batch's end started the engine: its snapshot counts the judge's votes and the cap retires the weakest.
    await expect.poll(() => inSelection().length, { timeout: 60_000 }).toBe(5);
    expect(inSelection()).toContain(promptIds[0]);
    const retired = db()
      .select({ retirement: prompts.retirement })
      .from(prompts)
      .where(and(eq(prompts.studyId, studyId), isNotNull(prompts.retiredAt)))
      .all();
    expect(retired.map((row) => row.retirement?.rule)).toEqual(["pool-cap", "pool-cap", "pool-cap", "pool-cap", "pool-cap"]);
  });

  function inSelection(): number[] {
    return db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(and(eq(prompts.studyId, studyId), promptInSelection))
      .all()
      .map((row) => row.id);
  }

  it("reads the judge's answer in the JSON asked for, in a code fence, or as a plain line", () => {
    expect(parseJudgeAnswer('{"better": "2", "rationale": "  More   precise. "}')).toEqual({ better: "second", rationale: "More precise." });
    expect(parseJudgeAnswer('Sure.\n```json\n{"better": "tie", "rationale": "Same."}\n```')).toEqual({ better: "tie", rationale: "Same." });
    expect(parseJudgeAnswer("better: 1 because it is shorter")).toEqual({ better: "first", rationale: "because it is shorter" });
    expect(() => parseJudgeAnswer('{"better": "A"}')).toThrow(/does not say which answer is better/);
  });
});
