import type { TokenScope } from "../../db/schema";
import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { insertApiToken, revokeApiToken } from "~/models/api-token.server";
import { auditStudy } from "./audit.server";

const DAY_MS = 86_400_000;

/**
 * A new API token for the signed-in owner, scoped to this study: returned once (the page shows it a
 * single time), stored hashed. Only an account creates tokens: a token cannot mint another.
 */
export function createApiTokenAs(access: StudyAccess, input: { name: string; scope: TokenScope; expiresInDays: number | null }, now = new Date()) {
  assertPermission(access, "study:manage");
  const { actor } = access;
  if (actor.kind !== "user") throw new Error("createApiTokenAs: study:manage is only ever granted to accounts");
  return db().transaction((tx) => {
    const created = insertApiToken(tx, {
      userId: actor.user.id,
      studyId: access.studyId,
      name: input.name,
      scope: input.scope,
      expiresAt: input.expiresInDays === null ? null : new Date(now.getTime() + input.expiresInDays * DAY_MS),
    });
    auditStudy(tx, access, "token.created", { tokenId: created.id, name: input.name, scope: input.scope, expiresInDays: input.expiresInDays });
    return created;
  });
}

export function revokeApiTokenAs(access: StudyAccess, tokenId: number): boolean {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const revoked = revokeApiToken(tx, access.studyId, tokenId);
    if (revoked) auditStudy(tx, access, "token.revoked", { tokenId, name: revoked.name, scope: revoked.scope });
    return revoked !== undefined;
  });
}
