import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createCookie, type Cookie } from "@remix-run/node";
import { and, eq, gt, lt, ne, sql } from "drizzle-orm";
import { annotators, sessions, users } from "../../db/schema";
import { db, prepared } from "~/db.server";
import { env } from "~/env.server";
import type { Queryable } from "~/llm/queryable.server";
import { hashSecretToken, looksLikeSecretToken, newSecretToken } from "./secret-token.server";

/**
 * Sessions are rows (DESIGN §9): the signed, httpOnly, SameSite=Lax cookie carries a random token,
 * the sessions table its sha256 with the account or annotator and an expiry. Deleting the row signs
 * that browser out on its next request, whatever the cookie says.
 */

/** The session cookie's name; the server also keys per-session rate limits by its value (app/http). */
export const SESSION_COOKIE_NAME = "__promptduel_session";

/**
 * Secrets that sign the cookie. SESSION_SECRET (comma list: the first signs, all verify) wins;
 * otherwise a random secret is generated once and kept beside the database (mode 0600), so
 * `npm start` needs no configuration and sessions survive restarts.
 */
function cookieSecrets(): string[] {
  const configured = env().SESSION_SECRET;
  if (configured && configured.length > 0) return configured;
  const file = path.join(path.dirname(path.resolve(env().DATABASE_PATH)), ".session-secret");
  try {
    return [fs.readFileSync(file, "utf8").trim()];
  } catch {
    const secret = crypto.randomBytes(32).toString("hex");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, secret, { mode: 0o600 });
    return [secret];
  }
}

let cookie: { secretsFor: string; cookie: Cookie } | undefined;
function sessionCookie(): Cookie {
  const key = `${env().SESSION_SECRET?.join(",") ?? ""}|${env().DATABASE_PATH}`;
  if (cookie?.secretsFor !== key) {
    cookie = {
      secretsFor: key,
      cookie: createCookie(SESSION_COOKIE_NAME, { httpOnly: true, sameSite: "lax", path: "/", secrets: cookieSecrets() }),
    };
  }
  return cookie.cookie;
}

/** The session token in a Cookie header, if its signature holds; anything else counts as none. */
export async function readSessionToken(cookieHeader: string | null): Promise<string | null> {
  if (!cookieHeader?.includes(SESSION_COOKIE_NAME)) return null;
  const value: unknown = await sessionCookie().parse(cookieHeader);
  return typeof value === "string" && looksLikeSecretToken(value) ? value : null;
}

/** Set-Cookie for a new session; Secure whenever the request came over HTTPS (see requestIsHttps). */
export async function sessionCookieHeader(session: NewSession, secure: boolean): Promise<string> {
  return sessionCookie().serialize(session.token, { expires: session.expiresAt, secure });
}

/** Set-Cookie that removes the session cookie. */
export async function clearedSessionCookieHeader(secure: boolean): Promise<string> {
  return sessionCookie().serialize("", { expires: new Date(0), maxAge: 0, secure });
}

export type SessionIdentity = { userId: number } | { annotatorId: number };

export interface NewSession {
  id: number;
  token: string;
  expiresAt: Date;
}

/** Inserts a session for the account or annotator (inside the caller's transaction when given one). */
export function createSession(database: Queryable, identity: SessionIdentity, now = new Date()): NewSession {
  const token = newSecretToken();
  const expiresAt = new Date(now.getTime() + env().SESSION_TTL_DAYS * 86_400_000);
  // Expired rows are dead weight; sweeping them here keeps the table at the size of the live sessions.
  database.delete(sessions).where(lt(sessions.expiresAt, now)).run();
  const { id } = database
    .insert(sessions)
    .values({
      tokenHash: hashSecretToken(token),
      userId: "userId" in identity ? identity.userId : null,
      annotatorId: "annotatorId" in identity ? identity.annotatorId : null,
      expiresAt,
    })
    .returning({ id: sessions.id })
    .get();
  return { id, token, expiresAt };
}

export interface SessionRecord {
  id: number;
  userId: number | null;
  annotatorId: number | null;
  email: string | null;
  userName: string | null;
  annotatorName: string | null;
}

/** The live (unexpired) session a token names, with who it belongs to; one indexed lookup. */
export function findSession(token: string, now = new Date()): SessionRecord | undefined {
  return prepared("session.byTokenHash", (database) =>
    database
      .select({
        id: sessions.id,
        userId: sessions.userId,
        annotatorId: sessions.annotatorId,
        email: users.email,
        userName: users.displayName,
        annotatorName: annotators.displayName,
      })
      .from(sessions)
      .leftJoin(users, eq(users.id, sessions.userId))
      .leftJoin(annotators, eq(annotators.id, sessions.annotatorId))
      .where(and(eq(sessions.tokenHash, sql.placeholder("tokenHash")), gt(sessions.expiresAt, sql.placeholder("now"))))
      .prepare(),
  ).get({ tokenHash: hashSecretToken(token), now: now.getTime() });
}

export function deleteSession(database: Queryable, sessionId: number): void {
  database.delete(sessions).where(eq(sessions.id, sessionId)).run();
}

/** Deletes one session of the account (and none of anyone else's). */
export function deleteUserSession(database: Queryable, userId: number, sessionId: number): boolean {
  return (
    database
      .delete(sessions)
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
      .run().changes > 0
  );
}

/** Signs the account out everywhere except `keepSessionId` (a password change, "sign out other browsers"). */
export function deleteUserSessions(database: Queryable, userId: number, keepSessionId: number | null): number {
  const condition = keepSessionId === null ? eq(sessions.userId, userId) : and(eq(sessions.userId, userId), ne(sessions.id, keepSessionId));
  return database.delete(sessions).where(condition).run().changes;
}

/** The account's live sessions, newest first (the account page lists them). */
export function listUserSessions(userId: number, now = new Date()) {
  return db()
    .select({ id: sessions.id, createdAt: sessions.createdAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, now)))
    .orderBy(sql`${sessions.id} desc`)
    .all();
}
