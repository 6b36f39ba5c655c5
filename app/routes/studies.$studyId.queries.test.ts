import { and, asc, desc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, engineSnapshots, prompts, queries, queryTags, studies, votes } from "../../db/schema";
import { invitedAnnotator, invitedMember, signedInOwner, type TestActor } from "../../tests/helpers/in-process-actors";
import { routeResponse } from "../../tests/helpers/route-response";
import { seedVotes } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { rivalsOnQuery, summarize } from "~/models/leader-results";
import { focusRecords, studyQueryTags } from "~/models/query-results.server";
import { MAX_PROMPT_COLUMNS, QUERIES_PER_PAGE } from "~/models/query-views.server";
import { addToStudy } from "~/models/study-setup.server";
import { action as queryAction, loader as queryLoader } from "./studies.$studyId.queries.$queryId";
import { loader as matrixLoader } from "./studies.$studyId.responses";
import { loader as losesLoader } from "./studies.$studyId.where-leader-loses";

// The owner's per-query pages called as Remix calls them, on a real SQLite file with the demo study
// (10 prompts, 14 queries, 140 ready responses): who may read and tag, what a bad tag answers, and
// that the records follow the stored votes.

let owner: TestActor;
let otherOwner: TestActor;
let viewer: TestActor;
let annotator: TestActor;
let studyId = 0;
let queryIds: number[] = [];
let promptIds: number[] = [];

const get = (path: string, actor: TestActor) => new Request(`http://localhost${path}`, { headers: { Cookie: actor.cookie } });
function post(path: string, actor: TestActor, fields: Record<string, string>) {
  return new Request(`http://localhost${path}`, { method: "POST", body: new URLSearchParams(fields), headers: { Cookie: actor.cookie } });
}
const tagsOf = (queryId: number) =>
  db()
    .select({ tag: queryTags.tag })
    .from(queryTags)
    .where(eq(queryTags.queryId, queryId))
    .orderBy(asc(queryTags.tag))
    .all()
    .map((row) => row.tag);

describe("the per-query pages", () => {
  useTempAppDatabase();
  beforeAll(async () => {
    owner = await signedInOwner();
    otherOwner = await signedInOwner();
    studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    viewer = await invitedMember(owner, studyId, "viewer");
    annotator = await invitedAnnotator(owner, studyId, "Crowd");
    queryIds = db()
      .select({ id: queries.id })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .orderBy(queries.id)
      .all()
      .map((row) => row.id);
    promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .orderBy(prompts.id)
      .all()
      .map((row) => row.id);
  });

  it("an owner tags a query: stored normalised, audited; an empty list removes the tags", async () => {
    const queryId = queryIds[0]!;
    const response = await routeResponse(() =>
      queryAction({
        request: post(`/studies/${studyId}/queries/${queryId}`, owner, { intent: "set-query-tags", tags: " Billing, refunds ,billing" }),
        params: { studyId: String(studyId), queryId: String(queryId) },
        context: {},
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, notice: "Tags saved: billing, refunds." });
    expect(tagsOf(queryId)).toEqual(["billing", "refunds"]);
    const audited = db().select().from(auditLog).where(eq(auditLog.studyId, studyId)).orderBy(desc(auditLog.id)).get()!;
    expect(audited).toMatchObject({ action: "query.tags_changed", details: { queryId, tags: ["billing", "refunds"] } });

    const cleared = await routeResponse(() =>
      queryAction({
        request: post(`/studies/${studyId}/queries/${queryId}`, owner, { intent: "set-query-tags", tags: "" }),
        params: { studyId: String(studyId), queryId: String(queryId) },
        context: {},
      }),
    );
    expect(await cleared.json()).toEqual({ ok: true, notice: "Tags removed." });
    expect(tagsOf(queryId)).toEqual([]);
  });

  it("a bad tag list is a 400 that names the problem, and the query's tags stay as they were", async () => {
    const queryId = queryIds[1]!;
    db().insert(queryTags).values({ queryId, studyId, tag: "setup" }).run();
    for (const [fields, message] of [
      [{ intent: "set-query-tags", tags: "ok, <script>" }, /^Not saved: the tag "<script>" must start with a letter or digit/],
      [
        { intent: "set-query-tags", tags: Array.from({ length: 13 }, (_, k) => `t${k}`).join(",") },
        /^Not saved: 13 tags given; a query can have at most 12/,
      ],
      [{ intent: "set-query-tags" }, /comma-separated list/],
    ] as const) {
      const response = await routeResponse(() =>
        queryAction({
          request: post(`/studies/${studyId}/queries/${queryId}`, owner, fields),
          params: { studyId: String(studyId), queryId: String(queryId) },
          context: {},
        }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ ok: false, formErrors: [], fieldErrors: { tags: [expect.stringMatching(message)] } });
    }
    const wrongIntent = await routeResponse(() =>
      queryAction({
        request: post(`/studies/${studyId}/queries/${queryId}`, owner, { intent: "delete", tags: "x" }),
        params: { studyId: String(studyId), queryId: String(queryId) },
        context: {},
      }),
    );
    expect(wrongIntent.status).toBe(400);
    expect(tagsOf(queryId)).toEqual(["setup"]);
  });

  it("refuses as the rest of the app does: annotators 403, another study's owner 404, viewers read but do not tag; a query of another study is 404", async () => {
    const queryId = queryIds[2]!;
    const params = { studyId: String(studyId), queryId: String(queryId) };
    const tagAs = (actor: TestActor) =>
      routeResponse(() =>
        queryAction({ request: post(`/studies/${studyId}/queries/${queryId}`, actor, { intent: "set-query-tags", tags: "x" }), params, context: {} }),
      );
    expect((await tagAs(annotator)).status).toBe(403);
    expect((await tagAs(otherOwner)).status).toBe(404);
    expect((await tagAs(viewer)).status).toBe(403);
    expect(tagsOf(queryId)).toEqual([]);
    for (const [actor, status] of [
      [annotator, 403],
      [otherOwner, 404],
      [viewer, 200],
    ] as const) {
      for (const [path, loader] of [
        [`/studies/${studyId}/queries/${queryId}`, queryLoader],
        [`/studies/${studyId}/responses`, matrixLoader],
        [`/studies/${studyId}/where-leader-loses`, losesLoader],
      ] as const) {
        const response = await routeResponse(() => loader({ request: get(path, actor), params, context: {} }));
        expect(response.status, `${path}`).toBe(status);
      }
    }
    // The other owner's own study: its query is not found through the demo study's id, and the demo's not through theirs.
    const foreign = db().insert(studies).values({ name: "Other", task: "t", model: "m" }).returning().get();
    const foreignQuery = db().insert(queries).values({ studyId: foreign.id, text: "elsewhere?" }).returning().get();
    const crossed = await routeResponse(() =>
      queryLoader({
        request: get(`/studies/${studyId}/queries/${foreignQuery.id}`, owner),
        params: { studyId: String(studyId), queryId: String(foreignQuery.id) },
        context: {},
      }),
    );
    expect(crossed.status).toBe(404);
    const crossedTag = await routeResponse(() =>
      queryAction({
        request: post(`/studies/${studyId}/queries/${foreignQuery.id}`, owner, { intent: "set-query-tags", tags: "x" }),
        params: { studyId: String(studyId), queryId: String(foreignQuery.id) },
        context: {},
      }),
    );
    expect(crossedTag.status).toBe(404);
    expect(tagsOf(foreignQuery.id)).toEqual([]);
  });

  it("the matrix is one page: at most a page of queries and a few prompt columns, with a 400 for malformed parameters", async () => {
    const params = { studyId: String(studyId) };
    const body = async (search: string) => {
      const response = await routeResponse(() =>
        matrixLoader({ request: get(`/studies/${studyId}/responses${search}`, owner), params, context: {} }),
      );
      return {
        status: response.status,
        json: response.status === 200 ? ((await response.json()) as Record<string, unknown>) : await response.text(),
      };
    };
    const first = await body("");
    expect(first.status).toBe(200);
    const view = first.json as { queries: unknown[]; columns: { id: number }[]; cells: { status: string }[]; queryTotal: number };
    expect(view.queries.length).toBe(Math.min(QUERIES_PER_PAGE, queryIds.length));
    expect(view.columns.length).toBeLessThanOrEqual(MAX_PROMPT_COLUMNS);
    expect(view.cells.length).toBe(view.queries.length * view.columns.length);
    expect(view.cells.every((cell) => cell.status === "ready")).toBe(true);
    const chosen = await body(`?prompts=${promptIds[3]},${promptIds[1]}`);
    expect((chosen.json as { columns: { id: number }[] }).columns.map((c) => c.id)).toEqual([promptIds[3], promptIds[1]]);
    // Prompt ids of other studies are not columns.
    const foreignPrompt = db()
      .insert(prompts)
      .values({ studyId: db().insert(studies).values({ name: "X", task: "t", model: "m" }).returning().get().id, text: "x", normalizedText: "x" })
      .returning()
      .get();
    const leaked = await body(`?prompts=${foreignPrompt.id}`);
    expect((leaked.json as { columns: unknown[] }).columns).toEqual([]);
    for (const search of ["?page=0", "?page=x", `?prompts=${Array.from({ length: 9 }, (_, k) => k + 1).join(",")}`, "?prompts=1;2", "?focus=-1"]) {
      const refused = await body(search);
      expect(refused.status, search).toBe(400);
      expect(refused.json).toMatch(/^Bad request: /);
    }
  });
});

describe("the leader's records from the stored votes", () => {
  useTempAppDatabase();

  it("match the pure aggregation of the same log, per query and per tag, and follow new and undone votes", () => {
    const studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    const at = new Date("2026-12-01T10:00:00Z");
    // Prompt index 0 is the leader. Query 0 and 1 are billing; query 2 setup.
    const ids = seedVotes(db(), studyId, [
      { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "right", at }, // 0 loses to 1
      { annotator: "Bo", promptA: 1, promptB: 0, query: 0, leftIsA: false, choice: "right", at }, // 1 on the right wins: 0 loses
      { annotator: "Ada", promptA: 0, promptB: 2, query: 1, leftIsA: false, choice: "left", at }, // 2 on the left wins: 0 loses
      { annotator: "Ada", promptA: 0, promptB: 2, query: 1, leftIsA: true, choice: "tie", at }, // drawn
      { annotator: "Ada", promptA: 0, promptB: 1, query: 2, leftIsA: true, choice: "left", at }, // 0 wins
      { annotator: "Bo", promptA: 2, promptB: 0, query: 2, leftIsA: true, choice: "right", at }, // 0 on the right wins
      { annotator: "Bo", promptA: 0, promptB: 1, query: 2, leftIsA: true, choice: "skip", at }, // nothing
      { annotator: "Bo", promptA: 1, promptB: 2, query: 0, leftIsA: true, choice: "left", at }, // without the leader
    ]);
    const promptIds = db()
      .select({ id: prompts.id })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .orderBy(prompts.id)
      .all()
      .map((row) => row.id);
    const queryIds = db()
      .select({ id: queries.id })
      .from(queries)
      .where(eq(queries.studyId, studyId))
      .orderBy(queries.id)
      .all()
      .map((row) => row.id);
    addToStudy(db(), studyId, {
      prompts: [],
      queries: [
        { text: db().select({ text: queries.text }).from(queries).where(eq(queries.id, queryIds[0]!)).get()!.text, notes: null, tags: ["billing"] },
        {
          text: db().select({ text: queries.text }).from(queries).where(eq(queries.id, queryIds[1]!)).get()!.text,
          notes: null,
          tags: ["billing", "urgent"],
        },
        { text: db().select({ text: queries.text }).from(queries).where(eq(queries.id, queryIds[2]!)).get()!.text, notes: null, tags: ["setup"] },
      ],
    });
    // Existing queries are tagged by an import that names them again (no duplicate query is added).
    expect(studyQueryTags(studyId)).toEqual(
      new Map([
        [queryIds[0]!, ["billing"]],
        [queryIds[1]!, ["billing", "urgent"]],
        [queryIds[2]!, ["setup"]],
      ]),
    );
    const [leader, second, third] = promptIds as [number, number, number];
    const records = focusRecords(studyId, leader);
    expect(rivalsOnQuery(records, queryIds[0]!)).toEqual([{ rivalId: second, record: { wins: 0, losses: 2, draws: 0 } }]);
    expect(rivalsOnQuery(records, queryIds[1]!)).toEqual([{ rivalId: third, record: { wins: 0, losses: 1, draws: 1 } }]);
    const summary = summarize(records, studyQueryTags(studyId), null);
    expect(summary.overall).toEqual({ wins: 2, losses: 3, draws: 1 });
    expect(summary.tags).toEqual([
      { tag: "billing", queriesWithVotes: 2, record: { wins: 0, losses: 3, draws: 1 } },
      { tag: "urgent", queriesWithVotes: 1, record: { wins: 0, losses: 1, draws: 1 } },
      { tag: "setup", queriesWithVotes: 1, record: { wins: 2, losses: 0, draws: 0 } },
    ]);
    expect(summary.losingQueries.map((result) => result.queryId)).toEqual([queryIds[0], queryIds[1]]);

    // A new vote is seen at once (the kept records are checked against the study's votes on each read)...
    seedVotes(db(), studyId, [{ annotator: "Cy", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at }]);
    expect(rivalsOnQuery(focusRecords(studyId, leader), queryIds[0]!)).toEqual([{ rivalId: second, record: { wins: 1, losses: 2, draws: 0 } }]);
    // ...and so is an undone one (the vote row deleted).
    db().delete(votes).where(eq(votes.id, ids[0]!)).run();
    expect(rivalsOnQuery(focusRecords(studyId, leader), queryIds[0]!)).toEqual([{ rivalId: second, record: { wins: 1, losses: 1, draws: 0 } }]);
    // Seen from the second prompt, the same votes are the mirror image, and its vote against the third counts.
    expect(rivalsOnQuery(focusRecords(studyId, second), queryIds[0]!)).toEqual([
      { rivalId: leader, record: { wins: 1, losses: 1, draws: 0 } },
      { rivalId: third, record: { wins: 1, losses: 0, draws: 0 } },
    ]);
  });

  it("the page names the engine's recommendation as the leader and lists the queries it loses", async () => {
    const owner = await signedInOwner();
    const studyId = db().select({ id: studies.id }).from(studies).orderBy(studies.id).get()!.id;
    const leader = db().select({ id: prompts.id }).from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).get()!.id;
    db().insert(engineSnapshots).values({ studyId, voteCount: 6, policy: "duet", recommendedPromptId: leader, promptStats: [] }).run();
    const response = await routeResponse(() =>
      losesLoader({
        request: get(`/studies/${studyId}/where-leader-loses`, { cookie: owner.cookie, actor: owner.actor }),
        params: { studyId: String(studyId) },
        context: {},
      }),
    );
    const view = (await response.json()) as {
      focus: { id: number };
      leaderIsRecommendation: boolean;
      losingTotal: number;
      tags: { tag: string; verdict: string }[];
    };
    expect(view.focus.id).toBe(leader);
    expect(view.leaderIsRecommendation).toBe(true);
    // After the previous test's new vote and undo, query 0 stands 1–1: only query 1 is lost.
    expect(view.losingTotal).toBe(1);
    expect(view.tags.map((tag) => [tag.tag, tag.verdict])).toEqual([
      ["billing", "loses"],
      ["urgent", "loses"],
      ["setup", "wins"],
    ]);
    expect(
      db()
        .select()
        .from(queryTags)
        .where(and(eq(queryTags.studyId, studyId), eq(queryTags.tag, "billing")))
        .all(),
    ).toHaveLength(2);
  });
});
