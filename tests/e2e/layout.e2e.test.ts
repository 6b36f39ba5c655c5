import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser, PHONE, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// A study whose answers are long (a 15,000-character one with a table and a task list) next to a
// short one, created through the owner's pages offline and started; then the annotate page at a
// desktop and a phone size, light and dark, and axe-core on the annotate, dashboard and setup pages.
// Annotators join through the owner's invite link, each in a browser of their own.
const LONG_ANSWER = [
  "Here is everything about Eco mode.",
  "",
  "| Setting | Default | Range |",
  "|---|---|---|",
  "| Eco heat | 62°F | 45–75°F |",
  "| Eco cool | 80°F | 70–95°F |",
  "",
  "- [x] Open the app",
  "- [ ] Choose Settings > Eco",
  "",
  ...Array.from(
    { length: 150 },
    (_, i) => `Paragraph ${i + 1}: Eco mode lowers the heating set point while nobody is home and raises it again before you return.`,
  ),
].join("\n");

describe("the annotate page on a phone and a desktop, light and dark, and accessibility", () => {
  let app: RunningApp;
  let studyId: number;
  let owner: Account;
  let inviteLink: string;

  beforeAll(async () => {
    app = await startApp();
    owner = await createFirstOwner(app);
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await signInInBrowser(page, app, owner);
      await gotoHydrated(page, `${app.url}/studies/new`);
      await page.getByLabel("Name").fill("Long answers");
      await page.getByLabel("Task description").fill("Answer questions about the thermostat.");
      await page.getByLabel("Paste prompts").fill("Be brief.\n---\nBe exhaustive.");
      await page.getByLabel("Paste queries, one per line").fill("What is Eco mode?");
      await page.getByRole("button", { name: "Create study" }).click();
      await page.waitForURL(/\/studies\/\d+\/setup$/);
      // The URL changes before the new page has rendered: wait for the setup page itself.
      await page.getByRole("heading", { name: "Setup & generation" }).waitFor();
      const line = (prompt: string, response: string) => JSON.stringify({ prompt, query: "What is Eco mode?", response });
      const jsonl = [line("Be brief.", "It saves energy while you are away."), line("Be exhaustive.", LONG_ANSWER)].join("\n");
      await page
        .getByLabel("Responses file (JSONL)")
        .setInputFiles({ name: "responses.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(jsonl) });
      await page.getByRole("button", { name: "Import responses" }).click();
      await page.getByText("Imported 2 responses.").waitFor();
      await page.getByLabel("Guidelines (markdown)").fill("- Prefer **correct** over friendly\n- A long answer is not better for being long");
      await page.getByRole("button", { name: "Save what annotators see" }).click();
      await page.getByText("Saved what annotators see.").waitFor();
      studyId = readAppDatabase(app, (db) => db.prepare("select max(id) from studies").pluck().get() as number);
      await gotoHydrated(page, `${app.url}/studies/${studyId}`);
      await page.getByRole("button", { name: "Start the study" }).click();
      await page.getByText("Running: annotators get pairs").waitFor();
      inviteLink = await createAnnotatorLink(app, owner, studyId);
    } finally {
      await browser.close();
    }
  });

  afterAll(async () => {
    await app?.stop();
  });

  async function openPair(page: Page, name: string) {
    await gotoHydrated(page, inviteLink);
    await page.getByLabel("Display name").fill(name);
    await page.getByRole("button", { name: /join and start/i }).click();
    await page.getByRole("button", { name: /start annotating/i }).click();
    await page.getByRole("article", { name: "Response A" }).waitFor();
  }

  const box = async (page: Page, name: string) => (await page.getByRole("article", { name }).boundingBox())!;

  it("on a 390x844 phone: A above B, one row of buttons that fits, no hotkey glyphs, long answers scroll in their box", async () => {
    for (const colorScheme of ["light", "dark"] as const) {
      const browser = await launchBrowser({ ...PHONE, colorScheme });
      try {
        const page = await browser.context.newPage();
        await openPair(page, `Phone ${colorScheme}`);
        const [a, b] = [await box(page, "Response A"), await box(page, "Response B")];
        expect(a.y + a.height).toBeLessThanOrEqual(b.y);
        expect(Math.abs(a.x - b.x)).toBeLessThan(1);
        const buttons = page.locator(".choices button");
        await expect(buttons.count()).resolves.toBe(5);
        const boxes = await Promise.all((await buttons.all()).map(async (button) => (await button.boundingBox())!));
        for (const button of boxes) {
          expect(Math.abs(button.y - boxes[0]!.y)).toBeLessThan(1);
          expect(button.x).toBeGreaterThanOrEqual(0);
          expect(button.x + button.width).toBeLessThanOrEqual(390);
        }
        const bar = (await page.locator(".choices").boundingBox())!;
        expect(bar.height).toBeLessThanOrEqual(80);
        await expect(page.getByRole("button", { name: "A is better" }).isVisible()).resolves.toBe(true);
        await expect(page.locator(".choices kbd").first().isVisible()).resolves.toBe(false);
        await expect(page.getByRole("button", { name: /shortcuts/i }).isVisible()).resolves.toBe(false);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        await page.screenshot({ path: screenshotPath(`annotate-phone-${colorScheme}.png`) });
      } finally {
        await browser.close();
      }
    }
  });

  it("keeps a 15,000-character answer inside its box and the query in view while it scrolls", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await openPair(page, "Desktop reader");
      const [a, b] = [await box(page, "Response A"), await box(page, "Response B")];
      expect(Math.abs(a.y - b.y)).toBeLessThan(1);
      expect(a.x + a.width).toBeLessThanOrEqual(b.x);
      const long = page.getByRole("article").filter({ hasText: "Paragraph 150" });
      const short = page.getByRole("article").filter({ hasNotText: "Paragraph 150" });
      const sizes = await long.evaluate((element) => ({ scroll: element.scrollHeight, client: element.clientHeight }));
      expect(sizes.scroll).toBeGreaterThan(3 * sizes.client);
      // The short answer's box is not stretched to the long one's height.
      expect((await short.boundingBox())!.height).toBeLessThan((await long.boundingBox())!.height / 2);
      expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThan(2 * 900);
      // The table has borders and the task list has checkboxes, not brackets.
      await expect(
        long
          .locator("table td")
          .first()
          .evaluate((cell) => getComputedStyle(cell).borderTopStyle),
      ).resolves.toBe("solid");
      await expect(long.locator('input[type="checkbox"]').count()).resolves.toBe(2);
      await long.evaluate((element) => element.scrollTo(0, element.scrollHeight));
      await page.mouse.wheel(0, 2_000);
      const query = (await page.getByRole("region", { name: "User query" }).boundingBox())!;
      expect(query.y).toBeGreaterThanOrEqual(0);
      expect(query.y + query.height).toBeLessThanOrEqual(900);
      await page.screenshot({ path: screenshotPath("annotate-desktop-light.png") });
      await page.emulateMedia({ colorScheme: "dark" });
      await page.screenshot({ path: screenshotPath("annotate-desktop-dark.png") });
    } finally {
      await browser.close();
    }
  });

  it("has no serious or critical axe-core violations on the annotate, dashboard and setup pages, light and dark", async () => {
    // The annotate page as an annotator sees it; the dashboard and setup pages as the owner sees them.
    const annotatorBrowser = await launchBrowser();
    const ownerBrowser = await launchBrowser();
    try {
      const annotatorPage = await annotatorBrowser.context.newPage();
      await openPair(annotatorPage, "Auditor");
      const ownerPage = await ownerBrowser.context.newPage();
      await signInInBrowser(ownerPage, app, owner);
      for (const colorScheme of ["light", "dark"] as const) {
        for (const [page, path] of [
          [annotatorPage, `/studies/${studyId}/annotate`],
          [ownerPage, `/studies/${studyId}`],
          [ownerPage, `/studies/${studyId}/setup`],
        ] as const) {
          await page.emulateMedia({ colorScheme });
          await gotoHydrated(page, `${app.url}${path}`);
          await page.locator("h1").first().waitFor();
          expect({ path, colorScheme, violations: await seriousAccessibilityViolations(page) }).toEqual({ path, colorScheme, violations: [] });
          if (path !== `/studies/${studyId}/annotate`) {
            await page.screenshot({ path: screenshotPath(`${path.endsWith("setup") ? "setup" : "dashboard"}-${colorScheme}.png`), fullPage: true });
          }
        }
      }
    } finally {
      await annotatorBrowser.close();
      await ownerBrowser.close();
    }
  });
});
