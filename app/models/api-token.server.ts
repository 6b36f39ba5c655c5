import { and, desc, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import { apiTokens, studyMembers, users, type TokenScope } from "../../db/schema";
import { API_TOKEN_PREFIX, hashSecretToken, newSecretToken } from "~/auth/secret-token.server";
import { db, prepared } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";

// last_used_at is bookkeeping, not an audit trail: written at most this often per token, so a script
// polling the API does not turn every read into a write.
const LAST_USED_RESOLUTION_MS = 60_000;

/** A live token (not revoked, not expired) with its creator's current role in the token's study (null: no longer a member). */
export function findLiveApiToken(token: string, now = new Date()) {
  return prepared("apiToken.byHash", (database) =>
    database
      .select({
        id: apiTokens.id,
        name: apiTokens.name,
        scope: apiTokens.scope,
        studyId: apiTokens.studyId,
        userId: apiTokens.userId,
        lastUsedAt: apiTokens.lastUsedAt,
        creatorEmail: users.email,
        creatorRole: studyMembers.role,
      })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .leftJoin(studyMembers, and(eq(studyMembers.studyId, apiTokens.studyId), eq(studyMembers.userId, apiTokens.userId)))
      .where(
        and(
          eq(apiTokens.tokenHash, sql.placeholder("tokenHash")),
          isNull(apiTokens.revokedAt),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, sql.placeholder("now"))),
        ),
      )
      .prepare(),
  ).get({ tokenHash: hashSecretToken(token), now: now.getTime() });
}

/** Records that the token was used now, unless that was already recorded within the last minute. */
export function touchApiToken(tokenId: number, now = new Date()): void {
  prepared("apiToken.touch", (database) =>
    database
      .update(apiTokens)
      .set({ lastUsedAt: sql`${sql.placeholder("now")}` })
      .where(and(eq(apiTokens.id, sql.placeholder("id")), or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql.placeholder("staleBefore")))))
      .prepare(),
  ).run({ id: tokenId, now: now.getTime(), staleBefore: now.getTime() - LAST_USED_RESOLUTION_MS });
}

export function insertApiToken(
  database: Queryable,
  input: { userId: number; studyId: number; name: string; scope: TokenScope; expiresAt: Date | null },
): { id: number; token: string } {
  const token = newSecretToken(API_TOKEN_PREFIX);
  const { id } = database
    .insert(apiTokens)
    .values({ ...input, tokenHash: hashSecretToken(token), prefix: token.slice(0, API_TOKEN_PREFIX.length + 6) })
    .returning({ id: apiTokens.id })
    .get();
  return { id, token };
}

export function revokeApiToken(database: Queryable, studyId: number, tokenId: number, now = new Date()) {
  return database
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.studyId, studyId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id, name: apiTokens.name, scope: apiTokens.scope })
    .get();
}

/** The study's tokens for its owners (never the secret): newest first. */
export function listStudyApiTokens(studyId: number) {
  return db()
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      scope: apiTokens.scope,
      prefix: apiTokens.prefix,
      createdBy: users.email,
      createdAt: apiTokens.createdAt,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.studyId, studyId))
    .orderBy(desc(apiTokens.id))
    .all();
}
