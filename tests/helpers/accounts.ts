import { vi } from "vitest";
import type { Page } from "playwright-core";
import type { StudyRole, TokenScope } from "../../db/schema";
import { readAppDatabase, type RunningApp } from "./app-server";

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

/** Signs the browser page in through the sign-in form, as a person would. */
export async function signInInBrowser(page: Page, app: RunningApp, account: Pick<Account, "email" | "password">): Promise<void> {
  await page.goto(`${app.url}/login`);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname !== "/login");
}

/** The fields of the new-study form (urlencoded; files are pasted as text). */
export interface NewStudyFields {
  name: string;
  task: string;
  model?: string;
  temperature?: string;
  maxTokens?: string;
  seed?: string;
  promptsText?: string;
  queriesText?: string;
  [field: string]: string | undefined;
}

/**
 * A study created through the new-study page as `owner`: the page queues a background job and shows
 * it at /studies/new?job=N, which redirects to the new study's setup page once the job has written it.
 * Polls that page (a state, however long the job takes) and returns the study's id. A creation that
 * waits for a confirmation of its size or cost is confirmed when `confirm` is set, else it throws;
 * a failed job throws with its errors. New studies are drafts: see startStudy.
 */
export async function createStudy(
  app: RunningApp,
  owner: Account,
  fields: NewStudyFields,
  options: { confirm?: boolean; timeoutMs?: number } = {},
): Promise<number> {
  const form = Object.fromEntries(
    Object.entries({ model: "m", temperature: "0.7", maxTokens: "100", seed: "", ...fields }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
  const queued = await postForm(app, "/studies/new", form, owner.cookie);
  const jobId = queued.headers.get("location")?.match(/^\/studies\/new\?job=(\d+)$/)?.[1];
  if (queued.status !== 302 || !jobId) throw new Error(`createStudy: expected a redirect to the job, got ${queued.status}: ${await queued.text()}`);
  let confirmed = false;
  // Polls the job's state until it redirects to the new study (vi.waitUntil: a state, with a generous ceiling).
  return vi.waitUntil(
    async () => {
      const page = await fetch(new URL(`/studies/new?job=${jobId}`, app.url), { headers: { Cookie: owner.cookie }, redirect: "manual" });
      await page.arrayBuffer();
      const created = page.headers.get("location")?.match(/^\/studies\/(\d+)\/setup$/)?.[1];
      if (page.status === 302 && created) return Number(created);
      if (page.status !== 200) throw new Error(`createStudy: /studies/new?job=${jobId} answered ${page.status}`);
      const job = readAppDatabase(app, (db) => db.prepare("select state, errors from jobs where id = ?").get(Number(jobId))) as
        { state: string; errors: string | null } | undefined;
      if (!job || job.state === "failed") throw new Error(`createStudy: job #${jobId} ${job ? `failed: ${job.errors}` : "is gone"}`);
      if (job.state === "awaiting_confirmation" && !confirmed) {
        if (!options.confirm) throw new Error(`createStudy: job #${jobId} waits for a confirmation (pass confirm: true)`);
        const answer = await postForm(app, "/studies/new", { intent: "confirm-job", jobId }, owner.cookie);
        if (answer.status !== 302) throw new Error(`createStudy: confirming job #${jobId} answered ${answer.status}`);
        confirmed = true;
      }
      return undefined;
    },
    { timeout: options.timeoutMs ?? 60_000, interval: 50 },
  );
}

/** Changes the study's status from its dashboard (start, pause, resume, close, reopen, archive) as `account`. */
export async function changeStudyStatus(app: RunningApp, account: Account, studyId: number, statusAction: string): Promise<void> {
  const response = await postForm(app, `/studies/${studyId}`, { statusAction }, account.cookie);
  if (response.status !== 200) throw new Error(`${statusAction} of study ${studyId}: ${response.status} ${await response.text()}`);
}

/** A draft study (new studies are drafts) opened to annotators. */
export function startStudy(app: RunningApp, account: Account, studyId: number): Promise<void> {
  return changeStudyStatus(app, account, studyId, "start");
}
