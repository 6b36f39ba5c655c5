import type { StudyRole, TokenScope } from "../db/schema";
import type { RunningApp } from "./app-server";

// Owners, members, annotators and API tokens of a running app, made over real HTTP through the same
// pages a person uses (setup link, sign-in, the study's access pages, invite links). Nothing here
// writes the database or makes up a cookie: every session comes from the server's own Set-Cookie.

export const TEST_PASSWORD = "correct horse battery";

export interface Account {
  email: string;
  password: string;
  /** The Cookie header of a signed-in session of this account. */
  cookie: string;
}

let created = 0;

/** A form post as a same-origin page sends it; redirects are not followed (their Set-Cookie is the point). */
export function postForm(app: RunningApp, path: string, fields: Record<string, string>, cookie = ""): Promise<Response> {
  return fetch(new URL(path, app.url), {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: app.url, ...(cookie ? { Cookie: cookie } : {}) },
    body: new URLSearchParams(fields),
  });
}

function sessionCookie(response: Response, what: string): string {
  const header = response.headers.get("set-cookie");
  if (!header || ![302, 303].includes(response.status)) throw new Error(`${what}: expected a redirect with a session cookie, got ${response.status}`);
  return header.split(";")[0]!;
}

/** The first owner, through the setup link the server printed at start. The owner adopts the demo study. */
export async function createFirstOwner(app: RunningApp, email = "owner@example.com"): Promise<Account> {
  if (!app.setupUrl) throw new Error("createFirstOwner: the app printed no setup link (an owner exists already)");
  const response = await postForm(app, new URL(app.setupUrl).pathname, {
    displayName: "Owner",
    email,
    password: TEST_PASSWORD,
    confirmPassword: TEST_PASSWORD,
  });
  return { email, password: TEST_PASSWORD, cookie: sessionCookie(response, "first-owner setup") };
}

/** A new session of an existing account, through the sign-in form. */
export async function signIn(app: RunningApp, email: string, password = TEST_PASSWORD): Promise<Account> {
  const response = await postForm(app, "/login", { email, password });
  return { email, password, cookie: sessionCookie(response, `sign-in of ${email}`) };
}

/** Posts one of the study's access forms as `owner` and returns the secret the page shows once. */
async function secretShownOnce(app: RunningApp, owner: Account, path: string, fields: Record<string, string>, pattern: RegExp): Promise<string> {
  const response = await postForm(app, path, fields, owner.cookie);
  const html = await response.text();
  const secret = html.match(pattern)?.[0];
  if (response.status !== 200 || !secret) throw new Error(`${path}: no secret in the answer (status ${response.status})`);
  return secret;
}

/** A new annotator invite link (absolute URL) of the study, made on its Annotators page. Open by default. */
export function createAnnotatorLink(
  app: RunningApp,
  owner: Account,
  studyId: number,
  options: { limit?: "one" | "several" | "open"; maxUses?: number; expiresInDays?: number; label?: string } = {},
): Promise<string> {
  return secretShownOnce(
    app,
    owner,
    `/studies/${studyId}/annotators`,
    {
      intent: "create-invite",
      limit: options.limit ?? "open",
      maxUses: options.maxUses === undefined ? "" : String(options.maxUses),
      expiresInDays: options.expiresInDays === undefined ? "" : String(options.expiresInDays),
      label: options.label ?? "",
    },
    /http:\/\/[^"<\s]+\/join\/[A-Za-z0-9_-]{43}/,
  );
}

/** The token part of an invite link (what POST /api/session takes). */
export function inviteTokenOf(link: string): string {
  return link.slice(link.lastIndexOf("/") + 1);
}

/** An annotator joining through the link over HTTP; returns their session cookie. */
export async function joinAsAnnotator(app: RunningApp, link: string, displayName: string): Promise<string> {
  const response = await postForm(app, new URL(link).pathname, { displayName });
  return sessionCookie(response, `joining as ${displayName}`);
}

/** A member with `role`: the owner makes an invitation link on the Members page, a new account accepts it. */
export async function inviteMember(app: RunningApp, owner: Account, studyId: number, role: StudyRole): Promise<Account> {
  const link = await secretShownOnce(
    app,
    owner,
    `/studies/${studyId}/members`,
    { intent: "create-invite", role, expiresInDays: "7" },
    /http:\/\/[^"<\s]+\/invite\/[A-Za-z0-9_-]{43}/,
  );
  const email = `${role}${++created}@example.com`;
  const response = await postForm(app, new URL(link).pathname, { displayName: role, email, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD });
  return { email, password: TEST_PASSWORD, cookie: sessionCookie(response, `accepting the ${role} invitation`) };
}

/** A new API token of the study, made on its API tokens page. */
export function createApiToken(app: RunningApp, owner: Account, studyId: number, scope: TokenScope, name = `${scope} token`): Promise<string> {
  return secretShownOnce(
    app,
    owner,
    `/studies/${studyId}/tokens`,
    { intent: "create-token", name, scope, expiresInDays: "" },
    /pd_[A-Za-z0-9_-]{43}/,
  );
}
