import { and, eq, ne } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, goldItems, prompts, queries, responses, studies, studyAnnotators } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { cohenKappa, fleissKappa, krippendorffAlphaNominal } from "../../quality/agreement";
import { actorOfCookie, invitedMember, signedInOwner, type TestActor } from "../../tests/helpers/in-process-actors";
import { routeResponse } from "../../tests/helpers/route-response";
import { seedVotes, type SeededVote } from "../../tests/helpers/seed-votes";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { authorizeStudy } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { StudyHistoryFeed } from "~/engine/history-feed.server";
import { annotatorQuality } from "~/models/annotator-quality.server";
import { getDashboard } from "~/models/dashboard.server";
import { setMemberRole } from "~/models/membership.server";
import { action as qualityAction, loader as qualityLoader } from "~/routes/studies.$studyId.quality";
import { setAnnotatorExclusionAs } from "~/services/members.server";

// The annotator quality table on a fixed log, worked out by hand below, and excluding an annotator:
// the leaderboard's tallies and the engine's history stop counting their votes, and count them again
// on reinstatement.

// Three prompts (indices 0 < 1 < 2 by id), two queries: six items (query, prompt pair). Every response
// is 500 characters, so a vote on any pair needs 1000 / 50 = 20 s by the reading rule.
// Labels per item (0 = lower-id prompt won, 1 = higher-id won, 2 = draw), items in the order
// (q0: 0-1, 0-2, 1-2), (q1: 0-1, 0-2, 1-2):
//   Ada [0, 1, 0, 1, 0, 1]  always clicks left (sides alternate), 30 s a vote
//   Bo  [0, 1, 0, 1, 0, 2]  prompt A always on the left, 2 s a vote; an older vote on item 1 said 1
//   Cy  [0, 1, 1, 1, 2, 2]  prompt A always on the right, 25 s a vote, and a later skip on item 1
const ITEMS: [number, number, number][] = [
  [0, 1, 0],
  [0, 2, 0],
  [1, 2, 0],
  [0, 1, 1],
  [0, 2, 1],
  [1, 2, 1],
];

function vote(annotator: string, item: number, label: number, leftIsA: boolean, latencyMs: number, minute: number): SeededVote {
  const [promptA, promptB, query] = ITEMS[item]!;
  // Prompt A is the lower id: label 0 is A winning, shown on the left when leftIsA.
  const choice = label === 2 ? "tie" : (label === 0) === leftIsA ? "left" : "right";
  return { annotator, promptA, promptB, query, leftIsA, choice, latencyMs, at: new Date(Date.UTC(2026, 10, 1, 10, minute)) };
}

const ADA = [0, 1, 0, 1, 0, 1];
const BO = [0, 1, 0, 1, 0, 2];
const CY = [0, 1, 1, 1, 2, 2];

let owner: TestActor & { actor: { kind: "user"; user: { id: number } } };
let studyId: number;
let ids: Record<"Ada" | "Bo" | "Cy", number>;

function setUpStudy() {
  const study = db().insert(studies).values({ name: "Quality", task: "t", model: "m" }).returning().get();
  const promptIds = ["one", "two", "three"].map(
    (text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).returning().get().id,
  );
  const queryIds = ["first question", "second question"].map((text) => db().insert(queries).values({ studyId: study.id, text }).returning().get().id);
  const settingsHash = generationSettingsHash(study);
  for (const promptId of promptIds)
    for (const queryId of queryIds)
      db()
        .insert(responses)
        .values({ promptId, queryId, settingsHash, status: "ready", content: "x".repeat(500) })
        .run();
  const log: SeededVote[] = [vote("Bo", 0, 1, true, 2_000, 0)];
  ADA.forEach((label, item) => log.push(vote("Ada", item, label, item % 2 === 0, 30_000, 1 + item)));
  BO.forEach((label, item) => log.push(vote("Bo", item, label, true, 2_000, 10 + item)));
  CY.forEach((label, item) => log.push(vote("Cy", item, label, false, 25_000, 20 + item)));
  log.push({ ...vote("Cy", 0, 0, false, 500, 30), choice: "skip" });
  seedVotes(db(), study.id, log);
  const byName = (name: string) => annotatorQuality(study).annotators.find((row) => row.displayName === name)!.annotatorId;
  const annotatorIds = { Ada: byName("Ada"), Bo: byName("Bo"), Cy: byName("Cy") };
  for (const annotatorId of Object.values(annotatorIds)) db().insert(studyAnnotators).values({ studyId: study.id, annotatorId }).run();
  return { study, annotatorIds };
}

function qualityOf() {
  const study = db().select().from(studies).where(eq(studies.id, studyId)).get()!;
  return annotatorQuality(study);
}

describe("annotator quality", () => {
  useTempAppDatabase();
  beforeAll(async () => {
    owner = await signedInOwner();
    const { study, annotatorIds } = setUpStudy();
    studyId = study.id;
    ids = annotatorIds;
    setMemberRole(db(), studyId, owner.actor.user.id, "owner");
    // Roles are read per request: the actor as the next request sees it.
    owner = (await actorOfCookie(owner.cookie)) as typeof owner;
  });

  it("aggregates votes, side bias, speed and agreement per annotator as worked out by hand", () => {
    const report = qualityOf();
    const row = (name: keyof typeof ids) => report.annotators.find((annotator) => annotator.annotatorId === ids[name])!;

    expect(row("Ada")).toMatchObject({
      votes: 6,
      skips: 0,
      medianLatencyMs: 30_000,
      medianRequiredMs: 20_000,
      timedVotes: 6,
      tooFastVotes: 0,
      tooFast: false,
    });
    // 6 of 6 decisive votes on the left: Wilson lower bound 6 / (6 + 1.96^2) = 0.61 > 0.5 + 0.1: strong bias.
    expect(row("Ada").leftSide).toMatchObject({ successes: 6, trials: 6, rate: 1, strong: true });
    expect(row("Ada").leftSide.lower).toBeCloseTo(6 / (6 + 1.959963984540054 ** 2), 10);

    // Bo: 7 votes (one an older one on item 1), left 3 of 6 decisive (prompt A on the left won 3 times; the old vote went right).
    expect(row("Bo")).toMatchObject({ votes: 7, timedVotes: 7, tooFastVotes: 7, tooFast: true, medianLatencyMs: 2_000 });
    expect(row("Bo").leftSide).toMatchObject({ successes: 3, trials: 6, strong: false });
    // Cy: 7 votes with the skip; the skip is neither timed nor a label.
    expect(row("Cy")).toMatchObject({ votes: 7, skips: 1, timedVotes: 6, tooFastVotes: 0, tooFast: false, medianLatencyMs: 25_000 });
    expect(row("Cy").leftSide).toMatchObject({ successes: 3, trials: 4 });

    // Pairings: Ada-Bo agree on 5 of 6 items, Ada-Cy on 3, Bo-Cy on 4.
    expect(row("Ada").agreement).toMatchObject({ sharedItems: 6, pairings: 12, agreed: 8 });
    expect(row("Bo").agreement).toMatchObject({ sharedItems: 6, pairings: 12, agreed: 9 });
    expect(row("Cy").agreement).toMatchObject({ sharedItems: 6, pairings: 12, agreed: 7 });

    // Whole study: 12 of 16 decisive votes went left.
    expect(report.overall.leftSide).toMatchObject({ successes: 12, trials: 16 });
    // Items as label counts (lower won, higher won, draw), by hand from the labels above.
    const items = [
      [3, 0, 0],
      [0, 3, 0],
      [2, 1, 0],
      [0, 3, 0],
      [2, 0, 1],
      [0, 1, 2],
    ];
    expect(report.overall.overlapItems).toBe(6);
    expect(report.overall.krippendorffAlpha.value).toBeCloseTo(krippendorffAlphaNominal(items)!, 12);
    expect(report.overall.fleissKappa).toMatchObject({ ratersPerItem: 3, items: 6 });
    expect(report.overall.fleissKappa!.value).toBeCloseTo(fleissKappa(items)!, 12);
    expect(report.overall.krippendorffAlpha.lower).not.toBeNull();

    // Cohen's kappa per pair from their tables (rows: the lower annotator id's labels).
    const pair = (a: keyof typeof ids, b: keyof typeof ids) =>
      report.pairs.find((entry) => entry.first.annotatorId === Math.min(ids[a], ids[b]) && entry.second.annotatorId === Math.max(ids[a], ids[b]))!;
    expect(pair("Ada", "Bo").sharedItems).toBe(6);
    const adaBo = [
      [3, 0, 0],
      [0, 2, 1],
      [0, 0, 0],
    ];
    expect(pair("Ada", "Bo").cohenKappa.value).toBeCloseTo(cohenKappa(adaBo)!, 12);
    const boCy = [
      [1, 1, 1],
      [0, 2, 0],
      [0, 0, 1],
    ];
    expect(pair("Bo", "Cy").cohenKappa.value).toBeCloseTo(cohenKappa(boCy)!, 12);
  });

  it("excludes an annotator from the leaderboard, the engine's history and the agreement of others, reversibly and audited", async () => {
    const access = authorizeStudy(owner.actor, studyId, "study:manage");
    const before = getDashboard(studyId);
    const duelsBefore = new StudyHistoryFeed(studyId);
    duelsBefore.readVotes();
    // 6 + 7 + 6 non-skip votes.
    expect(duelsBefore.duels.length).toBe(19);

    expect(await setAnnotatorExclusionAs(access, ids.Cy, true)).toBe("changed");
    expect(await setAnnotatorExclusionAs(access, ids.Cy, true)).toBe("unchanged");
    const feed = new StudyHistoryFeed(studyId);
    feed.readVotes();
    expect(feed.duels.length).toBe(13);
    const excluded = getDashboard(studyId);
    const games = (dashboard: typeof before) =>
      dashboard.leaderboard.rows.reduce((sum, entry) => sum + entry.wins + entry.losses + entry.ties + entry.bothBad, 0);
    // Each non-skip vote is two prompts' games: Cy's 6 leave.
    expect(games(before) - games(excluded)).toBe(12);
    expect(excluded.decisiveVotes).toBe(13);

    const report = qualityOf();
    const row = (name: keyof typeof ids) => report.annotators.find((annotator) => annotator.annotatorId === ids[name])!;
    expect(row("Cy").excluded).toBe(true);
    // Others' agreement counts only counted annotators; Cy's own still compares with both.
    expect(row("Ada").agreement).toMatchObject({ sharedItems: 6, pairings: 6, agreed: 5 });
    expect(row("Cy").agreement).toMatchObject({ pairings: 12, agreed: 7 });
    expect(report.overall.leftSide).toMatchObject({ successes: 9, trials: 12 });
    expect(report.overall.fleissKappa).toMatchObject({ ratersPerItem: 2, items: 6 });

    expect(await setAnnotatorExclusionAs(access, ids.Cy, false)).toBe("changed");
    const reinstated = new StudyHistoryFeed(studyId);
    reinstated.readVotes();
    expect(reinstated.duels.length).toBe(19);
    expect(getDashboard(studyId).leaderboard).toEqual(before.leaderboard);
    const audit = db()
      .select({ action: auditLog.action, details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.studyId, studyId)))
      .all()
      .filter((entry) => entry.action.startsWith("annotator."));
    expect(audit).toEqual([
      { action: "annotator.excluded", details: { annotatorId: ids.Cy } },
      { action: "annotator.reinstated", details: { annotatorId: ids.Cy } },
    ]);
  });

  it("answers 400 to a malformed post, 404 to an annotator of no such study, and 403 to a member who is not an owner", async () => {
    const post = (fields: Record<string, string>, cookie = owner.cookie) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const request = new Request(`http://localhost/studies/${studyId}/quality`, { method: "POST", body: form, headers: { Cookie: cookie } });
      return routeResponse(() => qualityAction({ request, params: { studyId: String(studyId) }, context: {} }));
    };
    expect((await post({ intent: "delete", annotatorId: String(ids.Ada) })).status).toBe(400);
    expect((await post({ intent: "exclude", annotatorId: "abc" })).status).toBe(400);
    expect((await post({ intent: "exclude" })).status).toBe(400);
    expect((await post({ intent: "exclude", annotatorId: "999999" })).status).toBe(404);
    const editor = await invitedMember(owner, studyId, "editor");
    expect((await post({ intent: "exclude", annotatorId: String(ids.Ada) }, editor.cookie)).status).toBe(403);
    const request = new Request(`http://localhost/studies/${studyId}/quality`, { headers: { Cookie: editor.cookie } });
    expect((await routeResponse(() => qualityLoader({ request, params: { studyId: String(studyId) }, context: {} }))).status).toBe(403);
    // Nothing was excluded by any of them.
    expect(
      db()
        .select()
        .from(studyAnnotators)
        .where(eq(studyAnnotators.studyId, studyId))
        .all()
        .every((row) => row.excludedAt === null),
    ).toBe(true);
    const ok = await post({ intent: "exclude", annotatorId: String(ids.Bo) });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { notice: string }).notice).toMatch(/excluded/);
    await post({ intent: "reinstate", annotatorId: String(ids.Bo) });
  });

  it("sets the quality checks and marks gold items through the page's form, refusing bad input with a 400 and writing nothing", async () => {
    const post = (fields: Record<string, string>) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const request = new Request(`http://localhost/studies/${studyId}/quality`, { method: "POST", body: form, headers: { Cookie: owner.cookie } });
      return routeResponse(() => qualityAction({ request, params: { studyId: String(studyId) }, context: {} }));
    };
    const rates = () =>
      db()
        .select({ a: studies.auditRate, s: studies.auditMaxShare, g: studies.goldRate, o: studies.overlapRate })
        .from(studies)
        .where(eq(studies.id, studyId))
        .get();
    const before = rates();
    expect(before).toEqual({ a: 0, s: 0.1, g: 0, o: 0 });
    const bads: Record<string, string>[] = [
      { auditRate: "0.9", auditMaxShare: "0.1", goldRate: "0", overlapRate: "0" },
      { auditRate: "5%", auditMaxShare: "0.1", goldRate: "0", overlapRate: "0" },
      { auditRate: "0.05", auditMaxShare: "", goldRate: "0", overlapRate: "0" },
      { auditRate: "0.05", auditMaxShare: "0.1", goldRate: "-0.1", overlapRate: "0" },
      { auditRate: "0.05", auditMaxShare: "0.1", goldRate: "0", overlapRate: "0.6" },
      { auditRate: "0.05", auditMaxShare: "0.1", goldRate: "0" },
    ];
    for (const bad of bads) {
      expect((await post({ intent: "checks", ...bad })).status).toBe(400);
    }
    // The three rates share one draw: together at most 1, the error on the overlap rate.
    const tooMuch = await post({ intent: "checks", auditRate: "0.5", auditMaxShare: "0.1", goldRate: "0.4", overlapRate: "0.2" });
    expect(tooMuch.status).toBe(400);
    expect(JSON.stringify(await tooMuch.json())).toContain("overlapRate");
    expect(rates()).toEqual(before);
    const saved = await post({ intent: "checks", auditRate: "0.05", auditMaxShare: "0.2", goldRate: "0.1", overlapRate: "0.15" });
    expect(saved.status).toBe(200);
    expect(rates()).toEqual({ a: 0.05, s: 0.2, g: 0.1, o: 0.15 });

    const [query] = db().select().from(queries).where(eq(queries.studyId, studyId)).all();
    const [one, two] = db().select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).all();
    const gold = () => db().select().from(goldItems).where(eq(goldItems.studyId, studyId)).all();
    const item = { intent: "mark-gold", queryId: String(query!.id), promptAId: String(two!.id), promptBId: String(one!.id), preferred: "a" };
    expect((await post({ ...item, promptBId: String(two!.id) })).status).toBe(400);
    expect((await post({ ...item, preferred: "" })).status).toBe(400);
    // A prompt of another study (the demo study's first) is refused.
    const foreign = db().select().from(prompts).where(ne(prompts.studyId, studyId)).get()!;
    expect((await post({ ...item, promptAId: String(foreign.id) })).status).toBe(400);
    expect(gold()).toEqual([]);
    expect((await post(item)).status).toBe(200);
    expect(gold()).toMatchObject([{ lowPromptId: one!.id, highPromptId: two!.id, preferredPromptId: two!.id }]);
    // Marking again changes the answer, not the count.
    expect((await post({ ...item, preferred: "b" })).status).toBe(200);
    expect(gold()).toMatchObject([{ preferredPromptId: one!.id }]);
    expect((await post({ intent: "unmark-gold", goldId: "999999" })).status).toBe(404);
    expect((await post({ intent: "unmark-gold", goldId: String(gold()[0]!.id) })).status).toBe(200);
    expect(gold()).toEqual([]);
    const actions = db()
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.studyId, studyId))
      .all()
      .map((entry) => entry.action)
      .filter((action) => action.startsWith("quality.") || action.startsWith("gold."));
    expect(actions).toEqual(["quality.checks_changed", "gold.marked", "gold.marked", "gold.unmarked"]);
    await post({ intent: "checks", auditRate: "0", auditMaxShare: "0.1", goldRate: "0" });
  });
});
