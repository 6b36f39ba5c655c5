import { and, count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { assignments, prompts, queries, responses, studies, votes } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { routeResponse } from "../../tests/helpers/route-response";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { assignNextPair, forgetUsableItems, getOpenAssignment } from "~/engine/assign.server";
import { createAnnotator } from "~/models/membership.server";
import { countAnnotatorVotes, getAssignmentView, recordVote, undoableVote, undoVote } from "~/models/vote.server";
import { action } from "~/routes/studies.$studyId.annotate";
import { invitedAnnotator, signedInOwner, type TestActor } from "../../tests/helpers/in-process-actors";

function demoStudyId() {
  return db().select({ id: studies.id }).from(studies).get()!.id;
}

function voteCount() {
  return db().select({ n: count() }).from(votes).get()!.n;
}

let owner: TestActor | undefined;
/** An annotator invited to the study by its owner, joined through the link: their id and session cookie. */
async function joinedAnnotator(studyId: number, name: string) {
  owner ??= await signedInOwner();
  const joined = await invitedAnnotator(owner, studyId, name);
  return { id: joined.annotatorId, cookie: joined.cookie };
}

async function postAnnotate(studyId: number, cookie: string, fields: Record<string, string>) {
  const request = new Request(`http://localhost/studies/${studyId}/annotate`, {
    method: "POST",
    headers: { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields),
  });
  return routeResponse(() => action({ request, params: { studyId: String(studyId) }, context: {} }));
}

describe("assignment and vote", () => {
  useTempAppDatabase();

  it("hands out a blind pair of two different prompts whose responses are ready, and keeps it until answered", () => {
    const studyId = demoStudyId();
    const annotator = createAnnotator(db(), "Ada");
    const assignment = assignNextPair(studyId, annotator.id)!;
    expect(assignment.promptAId).not.toBe(assignment.promptBId);
    expect(assignNextPair(studyId, annotator.id)!.id).toBe(assignment.id);
    expect(getOpenAssignment(studyId, annotator.id)!.id).toBe(assignment.id);
    const view = getAssignmentView(assignment.id)!;
    expect(view.left.length).toBeGreaterThan(0);
    expect(view.right.length).toBeGreaterThan(0);
    expect(view.left).not.toBe(view.right);
    expect(Object.keys(view).sort()).toEqual(["assignmentId", "left", "query", "right"]);
  });

  it("records a vote and marks the assignment answered in one transaction; a double submit counts once", () => {
    const studyId = demoStudyId();
    const annotator = createAnnotator(db(), "Grace");
    const assignment = assignNextPair(studyId, annotator.id)!;
    const before = voteCount();
    expect(recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "left", comment: null })).toEqual({ status: "recorded" });
    // A different choice from a stale tab is ignored and says so; the same choice again is a plain repeat.
    expect(recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "right", comment: null })).toEqual({
      status: "conflict",
      recordedChoice: "left",
    });
    expect(recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "left", comment: null })).toEqual({
      status: "duplicate",
      recordedChoice: "left",
    });
    expect(voteCount()).toBe(before + 1);
    const stored = db().select().from(votes).where(eq(votes.assignmentId, assignment.id)).all();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.choice).toBe("left");
    expect(stored[0]!.annotatorId).toBe(annotator.id);
    expect(db().select().from(assignments).where(eq(assignments.id, assignment.id)).get()!.status).toBe("answered");
    const next = assignNextPair(studyId, annotator.id)!;
    expect(next.id).not.toBe(assignment.id);
  });

  it("refuses a vote on another annotator's assignment or another study's, writing nothing", () => {
    const studyId = demoStudyId();
    const owner = createAnnotator(db(), "Owner of the pair");
    const intruder = createAnnotator(db(), "Intruder");
    const assignment = assignNextPair(studyId, owner.id)!;
    const before = voteCount();
    expect(recordVote(studyId, intruder.id, { assignmentId: assignment.id, choice: "left", comment: null }).status).toBe("forbidden");
    expect(recordVote(studyId + 1000, owner.id, { assignmentId: assignment.id, choice: "left", comment: null }).status).toBe("not_found");
    expect(voteCount()).toBe(before);
  });

  it("expired assignments are replaced by a new pair, and a late vote on one still counts once", () => {
    const studyId = demoStudyId();
    const annotator = createAnnotator(db(), "Late");
    const old = assignNextPair(studyId, annotator.id, { now: new Date(Date.now() - 60 * 60_000) })!;
    const fresh = assignNextPair(studyId, annotator.id)!;
    expect(fresh.id).not.toBe(old.id);
    expect(db().select().from(assignments).where(eq(assignments.id, old.id)).get()!.status).toBe("expired");
    expect(recordVote(studyId, annotator.id, { assignmentId: old.id, choice: "tie", comment: null }).status).toBe("recorded");
    expect(recordVote(studyId, annotator.id, { assignmentId: old.id, choice: "tie", comment: null }).status).toBe("duplicate");
  });

  it("hands out nothing without ready responses, and never the same duel twice in a row when another exists", () => {
    const study = db().insert(studies).values({ name: "three prompts", task: "t", model: "m" }).returning().get();
    const annotator = createAnnotator(db(), "Repeat");
    const promptIds = ["a", "b", "c"].map(
      (text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).returning().get().id,
    );
    const query = db().insert(queries).values({ studyId: study.id, text: "q" }).returning().get();
    expect(assignNextPair(study.id, annotator.id)).toBeNull();
    const settingsHash = generationSettingsHash(study);
    for (const promptId of promptIds) {
      db()
        .insert(responses)
        .values({ promptId, queryId: query.id, settingsHash, content: `answer ${promptId}`, status: "ready" })
        .run();
    }
    // A seeded linear congruential source: deterministic, yet not constant.
    let state = 42;
    const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    let previous = "";
    const seen = new Set<string>();
    for (let round = 0; round < 30; round++) {
      const assignment = assignNextPair(study.id, annotator.id, { random })!;
      const duel = [assignment.promptAId, assignment.promptBId].sort().join("-");
      expect(duel).not.toBe(previous);
      previous = duel;
      seen.add(duel);
      recordVote(study.id, annotator.id, { assignmentId: assignment.id, choice: "skip", comment: null });
    }
    expect(seen.size).toBe(3);
  });

  it("serves every fresh (query, pair) before any repeat, least-annotated queries first, and never a disabled query", () => {
    const study = db().insert(studies).values({ name: "fresh pairs", task: "t", model: "m" }).returning().get();
    const settingsHash = generationSettingsHash(study);
    const promptIds = ["p1", "p2", "p3"].map(
      (text) => db().insert(prompts).values({ studyId: study.id, text, normalizedText: text }).returning().get().id,
    );
    const queryIds = ["q1", "q2", "q3"].map((text) => db().insert(queries).values({ studyId: study.id, text }).returning().get().id);
    for (const promptId of promptIds) {
      for (const queryId of queryIds) {
        db()
          .insert(responses)
          .values({ promptId, queryId, settingsHash, content: `${promptId}/${queryId}`, status: "ready" })
          .run();
      }
    }
    // q3 is disabled: 3 pairs x 2 queries = 6 combinations remain.
    db().update(queries).set({ active: false }).where(eq(queries.id, queryIds[2]!)).run();
    forgetUsableItems(study.id);
    let state = 7;
    const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const ada = createAnnotator(db(), "Ada");
    const combination = (a: { promptAId: number; promptBId: number; queryId: number }) =>
      `${Math.min(a.promptAId, a.promptBId)}-${Math.max(a.promptAId, a.promptBId)}|${a.queryId}`;
    const served: string[] = [];
    for (let round = 0; round < 8; round++) {
      const assignment = assignNextPair(study.id, ada.id, { random })!;
      expect(assignment.queryId).not.toBe(queryIds[2]);
      served.push(combination(assignment));
      recordVote(study.id, ada.id, { assignmentId: assignment.id, choice: "left", comment: null });
    }
    // The first six are the six combinations; only then does one come back.
    expect(new Set(served.slice(0, 6)).size).toBe(6);
    expect(served.slice(6).every((key) => served.slice(0, 6).includes(key))).toBe(true);
    // Another annotator on the same pair gets the query answered least so far.
    const grace = createAnnotator(db(), "Grace");
    const first = assignNextPair(study.id, grace.id, { random })!;
    const answers = db()
      .select({ queryId: assignments.queryId, n: count() })
      .from(assignments)
      .where(and(eq(assignments.status, "answered"), eq(assignments.studyId, study.id)))
      .groupBy(assignments.queryId)
      .all();
    const onPair = served.filter((key) => key.startsWith(combination(first).split("|")[0]!));
    const timesOf = (queryId: number) => onPair.filter((key) => key.endsWith(`|${queryId}`)).length;
    expect(answers.length).toBeGreaterThan(0);
    expect(timesOf(first.queryId)).toBe(Math.min(timesOf(queryIds[0]!), timesOf(queryIds[1]!)));
  });
});

describe("annotate action", () => {
  useTempAppDatabase();

  it("answers 400 with a field error for an invalid choice and writes nothing", async () => {
    const studyId = demoStudyId();
    const { cookie, ...annotator } = await joinedAnnotator(studyId, "Bad input");
    const assignment = assignNextPair(studyId, annotator.id)!;
    const before = voteCount();
    const response = await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: String(assignment.id), choice: "maybe" });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.fieldErrors.choice[0]).toMatch(/choice must be one of: left, right, tie, both_bad, skip/);
    expect(voteCount()).toBe(before);
    expect(db().select().from(assignments).where(eq(assignments.id, assignment.id)).get()!.status).toBe("open");
  });

  it("answers 400 for a non-numeric assignment id and an unknown intent", async () => {
    const studyId = demoStudyId();
    const { cookie } = await joinedAnnotator(studyId, "Typo");
    const before = voteCount();
    const badId = await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: "abc", choice: "left" });
    expect(badId.status).toBe(400);
    expect((await badId.json()).fieldErrors.assignmentId[0]).toMatch(/assignmentId must be a positive whole number/);
    for (const loose of ["0x1", "1e0", "+1", " 1"]) {
      expect((await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: loose, choice: "left" })).status, loose).toBe(400);
    }
    const badIntent = await postAnnotate(studyId, cookie, { intent: "delete-everything" });
    expect(badIntent.status).toBe(400);
    expect(voteCount()).toBe(before);
  });

  it("records a valid vote and redirects to the next pair; a replayed post does not count twice", async () => {
    const studyId = demoStudyId();
    const { cookie, ...annotator } = await joinedAnnotator(studyId, "Valid");
    const assignment = assignNextPair(studyId, annotator.id)!;
    const before = voteCount();
    const fields = { intent: "vote", assignmentId: String(assignment.id), choice: "right", latencyMs: "1234", comment: "clearer" };
    const first = await postAnnotate(studyId, cookie, fields);
    expect(first.status).toBe(302);
    expect(first.headers.get("Location")).toBe(`/studies/${studyId}/annotate`);
    // A replay (a stale tab) stays on the page and says the vote was already recorded.
    const replay = await postAnnotate(studyId, cookie, fields);
    expect(replay.status).toBe(200);
    expect((await replay.json()).notice.text).toMatch(/already recorded/);
    const otherChoice = await postAnnotate(studyId, cookie, { ...fields, choice: "left" });
    expect((await otherChoice.json()).notice.text).toMatch(/already answered with “B is better”.*“A is better”, was not counted/);
    expect(voteCount()).toBe(before + 1);
    const vote = db().select().from(votes).where(eq(votes.assignmentId, assignment.id)).get()!;
    expect(vote).toMatchObject({ choice: "right", latencyMs: 1234, comment: "clearer" });
  });

  it("undoes the latest vote within the window: the same pair comes back and voting again counts once", () => {
    const studyId = demoStudyId();
    const annotator = createAnnotator(db(), "Second thoughts");
    const first = assignNextPair(studyId, annotator.id)!;
    const castAt = new Date();
    expect(recordVote(studyId, annotator.id, { assignmentId: first.id, choice: "left", comment: "hm" }).status).toBe("recorded");
    const next = assignNextPair(studyId, annotator.id)!;
    const before = voteCount();
    expect(undoVote(studyId, annotator.id, next.id, castAt)).toEqual({ status: "not_found" });
    const undone = undoVote(studyId, annotator.id, first.id, new Date(castAt.getTime() + 2_000));
    expect(undone).toMatchObject({ status: "undone", comment: "hm" });
    expect(voteCount()).toBe(before - 1);
    const status = (id: number) => db().select().from(assignments).where(eq(assignments.id, id)).get()!;
    expect(status(first.id).status).toBe("withdrawn");
    expect(status(next.id).status).toBe("expired");
    // The same pair, query and sides again, as the annotator's open assignment.
    const again = getOpenAssignment(studyId, annotator.id)!;
    expect(again.id).toBe(undone.status === "undone" ? undone.assignmentId : -1);
    expect({ ...again, id: 0, issuedAt: 0, expiresAt: 0 }).toEqual({ ...status(first.id), id: 0, issuedAt: 0, expiresAt: 0, status: "open" });
    // A late click in a stale tab on the withdrawn pair is refused; the new vote replaces the old one.
    expect(recordVote(studyId, annotator.id, { assignmentId: first.id, choice: "right", comment: null }).status).toBe("withdrawn");
    expect(recordVote(studyId, annotator.id, { assignmentId: again.id, choice: "right", comment: null }).status).toBe("recorded");
    expect(voteCount()).toBe(before);
    expect(countAnnotatorVotes(studyId, annotator.id)).toBe(1);
  });

  it("refuses an undo after the window, and of any vote but the latest", () => {
    const studyId = demoStudyId();
    const annotator = createAnnotator(db(), "Too slow");
    const first = assignNextPair(studyId, annotator.id)!;
    recordVote(studyId, annotator.id, { assignmentId: first.id, choice: "tie", comment: null });
    const second = assignNextPair(studyId, annotator.id)!;
    recordVote(studyId, annotator.id, { assignmentId: second.id, choice: "skip", comment: null });
    expect(undoVote(studyId, annotator.id, first.id).status).toBe("not_found");
    expect(undoVote(studyId, annotator.id, second.id, new Date(Date.now() + 60_000)).status).toBe("too_late");
    expect(undoableVote(studyId, annotator.id, { revealPrompts: false, now: new Date(Date.now() + 60_000) })).toBeNull();
    expect(undoableVote(studyId, annotator.id, { revealPrompts: false })).toMatchObject({ assignmentId: second.id, choice: "skip", revealed: null });
    expect(countAnnotatorVotes(studyId, annotator.id)).toBe(2);
  });

  it("stores a blank latency as not measured (null), never as 0, and refuses a loose one", async () => {
    const studyId = demoStudyId();
    const { id: annotatorId, cookie } = await joinedAnnotator(studyId, "No script");
    const annotator = { id: annotatorId };
    const assignment = assignNextPair(studyId, annotator.id)!;
    const before = voteCount();
    const loose = await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: String(assignment.id), choice: "left", latencyMs: "0x10" });
    expect(loose.status).toBe(400);
    expect(voteCount()).toBe(before);
    const blank = await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: String(assignment.id), choice: "left", latencyMs: "" });
    expect(blank.status).toBe(302);
    expect(db().select().from(votes).where(eq(votes.assignmentId, assignment.id)).get()!.latencyMs).toBeNull();
  });

  it("redirects to sign in without a session and 404s a study the annotator did not join", async () => {
    const noSession = await postAnnotate(demoStudyId(), "", { intent: "start" });
    expect(noSession.status).toBe(302);
    expect(noSession.headers.get("Location")).toMatch(/^\/login\?redirectTo=%2Fstudies%2F\d+%2Fannotate$/);
    const { cookie } = await joinedAnnotator(demoStudyId(), "Lost");
    const missing = await postAnnotate(999_999, cookie, { intent: "start" });
    expect(missing.status).toBe(404);
  });
});
