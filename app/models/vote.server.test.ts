import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { assignments, prompts, queries, responses, studies, votes } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { routeResponse } from "../../tests/helpers/route-response";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { db } from "~/db.server";
import { assignNextPair, getOpenAssignment } from "~/engine/assign.server";
import { createAnnotator } from "~/models/membership.server";
import { getAssignmentView, recordVote } from "~/models/vote.server";
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
    expect(recordVote(studyId, annotator.id, { assignmentId: assignment.id, choice: "right", comment: null })).toEqual({ status: "duplicate" });
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
    expect(body.errors.choice[0]).toMatch(/choice must be one of: left, right, tie, both_bad, skip/);
    expect(voteCount()).toBe(before);
    expect(db().select().from(assignments).where(eq(assignments.id, assignment.id)).get()!.status).toBe("open");
  });

  it("answers 400 for a non-numeric assignment id and an unknown intent", async () => {
    const studyId = demoStudyId();
    const { cookie } = await joinedAnnotator(studyId, "Typo");
    const before = voteCount();
    const badId = await postAnnotate(studyId, cookie, { intent: "vote", assignmentId: "abc", choice: "left" });
    expect(badId.status).toBe(400);
    expect((await badId.json()).errors.assignmentId[0]).toMatch(/assignmentId must be a number/);
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
    const replay = await postAnnotate(studyId, cookie, fields);
    expect(replay.status).toBe(302);
    expect(voteCount()).toBe(before + 1);
    const vote = db().select().from(votes).where(eq(votes.assignmentId, assignment.id)).get()!;
    expect(vote).toMatchObject({ choice: "right", latencyMs: 1234, comment: "clearer" });
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
