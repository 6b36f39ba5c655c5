import type { AuditAction } from "../../db/schema";
import { actorLabel, type TokenActor, type UserActor } from "~/auth/actor.server";
import { ownerSideActor, type StudyAccess } from "~/auth/authorize.server";
import type { Queryable } from "~/llm/queryable.server";
import { recordAudit } from "~/models/audit.server";

/** Records an owner-side action on the study, as the access's actor, inside the caller's transaction. */
export function auditStudy(tx: Queryable, access: StudyAccess, action: AuditAction, details: Record<string, unknown> = {}): void {
  auditAs(tx, ownerSideActor(access), access.studyId, action, details);
}

export function auditAs(
  tx: Queryable,
  actor: UserActor | TokenActor,
  studyId: number | null,
  action: AuditAction,
  details: Record<string, unknown> = {},
) {
  recordAudit(tx, {
    studyId,
    actorUserId: actor.kind === "user" ? actor.user.id : actor.token.userId,
    actorTokenId: actor.kind === "token" ? actor.token.id : null,
    actor: actorLabel(actor),
    action,
    details,
  });
}
