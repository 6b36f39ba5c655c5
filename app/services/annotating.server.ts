import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { createAnnotator, joinStudy, memberAnnotator } from "~/models/membership.server";

/**
 * The annotator a request votes as, in a study it may annotate: an invited annotator is themselves;
 * a member (owner or editor) votes as the annotator linked to their account, if they have voted before.
 */
export function annotatorOf(access: StudyAccess): { id: number; displayName: string } | null {
  assertPermission(access, "study:annotate");
  const { actor } = access;
  if (actor.kind === "annotator") return actor.annotator;
  if (actor.kind !== "user") return null;
  return memberAnnotator(db(), actor.user.id) ?? null;
}

/** annotatorOf, creating a member's annotator (named as their account) on their first vote. */
export function ensureAnnotator(access: StudyAccess): { id: number; displayName: string } {
  const existing = annotatorOf(access);
  const { actor } = access;
  if (existing && actor.kind === "annotator") return existing;
  if (actor.kind !== "user") throw new Error("ensureAnnotator: study:annotate is granted to annotators and members only");
  return db().transaction((tx) => {
    const annotator = existing ?? createAnnotator(tx, actor.user.displayName, actor.user.id);
    joinStudy(tx, access.studyId, annotator.id, null);
    return { id: annotator.id, displayName: annotator.displayName };
  });
}
