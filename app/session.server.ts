import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createCookieSessionStorage, redirect } from "@remix-run/node";
import { env } from "./env.server";
import { safeRedirect } from "./utils/safe-redirect";
import { getUserById } from "./models/user.server";

/**
 * Secrets that sign the session cookie. SESSION_SECRET (comma list) wins; otherwise a random secret is
 * generated once and kept beside the database, so `npm start` needs no configuration and sessions
 * survive restarts.
 */
function sessionSecrets(): string[] {
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

/** The session cookie's name; the server also keys per-session rate limits by its value (app/http). */
export const SESSION_COOKIE_NAME = "__promptduel_session";

interface SessionData {
  userId: number;
}

let storage: ReturnType<typeof createCookieSessionStorage<SessionData>> | undefined;
function sessionStorage() {
  storage ??= createCookieSessionStorage<SessionData>({
    cookie: {
      name: SESSION_COOKIE_NAME,
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: env().NODE_ENV === "production" && env().INSECURE_COOKIES !== "1",
      secrets: sessionSecrets(),
      maxAge: 60 * 60 * 24 * 30,
    },
  });
  return storage;
}

export async function getSession(request: Request) {
  return getSessionFromCookie(request.headers.get("Cookie"));
}

/** The session in a Cookie header; the JSON API (app/api) has no Fetch Request to hand. */
export async function getSessionFromCookie(cookieHeader: string | null) {
  return sessionStorage().getSession(cookieHeader);
}

export async function commitSession(session: Awaited<ReturnType<typeof getSession>>) {
  return sessionStorage().commitSession(session);
}

/** The signed-in annotator, or null. A cookie naming a user that no longer exists counts as none. */
export async function getAnnotator(request: Request) {
  return annotatorFromCookie(request.headers.get("Cookie"));
}

export async function annotatorFromCookie(cookieHeader: string | null) {
  const session = await getSessionFromCookie(cookieHeader);
  const userId = session.get("userId");
  if (typeof userId !== "number") return null;
  return getUserById(userId) ?? null;
}

/** The signed-in annotator; otherwise throws a redirect to /join that comes back here afterwards. */
export async function requireAnnotator(request: Request) {
  const annotator = await getAnnotator(request);
  if (!annotator) {
    const url = new URL(request.url);
    const redirectTo = safeRedirect(`${url.pathname}${url.search}`);
    throw redirect(`/join?${new URLSearchParams({ redirectTo })}`);
  }
  return annotator;
}
