import type Database from "better-sqlite3";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// The suite's browser context is one annotator: the first test joins through the invite link, the
// others annotate on in that session. The owner signs in in a browser of their own.
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

  const annotatePath = () => `/studies/${studyId}/annotate`;
  const hrefs = (page: Page) => page.locator("a[href]").evaluateAll((links) => links.map((link) => link.getAttribute("href")!));
  const assignmentOnPage = async (page: Page) => Number(await page.locator('.pair-form input[name="assignmentId"]').inputValue());
  const waitForNewPair = (page: Page, previous: number) =>
    page.waitForFunction(
      (before) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== String(before),
      previous,
    );
  const votesOf = (assignmentId: number) =>
    readDb((db) => db.prepare("select choice, comment from votes where assignment_id = ?").all(assignmentId)) as {
      choice: string;
      comment: string;
    }[];

  it("joins through the invite link, shows the task and guidelines on the first visit, votes with a hotkey and counts it", async () => {
    const page = await suite.browser.context.newPage();
    // Where a signed-out annotator lands without a link; then they open the link they were given.
    await gotoHydrated(page, `${suite.app.url}/join`);
    await gotoHydrated(page, inviteLink);
    await page.getByLabel("Display name").fill("Browser Tester");
    await page.getByRole("button", { name: /join and start/i }).click();
    await page.waitForURL((url) => url.pathname === annotatePath());

    // First visit: the guidelines panel is open and shows the study's task.
    const task = readDb((db) => db.prepare("select task from studies where id = ?").pluck().get(studyId) as string);
    const guidelines = page.locator("details.guidelines");
    await expect(guidelines.getAttribute("open")).resolves.not.toBeNull();
    await expect(guidelines.innerText()).resolves.toContain(task.slice(0, 60));
    await expect(page.getByText("0 done").isVisible()).resolves.toBe(true);
    await page.getByRole("button", { name: /start annotating/i }).click();

    const responseA = page.getByRole("article", { name: "Response A" });
    await responseA.waitFor();
    await expect(page.getByRole("button", { name: "A is better" }).textContent()).resolves.toContain("←");
    const firstAssignment = await assignmentOnPage(page);
    // Blind: no prompt text from the study appears anywhere on the page.
    const promptTexts = readDb((db) => db.prepare("select text from prompts where study_id = ?").pluck().all(studyId) as string[]);
    const body = await page.locator("body").innerText();
    for (const text of promptTexts) expect(body).not.toContain(text);
    // And no link to an owner page: only home (their joined studies) and this page.
    expect((await hrefs(page)).filter((href) => href !== "/" && href !== annotatePath())).toEqual([]);

    await page.screenshot({ path: screenshotPath("annotate-before-vote.png"), fullPage: true });
    await page.keyboard.press("ArrowLeft");
    await waitForNewPair(page, firstAssignment);
    const vote = readDb((db) =>
      db
        .prepare(
          "select v.choice, v.latency_ms as latencyMs, u.display_name as annotator, a.status from votes v join assignments a on a.id = v.assignment_id join annotators u on u.id = v.annotator_id where v.assignment_id = ?",
        )
        .all(firstAssignment),
    );
    expect(vote).toEqual([{ choice: "left", latencyMs: expect.any(Number), annotator: "Browser Tester", status: "answered" }]);
    // The progress counter, the confirmation (also announced to screen readers) and a closed panel.
    await expect(page.getByText("1 done").isVisible()).resolves.toBe(true);
    await expect(page.getByRole("status").filter({ hasText: "Recorded: A is better" }).count()).resolves.toBe(1);
    await expect(page.locator(".recorded").innerText()).resolves.toContain("Recorded: A is better");
    await expect(guidelines.getAttribute("open")).resolves.toBeNull();
    await page.getByText("Task and guidelines").click();
    await expect(guidelines.getAttribute("open")).resolves.not.toBeNull();
    expect(await responseA.innerText()).toBeTruthy();
    await page.screenshot({ path: screenshotPath("annotate-after-vote.png"), fullPage: true });

    // Back leads to the page the annotator came from, not to the invite link's join page.
    await page.goBack();
    await page.waitForURL((url) => !url.pathname.includes("/annotate"));
    expect(new URL(page.url()).pathname).toBe("/join");
    await page.close();
  });

  it("undoes a vote: the same pair comes back with the comment, and the new choice replaces the old one", async () => {
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}${annotatePath()}`);
    const voted = await assignmentOnPage(page);
    const query = await page.getByRole("region", { name: "User query" }).innerText();
    await page.getByLabel("Comment (optional)").fill("A is friendlier");
    await page.getByRole("button", { name: "Tie" }).click();
    await waitForNewPair(page, voted);
    expect(votesOf(voted)).toEqual([{ choice: "tie", comment: "A is friendlier" }]);
    const next = await assignmentOnPage(page);

    await page.getByRole("button", { name: "Undo" }).click();
    await page.locator(".notice").getByText("Vote undone").waitFor();
    await waitForNewPair(page, next);
    const again = await assignmentOnPage(page);
    await expect(page.getByRole("region", { name: "User query" }).innerText()).resolves.toBe(query);
    await expect(page.getByLabel("Comment (optional)").inputValue()).resolves.toBe("A is friendlier");
    expect(votesOf(voted)).toEqual([]);
    expect(readDb((db) => db.prepare("select status from assignments where id = ?").pluck().get(next))).toBe("expired");

    await page.getByRole("button", { name: "B is better" }).click();
    await waitForNewPair(page, again);
    expect(votesOf(again)).toEqual([{ choice: "right", comment: "A is friendlier" }]);
    const pairVotes = readDb((db) =>
      db
        .prepare(
          "select count(*) from votes v join assignments a on a.id = v.assignment_id where a.id in (?, ?) or (a.prompt_a_id, a.prompt_b_id, a.query_id, a.annotator_id) = (select prompt_a_id, prompt_b_id, query_id, annotator_id from assignments where id = ?)",
        )
        .pluck()
        .get(voted, again, voted),
    );
    expect(pairVotes).toBe(1);
    await page.close();
  });

  it("opens the keyboard help with ?, closes it with Escape, and ignores vote keys while it is open", async () => {
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}${annotatePath()}`);
    const before = await assignmentOnPage(page);
    const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    // The hotkeys listen from hydration on, which gotoHydrated waited for: one press opens the help.
    await page.keyboard.press("Shift+Slash");
    await help.waitFor();
    await expect(help.innerText()).resolves.toContain("Undo the vote just cast");
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("Escape");
    await help.waitFor({ state: "hidden" });
    expect(await assignmentOnPage(page)).toBe(before);
    expect(votesOf(before)).toEqual([]);
    // And the vote keys do nothing while typing a comment.
    await page.getByLabel("Comment (optional)").fill("typing t and b");
    await page.getByLabel("Comment (optional)").press("ArrowLeft");
    expect(votesOf(before)).toEqual([]);
    // Read at once, the two checks above would pass while a vote a key wrongly cast was still under way. The pair takes
    // one vote, and the buttons are disabled while one is posted: if the vote cast now by hotkey is the one recorded,
    // none was cast before it.
    await page.getByLabel("Comment (optional)").blur();
    await page.keyboard.press("ArrowRight");
    await waitForNewPair(page, before);
    expect(votesOf(before)).toEqual([{ choice: "right", comment: "typing t and b" }]);
    await page.close();
  });

  it("tells a stale tab that the pair was already answered and that its different choice was not counted", async () => {
    const first = await suite.browser.context.newPage();
    const second = await suite.browser.context.newPage();
    const url = `${suite.app.url}${annotatePath()}`;
    await gotoHydrated(first, url);
    await gotoHydrated(second, url);
    const shared = await assignmentOnPage(first);
    expect(await assignmentOnPage(second)).toBe(shared);
    await first.getByRole("button", { name: "A is better" }).click();
    await waitForNewPair(first, shared);
    await second.getByRole("button", { name: "B is better" }).click();
    await second.locator(".notice").getByText("was not counted").waitFor();
    await expect(second.locator(".notice").innerText()).resolves.toContain("already answered with “A is better”");
    expect(votesOf(shared)).toEqual([{ choice: "left", comment: null }]);
    // The stale tab moves on to the annotator's current pair (the notice can show before the page's data is revalidated).
    await waitForNewPair(second, shared);
    expect(await assignmentOnPage(second)).toBe(await assignmentOnPage(first));
    await first.close();
    await second.close();
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
