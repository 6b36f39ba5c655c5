import type Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../helpers/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";

describe("annotating the demo study in a real browser", () => {
  const suite = useAppInBrowser();
  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);
  let owner: Account;
  let inviteLink: string;
  let studyId: number;

  beforeAll(async () => {
    owner = await createFirstOwner(suite.app);
    studyId = readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    inviteLink = await createAnnotatorLink(suite.app, owner, studyId);
  });

  it("joins through the invite link, votes with a hotkey, stores the vote and shows a new pair", async () => {
    const page = await suite.browser.context.newPage();
    await page.goto(inviteLink);
    await page.getByLabel("Display name").fill("Browser Tester");
    await page.getByRole("button", { name: /join and start/i }).click();
    await page.getByRole("button", { name: /start annotating/i }).click();

    const left = page.getByRole("article", { name: "Left response" });
    await left.waitFor();
    await expect(page.getByRole("button", { name: /left is better/i }).textContent()).resolves.toContain("←");
    const firstAssignment = await page.locator('input[name="assignmentId"]').inputValue();
    // Blind: no prompt text from the study appears anywhere on the page.
    const promptTexts = readDb((db) => db.prepare("select text from prompts where study_id = ?").pluck().all(studyId) as string[]);
    const body = await page.locator("body").innerText();
    for (const text of promptTexts) expect(body).not.toContain(text);

    await page.screenshot({ path: screenshotPath("annotate-before-vote.png"), fullPage: true });
    await page.keyboard.press("ArrowLeft");
    await page.waitForFunction(
      (previous) => document.querySelector<HTMLInputElement>('input[name="assignmentId"]')?.value !== previous,
      firstAssignment,
    );

    const vote = readDb((db) =>
      db
        .prepare(
          "select v.choice, v.latency_ms as latencyMs, u.display_name as annotator, a.status from votes v join assignments a on a.id = v.assignment_id join annotators u on u.id = v.annotator_id where v.assignment_id = ?",
        )
        .all(Number(firstAssignment)),
    );
    expect(vote).toEqual([{ choice: "left", latencyMs: expect.any(Number), annotator: "Browser Tester", status: "answered" }]);
    const secondAssignment = await page.locator('input[name="assignmentId"]').inputValue();
    expect(secondAssignment).not.toBe(firstAssignment);
    expect(await left.innerText()).toBeTruthy();
    await page.screenshot({ path: screenshotPath("annotate-after-vote.png"), fullPage: true });
  });

  it("answers a malformed vote post with 400 and writes nothing", async () => {
    const cookies = await suite.browser.context.cookies();
    const cookieHeader = cookies.map((c) => `${c.name}=${c.value}`).join("; ");
    const before = readDb((db) => db.prepare("select count(*) from votes").pluck().get());
    const response = await fetch(`${suite.app.url}/studies/${studyId}/annotate`, {
      method: "POST",
      headers: { Cookie: cookieHeader, "Content-Type": "application/x-www-form-urlencoded", Origin: suite.app.url },
      body: new URLSearchParams({ intent: "vote", assignmentId: "1", choice: "definitely-left" }),
      redirect: "manual",
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("choice must be one of");
    expect(readDb((db) => db.prepare("select count(*) from votes").pluck().get())).toBe(before);
  });

  it("serves the owner dashboard, after signing in, with a leaderboard row per prompt", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await signInInBrowser(page, suite.app, owner);
      await page.getByRole("link", { name: "Lumen support assistant" }).click();
      await page.getByRole("heading", { name: "Leaderboard" }).waitFor();
      const rows = await page.locator("table.leaderboard tbody tr").count();
      expect(rows).toBe(10);
      await page.screenshot({ path: screenshotPath("study-overview.png"), fullPage: true });
      expect(browser.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
