import { eq } from "drizzle-orm";
import { appMeta } from "../../db/schema";
import type { UserActor } from "~/auth/actor.server";
import { hashPassword, verifyAgainstNothing, verifyPassword } from "~/auth/password.server";
import { hashSecretToken, looksLikeSecretToken, newSecretToken } from "~/auth/secret-token.server";
import { createSession, deleteSession, deleteUserSession, deleteUserSessions, type NewSession } from "~/auth/session.server";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";
import { countUsers, findUserByEmail, getUser, insertUser, ownerlessStudies, setPasswordHash } from "~/models/account.server";
import { recordAudit } from "~/models/audit.server";
import { setMemberRole } from "~/models/membership.server";

// Owner accounts: the first owner (setup link or CLI), sign-in, sign-out, password change, sessions.

export interface NewAccount {
  email: string;
  displayName: string;
  password: string;
}

export type AccountResult =
  | { ok: true; user: { id: number; email: string; displayName: string }; session: NewSession }
  | { ok: false; field: "email" | "token"; message: string };

const SETUP_TOKEN_KEY = "owner_setup_token_sha256";
export const EMAIL_TAKEN = "An account with this email exists already: sign in instead";

/**
 * At server start, while no account exists: a fresh one-time setup token (its hash replaces the
 * previous one in app_meta, so only the link printed by the latest start works). Null once an owner exists.
 */
export function prepareFirstOwnerSetup(): string | null {
  return db().transaction((tx) => {
    if (countUsers(tx) > 0) {
      tx.delete(appMeta).where(eq(appMeta.key, SETUP_TOKEN_KEY)).run();
      return null;
    }
    const token = newSecretToken();
    tx.insert(appMeta)
      .values({ key: SETUP_TOKEN_KEY, value: hashSecretToken(token) })
      .onConflictDoUpdate({ target: appMeta.key, set: { value: hashSecretToken(token) } })
      .run();
    return token;
  });
}

/** Whether `token` is the live first-owner setup token (no account yet, the latest printed link). */
export function firstOwnerSetupIsOpen(token: string, database: Queryable = db()): boolean {
  if (!looksLikeSecretToken(token) || countUsers(database) > 0) return false;
  const stored = database.select().from(appMeta).where(eq(appMeta.key, SETUP_TOKEN_KEY)).get();
  return stored?.value === hashSecretToken(token);
}

/** The first owner, through the setup link: adopts every ownerless study (the demo study) and signs in. */
export async function createFirstOwner(token: string, input: NewAccount): Promise<AccountResult> {
  const passwordHash = await hashPassword(input.password);
  return db().transaction((tx) => {
    // Checked again inside the transaction: two tabs submitting the form cannot both become first owner.
    if (!firstOwnerSetupIsOpen(token, tx)) return { ok: false, field: "token", message: SETUP_CLOSED } as const;
    const user = insertUser(tx, { email: input.email, displayName: input.displayName, passwordHash });
    adoptOwnerlessStudies(tx, user);
    tx.delete(appMeta).where(eq(appMeta.key, SETUP_TOKEN_KEY)).run();
    return { ok: true, user, session: createSession(tx, { userId: user.id }) } as const;
  });
}

export const SETUP_CLOSED =
  "This setup link is no longer valid: an owner account exists already, or the server printed a newer link at its last start.";

/**
 * An account created from the command line (npm run owner): the first one adopts every ownerless
 * study, exactly as the setup link would, and closes the setup link.
 */
export async function createOwnerFromCli(
  input: NewAccount,
): Promise<{ ok: true; userId: number; adopted: string[] } | { ok: false; message: string }> {
  const passwordHash = await hashPassword(input.password);
  return db().transaction((tx) => {
    if (findUserByEmail(tx, input.email)) return { ok: false, message: EMAIL_TAKEN } as const;
    const first = countUsers(tx) === 0;
    const user = insertUser(tx, { email: input.email, displayName: input.displayName, passwordHash });
    const adopted = first ? adoptOwnerlessStudies(tx, user) : [];
    tx.delete(appMeta).where(eq(appMeta.key, SETUP_TOKEN_KEY)).run();
    return { ok: true, userId: user.id, adopted } as const;
  });
}

/** Sets a new password from the command line (a locked-out owner on a headless server) and signs that account out everywhere. */
export async function resetPasswordFromCli(email: string, password: string): Promise<boolean> {
  const passwordHash = await hashPassword(password);
  return db().transaction((tx) => {
    const user = findUserByEmail(tx, email);
    if (!user) return false;
    setPasswordHash(tx, user.id, passwordHash);
    deleteUserSessions(tx, user.id, null);
    return true;
  });
}

function adoptOwnerlessStudies(tx: Queryable, user: { id: number; email: string }): string[] {
  const studies = ownerlessStudies(tx);
  for (const study of studies) {
    setMemberRole(tx, study.id, user.id, "owner");
    recordAudit(tx, {
      studyId: study.id,
      actorUserId: user.id,
      actorTokenId: null,
      actor: user.email,
      action: "study.adopted",
      details: { reason: "first owner account" },
    });
  }
  return studies.map((study) => study.name);
}

/** Email + password → a new session, or null. An unknown email costs the same time as a wrong password. */
export async function signIn(email: string, password: string): Promise<{ user: { id: number; email: string }; session: NewSession } | null> {
  const user = findUserByEmail(db(), email);
  const valid = user ? await verifyPassword(password, user.passwordHash) : await verifyAgainstNothing(password);
  if (!user || !valid) return null;
  return { user: { id: user.id, email: user.email }, session: createSession(db(), { userId: user.id }) };
}

export function signOut(sessionId: number): void {
  deleteSession(db(), sessionId);
}

/**
 * Changes the signed-in account's password after checking the current one, and signs every other
 * browser of the account out (a password change is what someone does who fears a stolen session).
 */
export async function changePassword(
  actor: UserActor,
  currentPassword: string,
  newPassword: string,
): Promise<{ ok: true; signedOut: number } | { ok: false }> {
  const user = getUser(db(), actor.user.id);
  if (!user || !(await verifyPassword(currentPassword, user.passwordHash))) return { ok: false };
  const passwordHash = await hashPassword(newPassword);
  return db().transaction((tx) => {
    setPasswordHash(tx, user.id, passwordHash);
    return { ok: true, signedOut: deleteUserSessions(tx, user.id, actor.sessionId) } as const;
  });
}

/** Signs out one of the account's own sessions (another browser) or all the others. */
export function revokeOwnSessions(actor: UserActor, which: { sessionId: number } | "others"): number {
  if (which === "others") return deleteUserSessions(db(), actor.user.id, actor.sessionId);
  return deleteUserSession(db(), actor.user.id, which.sessionId) ? 1 : 0;
}
