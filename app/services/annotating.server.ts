import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import type { assignments } from "../../db/schema";
import { issueNextAssignment, withProposalRollback } from "~/engine/assign.server";
import { getStudyEngine } from "~/engine/engine.server";
import { createAnnotator, joinStudy, memberAnnotator } from "~/models/membership.server";
import { recordVote, type RecordVoteResult, type VoteInput } from "~/models/vote.server";

type Assignment = typeof assignments.$inferSelect;

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

/**
 * A vote, and with `next` the annotator's next assignment, in one transaction: the one way both the annotate
 * page and the JSON API vote. The engine hears of the vote and of the pair handed out only after the commit;
 * when the transaction rolls back, the proposals it claimed go back to the engine. The vote is not counted
 * when the assignment is not this annotator's (`not_found`, `forbidden`) or was answered already (`duplicate`,
 * `conflict`, `withdrawn`: recordVote's stale-tab answers); `next` is null when no pair is available.
 */
export function voteAs(access: StudyAccess, input: VoteInput, options: { next: boolean }): { result: RecordVoteResult; next: Assignment | null } {
  const annotator = ensureAnnotator(access);
  const { studyId } = access;
  const outcome = withProposalRollback(studyId, () =>
    db().transaction(() => {
      const result = recordVote(studyId, annotator.id, input);
      const answered = result.status !== "not_found" && result.status !== "forbidden";
      return { result, assignment: options.next && answered ? issueNextAssignment(studyId, annotator.id) : null };
    }),
  );
  if (outcome.result.status === "recorded" || outcome.assignment?.created) getStudyEngine(studyId).requestUpdate();
  return { result: outcome.result, next: outcome.assignment?.row ?? null };
}
