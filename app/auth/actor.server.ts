import type { StudyRole, TokenScope } from "../../db/schema";
import { findLiveApiToken, touchApiToken } from "~/models/api-token.server";
import { annotatorStudies, userRoles } from "~/models/membership.server";
import { API_TOKEN_PREFIX, looksLikeSecretToken } from "./secret-token.server";
import { findSession, readSessionToken } from "./session.server";

/**
 * Who is acting: the one answer every authorisation decision starts from (DESIGN §9).
 *
 * - anonymous: no valid session cookie and no Authorization header;
 * - user: a signed-in account, with its role in each study it belongs to;
 * - annotator: someone who joined studies by invite link, with the studies joined;
 * - token: an owner's API token (Authorization: Bearer pd_…), scoped to one study, read or write.
 */
export type Actor = AnonymousActor | UserActor | AnnotatorActor | TokenActor;

export interface AnonymousActor {
  kind: "anonymous";
}

export interface UserActor {
  kind: "user";
  sessionId: number;
  user: { id: number; email: string; displayName: string };
  roles: ReadonlyMap<number, StudyRole>;
}

export interface AnnotatorActor {
  kind: "annotator";
  sessionId: number;
  annotator: { id: number; displayName: string };
  studies: ReadonlyMap<number, { removed: boolean }>;
}

export interface TokenActor {
  kind: "token";
  token: { id: number; name: string; scope: TokenScope; studyId: number; userId: number; creatorEmail: string };
  /** The creator's current role in the token's study; null once they left it. */
  creatorRole: StudyRole | null;
}

/** What a request presents to prove who it is. */
export interface Credentials {
  cookie: string | null;
  authorization: string | null;
}

/** A credential was presented and is wrong (unknown, revoked or expired token; malformed header): 401. */
export class InvalidCredentials extends Error {}

const ANONYMOUS: AnonymousActor = { kind: "anonymous" };

/**
 * The actor behind the credentials. An Authorization header wins over the cookie and must be valid:
 * a wrong token is refused, never silently downgraded to the cookie's identity or to anonymous. An
 * unknown or expired session cookie counts as anonymous (the browser simply signs in again).
 */
export async function actorFromCredentials(credentials: Credentials, now = new Date()): Promise<Actor> {
  if (credentials.authorization !== null) return tokenActor(credentials.authorization, now);
  const sessionToken = await readSessionToken(credentials.cookie);
  if (!sessionToken) return ANONYMOUS;
  const session = findSession(sessionToken, now);
  if (!session) return ANONYMOUS;
  if (session.userId !== null && session.email !== null && session.userName !== null) {
    return {
      kind: "user",
      sessionId: session.id,
      user: { id: session.userId, email: session.email, displayName: session.userName },
      roles: userRoles(session.userId),
    };
  }
  if (session.annotatorId !== null && session.annotatorName !== null) {
    return {
      kind: "annotator",
      sessionId: session.id,
      annotator: { id: session.annotatorId, displayName: session.annotatorName },
      studies: annotatorStudies(session.annotatorId),
    };
  }
  return ANONYMOUS;
}

function tokenActor(authorization: string, now: Date): TokenActor {
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  if (!match) throw new InvalidCredentials("The Authorization header must be: Bearer <API token>");
  const secret = match[1]!;
  const token = looksLikeSecretToken(secret, API_TOKEN_PREFIX) ? findLiveApiToken(secret, now) : undefined;
  if (!token) throw new InvalidCredentials("This API token is not valid (unknown, revoked or expired)");
  touchApiToken(token.id, now);
  return {
    kind: "token",
    token: { id: token.id, name: token.name, scope: token.scope, studyId: token.studyId, userId: token.userId, creatorEmail: token.creatorEmail },
    creatorRole: token.creatorRole,
  };
}

/** The actor of a Fetch Request (Remix loaders and actions). Throws InvalidCredentials for a bad bearer token. */
export function actorOfRequest(request: Request): Promise<Actor> {
  return actorFromCredentials({ cookie: request.headers.get("cookie"), authorization: request.headers.get("authorization") });
}

/** How the actor is named in the audit log and on owner pages. */
export function actorLabel(actor: UserActor | TokenActor): string {
  return actor.kind === "user" ? actor.user.email : `API token "${actor.token.name}" of ${actor.token.creatorEmail}`;
}
