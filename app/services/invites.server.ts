import type { StudyRole } from "../../db/schema";
import type { Actor, UserActor } from "~/auth/actor.server";
import { assertPermission, ownerSideActor, type StudyAccess } from "~/auth/authorize.server";
import { hashPassword } from "~/auth/password.server";
import { createSession, type NewSession } from "~/auth/session.server";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";
import { findUserByEmail, insertUser } from "~/models/account.server";
import { claimInviteUse, findInviteByToken, insertInvite, inviteState, revokeInvite, type InviteState } from "~/models/invite.server";
import { createAnnotator, joinStudy, roleOf, setMemberRole, studyMembership } from "~/models/membership.server";
import { EMAIL_TAKEN, type NewAccount } from "./accounts.server";
import { auditAs, auditStudy } from "./audit.server";

// Invite links: annotators join a study by one (display name only); members (owner / editor /
// viewer) accept one with an account. Tokens are shown once, stored hashed (models/invite.server.ts).

const DAY_MS = 86_400_000;

export interface AnnotatorInviteInput {
  label: string | null;
  /** null: an open link, for a crowd. */
  maxUses: number | null;
  expiresInDays: number | null;
}

export function createAnnotatorInvite(access: StudyAccess, input: AnnotatorInviteInput, now = new Date()) {
  assertPermission(access, "study:manage");
  const creator = ownerSideActor(access);
  return db().transaction((tx) => {
    const invite = insertInvite(tx, {
      studyId: access.studyId,
      role: "annotator",
      label: input.label,
      createdByUserId: creator.kind === "user" ? creator.user.id : creator.token.userId,
      expiresAt: input.expiresInDays === null ? null : new Date(now.getTime() + input.expiresInDays * DAY_MS),
      maxUses: input.maxUses,
    });
    auditStudy(tx, access, "invite.created", {
      inviteId: invite.id,
      role: "annotator",
      label: input.label,
      maxUses: input.maxUses,
      expiresInDays: input.expiresInDays,
    });
    return invite;
  });
}

/** A single-use link that makes whoever accepts it a member with `role`. */
export function createMemberInvite(access: StudyAccess, input: { role: StudyRole; expiresInDays: number }, now = new Date()) {
  assertPermission(access, "study:manage");
  const creator = ownerSideActor(access);
  return db().transaction((tx) => {
    const invite = insertInvite(tx, {
      studyId: access.studyId,
      role: input.role,
      label: null,
      createdByUserId: creator.kind === "user" ? creator.user.id : creator.token.userId,
      expiresAt: new Date(now.getTime() + input.expiresInDays * DAY_MS),
      maxUses: 1,
    });
    auditStudy(tx, access, "invite.created", { inviteId: invite.id, role: input.role, expiresInDays: input.expiresInDays });
    return invite;
  });
}

export function revokeInviteAs(access: StudyAccess, inviteId: number): boolean {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const revoked = revokeInvite(tx, access.studyId, inviteId);
    if (revoked) auditStudy(tx, access, "invite.revoked", { inviteId, role: revoked.role, label: revoked.label });
    return revoked !== undefined;
  });
}

export type InviteLookup = { found: false } | { found: true; state: InviteState; studyId: number; studyName: string; role: "annotator" | StudyRole };

/** What a link's holder may learn before using it: the study's name, the role offered, whether it still works. */
export function lookUpInvite(token: string, now = new Date()): InviteLookup {
  const invite = findInviteByToken(db(), token);
  if (!invite) return { found: false };
  return { found: true, state: inviteState(invite, now), studyId: invite.studyId, studyName: invite.studyName, role: invite.role };
}

export const INVITE_STATE_MESSAGES: Record<Exclude<InviteState, "usable">, string> = {
  revoked: "This invite link was revoked by the study's owner.",
  expired: "This invite link has expired.",
  used_up: "This invite link has been used by as many people as it allows.",
};
const UNKNOWN_INVITE = "This invite link is not valid. Check that you copied all of it, or ask the study's owner for a new one.";

export type JoinResult =
  | { ok: true; studyId: number; annotator: { id: number; displayName: string }; session: NewSession | null }
  | { ok: false; status: 403 | 404 | 410; message: string };

/**
 * An annotator joins the invite's study: a new annotator with `displayName` (and a new session), or
 * the annotator already signed in (`actor`), who keeps their name and session. Joining a study one
 * already joined uses no place on the link. A removed annotator cannot rejoin.
 */
export function joinWithInvite(token: string, who: { actor: Actor; displayName: string | null }, now = new Date()): JoinResult {
  return db().transaction((tx): JoinResult => {
    const invite = findInviteByToken(tx, token);
    if (!invite || invite.role !== "annotator") return { ok: false, status: 404, message: UNKNOWN_INVITE };
    const existing = who.actor.kind === "annotator" ? who.actor.annotator : null;
    if (existing) {
      const membership = studyMembership(tx, invite.studyId, existing.id);
      if (membership?.removedAt) return { ok: false, status: 403, message: "The study's owner removed you from this study." };
      if (membership) return { ok: true, studyId: invite.studyId, annotator: existing, session: null };
    }
    if (!claimInviteUse(tx, invite.id, now)) {
      const state = inviteState(invite, now);
      return { ok: false, status: 410, message: state === "usable" ? INVITE_STATE_MESSAGES.used_up : INVITE_STATE_MESSAGES[state] };
    }
    if (existing) {
      joinStudy(tx, invite.studyId, existing.id, invite.id);
      return { ok: true, studyId: invite.studyId, annotator: existing, session: null };
    }
    if (who.displayName === null) return { ok: false, status: 403, message: "Enter a display name" };
    const annotator = createAnnotator(tx, who.displayName);
    joinStudy(tx, invite.studyId, annotator.id, invite.id);
    return {
      ok: true,
      studyId: invite.studyId,
      annotator: { id: annotator.id, displayName: annotator.displayName },
      session: createSession(tx, { annotatorId: annotator.id }, now),
    };
  });
}

export type AcceptResult =
  | { ok: true; studyId: number; role: StudyRole; session: NewSession | null }
  | { ok: false; status: 400 | 404 | 409 | 410; field?: "email"; message: string };

function usableMemberInvite(tx: Queryable, token: string, now: Date) {
  const invite = findInviteByToken(tx, token);
  if (!invite || invite.role === "annotator") return { ok: false, status: 404, message: UNKNOWN_INVITE } as const;
  const state = inviteState(invite, now);
  if (state !== "usable") return { ok: false, status: 410, message: INVITE_STATE_MESSAGES[state] } as const;
  return { ok: true, invite: { ...invite, role: invite.role } } as const;
}

/** The signed-in account accepts a member invite. Someone already a member keeps their role and the link stays unused. */
export function acceptMemberInvite(token: string, actor: UserActor, now = new Date()): AcceptResult {
  return db().transaction((tx): AcceptResult => {
    const found = usableMemberInvite(tx, token, now);
    if (!found.ok) return found;
    const { invite } = found;
    const current = roleOf(tx, invite.studyId, actor.user.id);
    if (current) return { ok: false, status: 409, message: `You are already ${current === "owner" ? "an owner" : `a ${current}`} of this study.` };
    if (!claimInviteUse(tx, invite.id, now)) return { ok: false, status: 410, message: INVITE_STATE_MESSAGES.used_up };
    setMemberRole(tx, invite.studyId, actor.user.id, invite.role);
    auditAs(tx, actor, invite.studyId, "member.joined", { role: invite.role, inviteId: invite.id });
    return { ok: true, studyId: invite.studyId, role: invite.role, session: null };
  });
}

/** A new account through a member invite: created, made a member and signed in, in one transaction. */
export async function acceptMemberInviteWithNewAccount(token: string, input: NewAccount, now = new Date()): Promise<AcceptResult> {
  const passwordHash = await hashPassword(input.password);
  return db().transaction((tx): AcceptResult => {
    const found = usableMemberInvite(tx, token, now);
    if (!found.ok) return found;
    const { invite } = found;
    if (findUserByEmail(tx, input.email)) return { ok: false, status: 400, field: "email", message: EMAIL_TAKEN };
    if (!claimInviteUse(tx, invite.id, now)) return { ok: false, status: 410, message: INVITE_STATE_MESSAGES.used_up };
    const user = insertUser(tx, { email: input.email, displayName: input.displayName, passwordHash });
    setMemberRole(tx, invite.studyId, user.id, invite.role);
    const session = createSession(tx, { userId: user.id }, now);
    auditAs(tx, { kind: "user", sessionId: session.id, user, roles: new Map() }, invite.studyId, "member.joined", {
      role: invite.role,
      inviteId: invite.id,
    });
    return { ok: true, studyId: invite.studyId, role: invite.role, session };
  });
}
