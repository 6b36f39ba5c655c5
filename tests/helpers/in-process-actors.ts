import { actorFromCredentials, type Actor, type UserActor } from "../../app/auth/actor.server";
import { authorizeStudy } from "../../app/auth/authorize.server";
import { sessionCookieHeader, type NewSession } from "../../app/auth/session.server";
import type { StudyRole, TokenScope } from "../../db/schema";
import { createOwnerFromCli, signIn } from "../../app/services/accounts.server";
import { createApiTokenAs } from "../../app/services/api-tokens.server";
import { acceptMemberInviteWithNewAccount, createAnnotatorInvite, createMemberInvite, joinWithInvite } from "../../app/services/invites.server";

// Actors for tests that call routes and services in-process (on the app's own connection, see
// useTempAppDatabase), created through the same service functions the pages use: no forged cookies.

export const TEST_PASSWORD = "correct horse battery";

/** The Cookie header value a browser would send after receiving this session. */
export async function cookieOf(session: NewSession): Promise<string> {
  return (await sessionCookieHeader(session, false)).split(";")[0]!;
}

export interface TestActor {
  cookie: string;
  actor: Actor;
}

/** Who the cookie signs in, now (roles and joined studies are read per request, so re-read after changing them). */
export async function actorOfCookie(cookie: string): Promise<TestActor> {
  return { cookie, actor: await actorFromCredentials({ cookie, authorization: null }) };
}

let accounts = 0;

/**
 * An owner account (the command-line path; the first one adopts the ownerless demo study) signed in
 * with its password.
 */
export async function signedInOwner(email = `owner${++accounts}@example.com`): Promise<{ cookie: string; actor: UserActor; email: string }> {
  const created = await createOwnerFromCli({ email, displayName: email.split("@")[0]!, password: TEST_PASSWORD });
  if (!created.ok) throw new Error(created.message);
  const signedIn = await signIn(email, TEST_PASSWORD);
  if (!signedIn) throw new Error("signedInOwner: sign-in failed");
  const { cookie, actor } = await actorOfCookie(await cookieOf(signedIn.session));
  if (actor.kind !== "user") throw new Error("signedInOwner: the session is not an account's");
  return { email, cookie, actor };
}

/** A member with `role`, through a member invite that `owner` creates, accepted with a new account. */
export async function invitedMember(owner: TestActor, studyId: number, role: StudyRole): Promise<TestActor> {
  const invite = createMemberInvite(authorizeStudy(owner.actor, studyId, "study:manage"), { role, expiresInDays: 7 });
  const email = `${role}${++accounts}@example.com`;
  const accepted = await acceptMemberInviteWithNewAccount(invite.token, { email, displayName: role, password: TEST_PASSWORD });
  if (!accepted.ok || !accepted.session) throw new Error(`invitedMember: ${accepted.ok ? "no session" : accepted.message}`);
  return actorOfCookie(await cookieOf(accepted.session));
}

/** An annotator who joined `studyId` through an annotator link that `owner` creates. */
export async function invitedAnnotator(owner: TestActor, studyId: number, displayName: string): Promise<TestActor & { annotatorId: number }> {
  const invite = createAnnotatorInvite(authorizeStudy(owner.actor, studyId, "study:manage"), { label: null, maxUses: null, expiresInDays: null });
  const joined = joinWithInvite(invite.token, { actor: { kind: "anonymous" }, displayName });
  if (!joined.ok || !joined.session) throw new Error(`invitedAnnotator: ${joined.ok ? "no session" : joined.message}`);
  return { annotatorId: joined.annotator.id, ...(await actorOfCookie(await cookieOf(joined.session))) };
}

/** An API token of `owner` for `studyId`, as the tokens page creates it. */
export function apiToken(owner: TestActor, studyId: number, scope: TokenScope): string {
  return createApiTokenAs(authorizeStudy(owner.actor, studyId, "study:manage"), { name: `${scope} token`, scope, expiresInDays: null }).token;
}
