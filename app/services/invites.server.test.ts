import { count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { annotators, auditLog, studies, studyAnnotators, studyMembers, users } from "../../db/schema";
import { actorOfCookie, invitedMember, signedInOwner, TEST_PASSWORD } from "../../tests/helpers/in-process-actors";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import type { Actor } from "~/auth/actor.server";
import { authorizeStudy } from "~/auth/authorize.server";
import { db } from "~/db.server";
import {
  acceptMemberInvite,
  acceptMemberInviteWithNewAccount,
  createAnnotatorInvite,
  createMemberInvite,
  joinWithInvite,
  revokeInviteAs,
} from "./invites.server";
import { removeAnnotatorAs } from "./members.server";
import { createOwnedStudy } from "../../tests/helpers/owned-study";

const DAY = 86_400_000;
const anonymous: Actor = { kind: "anonymous" };

describe("invite links", () => {
  useTempAppDatabase();
  let owner: Awaited<ReturnType<typeof signedInOwner>>;
  let studyId: number;
  let otherStudyId: number;
  const manage = (id = studyId) => authorizeStudy(owner.actor, id, "study:manage");
  const annotatorLink = (options: { maxUses?: number | null; expiresInDays?: number | null } = {}, now?: Date) =>
    createAnnotatorInvite(manage(), { label: null, maxUses: options.maxUses ?? null, expiresInDays: options.expiresInDays ?? null }, now).token;
  const annotatorsIn = (id: number) => db().select({ n: count() }).from(studyAnnotators).where(eq(studyAnnotators.studyId, id)).get()!.n;

  beforeAll(async () => {
    owner = await signedInOwner();
    studyId = db().select({ id: studies.id }).from(studies).get()!.id;
    otherStudyId = createOwnedStudy(owner.actor.user.id, {
      name: "Other",
      task: "t",
      model: "m",
      temperature: 0.7,
      maxTokens: 100,
      seed: null,
      prompts: [
        { text: "A", label: null, source: "manual" },
        { text: "B", label: null, source: "manual" },
      ],
      queries: [{ text: "q", notes: null }],
      variants: null,
      responses: [],
    }).studyId;
    // Roles are read per request: the owner's next request sees the new study.
    const { actor } = await actorOfCookie(owner.cookie);
    if (actor.kind !== "user") throw new Error("not signed in");
    owner = { ...owner, actor };
  });

  it("stores only the token's hash, and audits the link", () => {
    const token = annotatorLink();
    const stored = db().$client.prepare("select token_hash from invites order by id desc limit 1").pluck().get() as string;
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(token);
    expect(db().select().from(auditLog).where(eq(auditLog.action, "invite.created")).all().length).toBeGreaterThan(0);
  });

  it("lets a single-use link in once: the second person is refused and nothing is written", () => {
    const token = annotatorLink({ maxUses: 1 });
    const before = annotatorsIn(studyId);
    expect(joinWithInvite(token, { actor: anonymous, displayName: "First" })).toMatchObject({ ok: true, studyId });
    const second = joinWithInvite(token, { actor: anonymous, displayName: "Second" });
    expect(second).toMatchObject({ ok: false, status: 410, message: expect.stringContaining("used by as many people") });
    expect(annotatorsIn(studyId)).toBe(before + 1);
    expect(db().select().from(annotators).where(eq(annotators.displayName, "Second")).get()).toBeUndefined();
  });

  it("counts up to its maximum, and an open link has none", () => {
    const limited = annotatorLink({ maxUses: 3 });
    const results = ["A", "B", "C", "D"].map((name) => joinWithInvite(limited, { actor: anonymous, displayName: name }).ok);
    expect(results).toEqual([true, true, true, false]);
    const open = annotatorLink();
    for (let k = 0; k < 25; k++) expect(joinWithInvite(open, { actor: anonymous, displayName: `Crowd ${k}` }).ok).toBe(true);
  });

  it("expires, and a revoked link stops working at once", () => {
    const created = new Date(Date.now() - 3 * DAY);
    const expired = annotatorLink({ expiresInDays: 2 }, created);
    expect(joinWithInvite(expired, { actor: anonymous, displayName: "Late" })).toMatchObject({
      ok: false,
      status: 410,
      message: expect.stringContaining("expired"),
    });
    const fresh = annotatorLink({ expiresInDays: 2 });
    expect(joinWithInvite(fresh, { actor: anonymous, displayName: "On time" }).ok).toBe(true);
    const revoked = createAnnotatorInvite(manage(), { label: "to revoke", maxUses: null, expiresInDays: null });
    expect(revokeInviteAs(manage(), revoked.id)).toBe(true);
    expect(revokeInviteAs(manage(), revoked.id)).toBe(false);
    expect(joinWithInvite(revoked.token, { actor: anonymous, displayName: "Too late" })).toMatchObject({ ok: false, status: 410 });
  });

  it("answers an unknown or malformed token like a missing one, and a member invite is not an annotator link", () => {
    for (const token of ["", "x", "x".repeat(43), "../../etc/passwd", `${annotatorLink()}x`]) {
      expect(joinWithInvite(token, { actor: anonymous, displayName: "Eve" })).toMatchObject({ ok: false, status: 404 });
    }
    const memberLink = createMemberInvite(manage(), { role: "viewer", expiresInDays: 1 }).token;
    expect(joinWithInvite(memberLink, { actor: anonymous, displayName: "Eve" })).toMatchObject({ ok: false, status: 404 });
  });

  it("scopes an annotator to the studies they joined: a second link adds its study to the same session, without a second place", () => {
    const first = joinWithInvite(annotatorLink(), { actor: anonymous, displayName: "Two studies" });
    if (!first.ok) throw new Error(first.message);
    const actor: Actor = {
      kind: "annotator",
      sessionId: first.session!.id,
      annotator: first.annotator,
      studies: new Map([[studyId, { removed: false }]]),
    };
    const single = createAnnotatorInvite(manage(otherStudyId), { label: null, maxUses: 1, expiresInDays: null }).token;
    const second = joinWithInvite(single, { actor, displayName: null });
    expect(second).toMatchObject({ ok: true, studyId: otherStudyId, annotator: first.annotator, session: null });
    // Again through a used-up link: already a member, so it needs no place.
    const again = joinWithInvite(single, {
      actor: { ...actor, studies: new Map([...actor.studies, [otherStudyId, { removed: false }]]) },
      displayName: null,
    });
    expect(again).toMatchObject({ ok: true, studyId: otherStudyId });
  });

  it("keeps a removed annotator out, even through a fresh link", () => {
    const joined = joinWithInvite(annotatorLink(), { actor: anonymous, displayName: "Removed" });
    if (!joined.ok) throw new Error(joined.message);
    expect(removeAnnotatorAs(manage(), joined.annotator.id)).toBe(true);
    const actor: Actor = {
      kind: "annotator",
      sessionId: joined.session!.id,
      annotator: joined.annotator,
      studies: new Map([[studyId, { removed: true }]]),
    };
    expect(joinWithInvite(annotatorLink(), { actor, displayName: null })).toMatchObject({ ok: false, status: 403 });
  });

  it("makes a member once through a member invite, refuses a taken email without using the link, and keeps existing roles", async () => {
    const link = createMemberInvite(manage(), { role: "editor", expiresInDays: 7 }).token;
    const taken = await acceptMemberInviteWithNewAccount(link, { email: owner.email, displayName: "Dup", password: TEST_PASSWORD });
    expect(taken).toMatchObject({ ok: false, field: "email" });
    const accepted = await acceptMemberInviteWithNewAccount(link, { email: "editor@example.com", displayName: "Ed", password: TEST_PASSWORD });
    expect(accepted).toMatchObject({ ok: true, role: "editor", studyId });
    const reused = await acceptMemberInviteWithNewAccount(link, { email: "second@example.com", displayName: "Sec", password: TEST_PASSWORD });
    expect(reused).toMatchObject({ ok: false, status: 410 });
    expect(db().select().from(users).where(eq(users.email, "second@example.com")).get()).toBeUndefined();

    const viewer = await invitedMember(owner, studyId, "viewer");
    if (viewer.actor.kind !== "user") throw new Error("not an account");
    const upgrade = createMemberInvite(manage(), { role: "owner", expiresInDays: 7 }).token;
    expect(acceptMemberInvite(upgrade, viewer.actor)).toMatchObject({ ok: false, status: 409 });
    const role = db().select({ role: studyMembers.role }).from(studyMembers).where(eq(studyMembers.userId, viewer.actor.user.id)).get()!.role;
    expect(role).toBe("viewer");
  });
});
