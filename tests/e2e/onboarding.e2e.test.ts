import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// The README's first minutes: `npm start` prints a one-time setup link; following it creates the
// owner, who reaches the demo study's dashboard and annotates it. The next start prints where to sign in.
describe("first start, the way the README tells a newcomer", () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("goes from the printed setup link to the demo dashboard and a recorded vote; the link then dies", async () => {
    expect(app.setupUrl).toMatch(/\/setup\/[A-Za-z0-9_-]{43}$/);
    // Without the link there is no way in: the home page asks to sign in and says where the link is.
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await gotoHydrated(page, app.url);
      await page.waitForURL(/\/login/);
      await page.getByText("Open the one-time setup link the server printed").waitFor();

      await gotoHydrated(page, app.setupUrl!);
      await page.getByLabel("Your name").fill("Nora Newcomer");
      await page.getByLabel("Email").fill("nora@example.com");
      await page.getByLabel("Password (at least 10 characters)").fill("a long enough password");
      await page.getByLabel("Repeat the password").fill("a long enough password");
      await page.screenshot({ path: screenshotPath("first-owner-setup.png"), fullPage: true });
      await page.getByRole("button", { name: "Create owner account" }).click();
      await page.getByRole("link", { name: "Lumen support assistant" }).click();
      await page.getByRole("heading", { name: "Leaderboard" }).waitFor();
      await page.getByRole("navigation", { name: "Study" }).getByRole("link", { name: "Annotate", exact: true }).click();
      await page.getByRole("button", { name: /start annotating/i }).click();
      await page.getByRole("article", { name: "Response A" }).waitFor();
      await page.keyboard.press("t");
      // The vote is in before leaving (a click on a link would abort a submission still under way).
      await page.locator(".recorded", { hasText: "Recorded: Tie" }).waitFor();
      await page.getByRole("link", { name: "Back to the dashboard" }).click();
      await expect.poll(() => page.locator("table.data-table.compact", { hasText: "Nora Newcomer" }).count(), { timeout: 30_000 }).toBe(1);
      await expect(page.locator("table.data-table.compact tr", { hasText: "Nora Newcomer" }).innerText()).resolves.toContain("member");
      expect(browser.pageErrors).toEqual([]);

      const again = await fetch(app.setupUrl!);
      expect(again.status).toBe(404);
    } finally {
      await browser.close();
    }
    await app.stop();
    app = await startApp({}, app.dataDir);
    expect(app.setupUrl).toBeNull();
  });
});
