import { and, eq, isNull } from "drizzle-orm";
import { apiTokens, type StudyRole } from "../../db/schema";
import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { discardStudyEngine } from "~/engine/engine.server";
import { countOwners, removeAnnotatorFromStudy, removeMember, roleOf, setAnnotatorExcluded, setMemberRole } from "~/models/membership.server";
import { studyJudge } from "~/llm/judge.server";
import { auditStudy } from "./audit.server";

// Study members (accounts with a role) and the study's annotators, as its owners manage them.

export type MemberChange = { ok: true } | { ok: false; message: string };

const LAST_OWNER = "A study needs at least one owner: make someone else an owner first.";

export function changeMemberRole(access: StudyAccess, userId: number, role: StudyRole): MemberChange {
  assertPermission(access, "study:manage");
  return db().transaction((tx): MemberChange => {
    const current = roleOf(tx, access.studyId, userId);
    if (!current) return { ok: false, message: "Not a member of this study" };
    if (current === role) return { ok: true };
    if (current === "owner" && countOwners(tx, access.studyId) === 1) return { ok: false, message: LAST_OWNER };
    setMemberRole(tx, access.studyId, userId, role);
    auditStudy(tx, access, "member.role_changed", { userId, from: current, to: role });
    return { ok: true };
  });
}

/** Takes a member out of the study; their API tokens for it are revoked with them. */
export function removeMemberAs(access: StudyAccess, userId: number, now = new Date()): MemberChange {
  assertPermission(access, "study:manage");
  return db().transaction((tx): MemberChange => {
    const current = roleOf(tx, access.studyId, userId);
    if (!current) return { ok: false, message: "Not a member of this study" };
    if (current === "owner" && countOwners(tx, access.studyId) === 1) return { ok: false, message: LAST_OWNER };
    removeMember(tx, access.studyId, userId);
    tx.update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.studyId, access.studyId), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .run();
    auditStudy(tx, access, "member.removed", { userId, role: current });
    return { ok: true };
  });
}

/** Removes an annotator from the study: access ends at their next request; their votes stay, flagged. */
export function removeAnnotatorAs(access: StudyAccess, annotatorId: number): boolean {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const removed = removeAnnotatorFromStudy(tx, access.studyId, annotatorId);
    if (removed) auditStudy(tx, access, "annotator.removed", { annotatorId });
    return removed;
  });
}

/**
 * Excludes an annotator's votes from the leaderboard and the engine, or counts them again: one
 * transaction (the flag, the tallies through their trigger, the audit row); after the commit the
 * study's engine is discarded and rebuilt from the votes it now counts, as after an undo (ADR 0025).
 * Their votes are kept and marked in exports; they keep access (removing them is another action).
 */
export async function setAnnotatorExclusionAs(
  access: StudyAccess,
  annotatorId: number,
  exclude: boolean,
  now = new Date(),
): Promise<"changed" | "unchanged" | "not_found" | "judge"> {
  assertPermission(access, "study:manage");
  // The LLM judge's flag follows its setting (counted or shown separately, ADR 0032), set on the judge page.
  if (studyJudge(db(), access.studyId)?.annotatorId === annotatorId) return "judge";
  const result = db().transaction((tx) => {
    const change = setAnnotatorExcluded(tx, access.studyId, annotatorId, exclude ? now : null);
    if (change === "changed") auditStudy(tx, access, exclude ? "annotator.excluded" : "annotator.reinstated", { annotatorId });
    return change;
  });
  if (result === "changed") await discardStudyEngine(access.studyId);
  return result;
}
