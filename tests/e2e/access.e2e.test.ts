import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createAnnotatorLink, createApiToken, createFirstOwner, createStudy, signIn, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { seedVotes } from "../helpers/seed-votes";
import { gotoHydrated, reloadHydrated } from "../helpers/page-state";

// Issue 13's browser tests of the access rules: what an invited annotator can and cannot reach,
// session revocation taking effect on the next request, and API tokens for exports.

async function hrefs(page: Page): Promise<string[]> {
  return page.locator("a[href]").evaluateAll((links) => links.map((link) => link.getAttribute("href")!));
}

describe("access in a real browser", () => {
  const suite = useAppInBrowser();
  let owner: Account;
  let studyA: number;
  let studyB: number;
  let promptTexts: string[];

  beforeAll(async () => {
    owner = await createFirstOwner(suite.app);
    studyA = readAppDatabase(suite.app, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    promptTexts = readAppDatabase(suite.app, (db) => db.prepare("select text from prompts where study_id = ?").pluck().all(studyA) as string[]);
    studyB = await createStudy(suite.app, owner, { name: "Study B", task: "Another task.", promptsText: "One.\n\nTwo.", queriesText: "Why?" });
    const connection = openDatabase(suite.app.databasePath);
    try {
      const at = new Date("2025-05-01T09:00:00.000Z");
      seedVotes(connection.db, studyA, [
        { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at },
        { annotator: "Grace", promptA: 2, promptB: 3, query: 1, leftIsA: false, choice: "right", at },
      ]);
    } finally {
      connection.close();
    }
  });

  it("lets an invited annotator annotate, shows them no owner link and no prompt text, and refuses every owner page typed as a URL", async () => {
    const link = await createAnnotatorLink(suite.app, owner, studyA, { limit: "one" });
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, link);
    await page.getByLabel("Display name").fill("Invited Ines");
    await page.getByRole("button", { name: /join and start/i }).click();
    await page.getByRole("button", { name: /start annotating/i }).click();
    await page.getByRole("article", { name: "Response A" }).waitFor();
    const assignment = await page.locator('.pair-form input[name="assignmentId"]').inputValue();
    await page.keyboard.press("ArrowRight");
    await page.waitForFunction(
      (previous) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== previous,
      assignment,
    );
    expect(readAppDatabase(suite.app, (db) => db.prepare("select choice from votes where assignment_id = ?").pluck().get(Number(assignment)))).toBe(
      "right",
    );

    const annotatePage = `/studies/${studyA}/annotate`;
    const ownPages = new Set(["/", annotatePage]);
    const body = await page.locator("body").innerText();
    for (const text of promptTexts) expect(body).not.toContain(text);
    expect((await hrefs(page)).filter((href) => !ownPages.has(href))).toEqual([]);
    await gotoHydrated(page, suite.app.url);
    expect(await page.getByRole("link").allInnerTexts()).toEqual(["promptduel", "Annotate Lumen support assistant"]);

    const ownerPages = [
      "",
      "/setup",
      "/export",
      "/export/download?format=jsonl",
      "/import-log",
      "/annotators",
      "/members",
      "/tokens",
      "/audit",
      "/delete",
    ];
    for (const ownerPage of [...ownerPages.map((suffix) => `/studies/${studyA}${suffix}`), "/studies/new", "/account"]) {
      // Only read, and the export download refuses as plain text, with no app to hydrate.
      // eslint-disable-next-line no-restricted-syntax
      const response = await page.goto(`${suite.app.url}${ownerPage}`);
      expect(response?.status(), ownerPage).toBe(403);
      const refused = await page.locator("body").innerText();
      for (const text of promptTexts) expect(refused, ownerPage).not.toContain(text.slice(0, 60));
      expect(
        (await hrefs(page)).filter((href) => !ownPages.has(href)),
        ownerPage,
      ).toEqual([]);
    }
    await page.screenshot({ path: screenshotPath("annotator-refused.png"), fullPage: true });
    // Another study is not theirs to know of.
    const other = await gotoHydrated(page, `${suite.app.url}/studies/${studyB}/annotate`);
    expect(other?.status()).toBe(404);
    await page.getByText("Study not found").waitFor();
  });

  it("revokes sessions on the next request: signing out other browsers, signing out, and removing an annotator", async () => {
    const [first, second, annotatorBrowser] = [await launchBrowser(), await launchBrowser(), await launchBrowser()];
    try {
      const here = await first.context.newPage();
      const there = await second.context.newPage();
      await signInInBrowser(here, suite.app, owner);
      await signInInBrowser(there, suite.app, owner);
      await gotoHydrated(there, `${suite.app.url}/account`);
      await there.getByRole("heading", { name: "Change password" }).waitFor();

      await gotoHydrated(here, `${suite.app.url}/account`);
      await here.getByRole("button", { name: "Sign out all other browsers" }).click();
      await here.getByText(/Signed out \d+ other sessions?/).waitFor();
      await here.screenshot({ path: screenshotPath("account.png"), fullPage: true });
      await reloadHydrated(there);
      expect(new URL(there.url()).pathname).toBe("/login");

      // Signing out deletes the session row: the old cookie is worth nothing afterwards.
      const cookie = (await here.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      await here.getByRole("button", { name: "Sign out" }).click();
      await here.waitForURL(/\/login$/);
      const replayed = await fetch(`${suite.app.url}/account`, { headers: { Cookie: cookie }, redirect: "manual" });
      expect(replayed.status).toBe(302);
      expect(replayed.headers.get("location")).toMatch(/^\/login/);

      // An owner removes an annotator: their next click is refused, their vote stays, flagged. (Signing
      // out the other browsers above ended every other session of the owner's, so sign in afresh.)
      owner = await signIn(suite.app, owner.email);
      const link = await createAnnotatorLink(suite.app, owner, studyA);
      const annotator = await annotatorBrowser.context.newPage();
      await gotoHydrated(annotator, link);
      await annotator.getByLabel("Display name").fill("Removed Rita");
      await annotator.getByRole("button", { name: /join and start/i }).click();
      await annotator.getByRole("button", { name: /start annotating/i }).click();
      await annotator.getByRole("article", { name: "Response A" }).waitFor();
      const firstPair = await annotator.locator('.pair-form input[name="assignmentId"]').inputValue();
      await annotator.keyboard.press("ArrowLeft");
      await annotator.waitForFunction(
        (previous) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== previous,
        firstPair,
      );

      await signInInBrowser(here, suite.app, owner);
      await gotoHydrated(here, `${suite.app.url}/studies/${studyA}/annotators`);
      await here.getByRole("button", { name: "Remove Removed Rita" }).click();
      await here.getByText("Annotator removed.").waitFor();
      await here.screenshot({ path: screenshotPath("annotators-page.png"), fullPage: true });

      await annotator.getByRole("button", { name: /A is better/ }).click();
      await annotator.getByText("The study's owner removed you from this study").waitFor();
      const votes = readAppDatabase(suite.app, (db) =>
        db.prepare("select count(*) from votes v join annotators a on a.id = v.annotator_id where a.display_name = 'Removed Rita'").pluck().get(),
      );
      expect(votes).toBe(1);
      await gotoHydrated(here, `${suite.app.url}/studies/${studyA}`);
      await expect(here.locator("table.data-table.compact tr", { hasText: "Removed Rita" }).innerText()).resolves.toContain("removed");
      expect([...first.pageErrors, ...second.pageErrors, ...annotatorBrowser.pageErrors]).toEqual([]);
    } finally {
      await Promise.all([first.close(), second.close(), annotatorBrowser.close()]);
    }
  });

  it("exports with an API token made in the UI, from the export CLI, and refuses the token once revoked or for another study", async () => {
    const ownerBrowser = await launchBrowser();
    const ownerPage = await ownerBrowser.context.newPage();
    try {
      await signInInBrowser(ownerPage, suite.app, owner);
      await gotoHydrated(ownerPage, `${suite.app.url}/studies/${studyA}/tokens`);
      await ownerPage.getByLabel("Name").fill("nightly export");
      await ownerPage.getByLabel("Scope").selectOption("read");
      await ownerPage.getByRole("button", { name: "Create token" }).click();
      const token = await ownerPage.getByLabel("New API token").inputValue();
      expect(token).toMatch(/^pd_[A-Za-z0-9_-]{43}$/);
      await expect(ownerPage.locator("table").innerText()).resolves.toContain("never");

      const out = path.join(suite.app.dataDir, "prefs.jsonl");
      const cli = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "scripts/export.ts", ...args], { encoding: "utf8" });
      const exported = cli(["--url", suite.app.url, "--token", token, "--study", String(studyA), "--format", "jsonl", "--out", out]);
      expect(exported.stderr).toBe("");
      expect(exported.status).toBe(0);
      const viaOwner = await (
        await fetch(`${suite.app.url}/studies/${studyA}/export/download?format=jsonl`, { headers: { Cookie: owner.cookie } })
      ).text();
      expect(fs.readFileSync(out, "utf8")).toBe(viaOwner);
      expect(viaOwner.trimEnd().split("\n").length).toBeGreaterThanOrEqual(2);
      await reloadHydrated(ownerPage);
      await expect(ownerPage.locator("table").innerText()).resolves.not.toContain("never");

      // A read token cannot write through the API, and nothing is written.
      const prompts = () => readAppDatabase(suite.app, (db) => db.prepare("select count(*) from prompts").pluck().get());
      const before = prompts();
      const write = await fetch(`${suite.app.url}/api/studies/${studyA}/prompts`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ prompts: [{ text: "Sneaky." }] }),
      });
      expect(write.status).toBe(403);
      expect(prompts()).toBe(before);

      const tokenOfB = await createApiToken(suite.app, owner, studyB, "read");
      const wrongStudy = cli(["--url", suite.app.url, "--token", tokenOfB, "--study", String(studyA), "--format", "jsonl", "--out", `${out}.b`]);
      expect(wrongStudy.status).toBe(1);
      expect(wrongStudy.stderr).toContain("(404): Study not found");

      await ownerPage.getByRole("button", { name: "Revoke nightly export" }).click();
      await ownerPage.getByText("Token revoked").waitFor();
      const revoked = cli(["--url", suite.app.url, "--token", token, "--study", String(studyA), "--format", "jsonl", "--out", `${out}.revoked`]);
      expect(revoked.status).toBe(1);
      expect(revoked.stderr).toContain("(401)");
      expect(fs.existsSync(`${out}.revoked`)).toBe(false);
      await gotoHydrated(ownerPage, `${suite.app.url}/studies/${studyA}/audit`);
      const audit = await ownerPage.locator("table").innerText();
      for (const action of ["token.created", "export.downloaded", "token.revoked", "annotator.removed", "invite.created", "study.adopted"])
        expect(audit).toContain(action);
      await ownerPage.screenshot({ path: screenshotPath("audit-log.png"), fullPage: true });
      expect(ownerBrowser.pageErrors).toEqual([]);
    } finally {
      await ownerBrowser.close();
    }
  });
});
