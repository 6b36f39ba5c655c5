import { vi } from "vitest";
import type { Page } from "playwright-core";
import { readAppDatabase, type RunningApp } from "../../harness/app-server";
import { gotoHydrated } from "./page-state";

// The HTTP-only helpers (owners, members, invite links, API tokens) live in harness/accounts.ts, shared
// with the benchmarks; this file adds what needs a browser page or vitest.
export * from "../../harness/accounts";
import { postForm, type Account } from "../../harness/accounts";

/**
 * Signs the browser page in through the sign-in form, as a person would. The form is filled once the page has hydrated,
 * so it posts client-side and the page it leads to is hydrated as well.
 */
export async function signInInBrowser(page: Page, app: RunningApp, account: Pick<Account, "email" | "password">): Promise<void> {
  await gotoHydrated(page, `${app.url}/login`);
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
