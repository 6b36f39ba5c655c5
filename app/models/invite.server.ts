import { and, desc, eq, gt, isNull, lt, ne, or, sql } from "drizzle-orm";
import { invites, studies, type InviteRole } from "../../db/schema";
import { hashSecretToken, looksLikeSecretToken, newSecretToken } from "~/auth/secret-token.server";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";

export interface NewInvite {
  studyId: number;
  role: InviteRole;
  label: string | null;
  /** Null for links made outside the app (the server benchmark). */
  createdByUserId: number | null;
  expiresAt: Date | null;
  maxUses: number | null;
}

/** Stores an invite link; the token is returned once and only its hash is kept. */
export function insertInvite(database: Queryable, input: NewInvite): { id: number; token: string } {
  const token = newSecretToken();
  const { id } = database
    .insert(invites)
    .values({ ...input, tokenHash: hashSecretToken(token) })
    .returning({ id: invites.id })
    .get();
  return { id, token };
}

export type InviteState = "usable" | "revoked" | "expired" | "used_up";

export function inviteState(
  invite: { revokedAt: Date | null; expiresAt: Date | null; maxUses: number | null; uses: number },
  now = new Date(),
): InviteState {
  if (invite.revokedAt) return "revoked";
  if (invite.expiresAt && invite.expiresAt.getTime() <= now.getTime()) return "expired";
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return "used_up";
  return "usable";
}

/** The invite a link's token names (any state), with its study's name; undefined for an unknown token. */
export function findInviteByToken(database: Queryable, token: string) {
  if (!looksLikeSecretToken(token)) return undefined;
  return database
    .select({
      id: invites.id,
      studyId: invites.studyId,
      studyName: studies.name,
      role: invites.role,
      expiresAt: invites.expiresAt,
      maxUses: invites.maxUses,
      uses: invites.uses,
      revokedAt: invites.revokedAt,
    })
    .from(invites)
    .innerJoin(studies, eq(studies.id, invites.studyId))
    .where(eq(invites.tokenHash, hashSecretToken(token)))
    .get();
}

/**
 * Counts one more person in, if the invite is still usable: one conditional UPDATE, so two people
 * racing for the last place of a limited link cannot both get it (SQLite runs writers one at a time).
 */
export function claimInviteUse(database: Queryable, inviteId: number, now = new Date()): boolean {
  return (
    database
      .update(invites)
      .set({ uses: sql`${invites.uses} + 1` })
      .where(
        and(
          eq(invites.id, inviteId),
          isNull(invites.revokedAt),
          or(isNull(invites.expiresAt), gt(invites.expiresAt, now)),
          or(isNull(invites.maxUses), lt(invites.uses, invites.maxUses)),
        ),
      )
      .run().changes === 1
  );
}

export function revokeInvite(database: Queryable, studyId: number, inviteId: number, now = new Date()) {
  return database
    .update(invites)
    .set({ revokedAt: now })
    .where(and(eq(invites.id, inviteId), eq(invites.studyId, studyId), isNull(invites.revokedAt)))
    .returning({ id: invites.id, role: invites.role, label: invites.label })
    .get();
}

/** The study's annotator links, or its member links, for its owners (never the token): newest first. */
export function listInvites(studyId: number, kind: "annotator" | "member") {
  return db()
    .select({
      id: invites.id,
      role: invites.role,
      label: invites.label,
      createdAt: invites.createdAt,
      expiresAt: invites.expiresAt,
      maxUses: invites.maxUses,
      uses: invites.uses,
      revokedAt: invites.revokedAt,
    })
    .from(invites)
    .where(and(eq(invites.studyId, studyId), kind === "annotator" ? eq(invites.role, "annotator") : ne(invites.role, "annotator")))
    .orderBy(desc(invites.id))
    .all();
}
