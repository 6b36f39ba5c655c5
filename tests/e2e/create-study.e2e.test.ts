import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser, useAppWithFakeProvider } from "../helpers/app-in-browser";
import { readAppDatabase, type RunningApp } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

function newestStudyId(app: RunningApp): number {
  return readAppDatabase(app, (db) => db.prepare("select max(id) from studies").pluck().get() as number);
}

/** The study's page, as its owner: starts the draft study and waits until the page says it runs. */
async function startStudy(ownerPage: Page, app: RunningApp, studyId: number) {
  await gotoHydrated(ownerPage, `${app.url}/studies/${studyId}`);
  await ownerPage.getByText("Draft: annotators are told it has not started").waitFor();
  await ownerPage.getByRole("button", { name: "Start the study" }).click();
  await ownerPage.getByText("Running: annotators get pairs").waitFor();
}

/**
 * On the annotate page of a new study: it is a draft, and the page says so until the owner starts it
 * (`start`, from the study page). Then starts annotating, votes "left" with the hotkey and returns
 * the stored vote.
 */
async function annotateOnePair(page: Page, app: RunningApp, start: () => Promise<void>) {
  await page.waitForURL(/\/studies\/\d+\/annotate$/);
  const annotatePage = page.url();
  await page.getByRole("heading", { name: "This study has not started yet" }).waitFor();
  await start();
  await gotoHydrated(page, annotatePage);
  await page.getByRole("button", { name: /start annotating/i }).click();
  await page.getByRole("article", { name: "Response A" }).waitFor();
  const assignmentId = Number(await page.locator('.pair-form input[name="assignmentId"]').inputValue());
  await page.keyboard.press("ArrowLeft");
  await page.waitForFunction(
    (previous) => document.querySelector<HTMLInputElement>('.pair-form input[name="assignmentId"]')?.value !== String(previous),
    assignmentId,
  );
  return readAppDatabase(app, (db) =>
    db.prepare("select v.choice, a.study_id as studyId from votes v join assignments a on a.id = v.assignment_id where a.id = ?").get(assignmentId),
  );
}

describe("creating a study in the browser against an OpenAI-compatible server", () => {
  // A small delay per call so the progress bar is seen moving, not only finished.
  const suite = useAppWithFakeProvider(() => ({ GENERATION_CONCURRENCY: "2" }), { delayMs: 40 });

  it("creates a study from pasted queries and a seed prompt with 3 variants, watches generation reach 100%, then annotates it as its owner", async () => {
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, await createFirstOwner(suite.app));
    await page.getByRole("link", { name: "New study" }).click();
    await page.getByLabel("Name").fill("Thermostat helper");
    await page.getByLabel("Task description").fill("Answer questions from owners of Lumen smart thermostats.");
    await expect(page.getByLabel("Model", { exact: true }).inputValue()).resolves.toBe("fake-chat");
    await page.getByLabel("Paste queries, one per line").fill("How do I pair my thermostat?\nDoes it need a C-wire?\nWhat does Eco mode do?");
    await page.getByLabel("Seed prompt").fill("You are Lumen's support assistant. Answer briefly and accurately.");
    await page.getByLabel(/Number of variants/).fill("3");
    await page.screenshot({ path: screenshotPath("create-study-form.png"), fullPage: true });
    // After a full-page screenshot of this tall form, Chromium's click coordinates were off; submitting
    // from the focused button with the keyboard does what a click does.
    await page.getByRole("button", { name: "Create study" }).focus();
    await page.keyboard.press("Enter");

    await page.waitForURL(/\/studies\/\d+\/setup$/);
    const studyId = newestStudyId(suite.app);
    const bar = page.getByRole("progressbar", { name: "Responses ready" });
    await bar.waitFor();
    await page.screenshot({ path: screenshotPath("setup-generating.png"), fullPage: true });
    await page.waitForFunction(() => document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") === "100", null, {
      timeout: 30_000,
    });
    await page.getByText("All responses ready").waitFor();
    // The page revalidated when the variants arrived: seed + 3 generated prompts are listed.
    await expect.poll(() => page.getByRole("table", { name: "Prompts" }).locator("tbody tr").count(), { timeout: 30_000 }).toBe(4);
    await page.screenshot({ path: screenshotPath("setup-done.png"), fullPage: true });

    const counts = readAppDatabase(suite.app, (db) => ({
      prompts: db.prepare("select source, count(*) as n from prompts where study_id = ? group by source order by source").all(studyId),
      responses: db
        .prepare("select r.status, count(*) as n from responses r join prompts p on p.id = r.prompt_id where p.study_id = ? group by r.status")
        .all(studyId),
    }));
    expect(counts.prompts).toEqual([
      { source: "generated", n: 3 },
      { source: "manual", n: 1 },
    ]);
    expect(counts.responses).toEqual([{ status: "ready", n: 12 }]);
    await expect
      .poll(
        () => readAppDatabase(suite.app, (db) => db.prepare("select distinct embedding_model from prompts where study_id = ?").pluck().all(studyId)),
        { timeout: 30_000 },
      )
      .toEqual(["fake-embed"]);

    // Owners annotate their own study as themselves (not blind), from the study's Annotate page.
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}`);
    await page.getByRole("navigation", { name: "Study" }).getByRole("link", { name: "Annotate", exact: true }).click();
    expect(await annotateOnePair(page, suite.app, () => startStudy(page, suite.app, studyId))).toEqual({ choice: "left", studyId });
  });
});

describe("an offline study: no provider, responses imported from JSONL", () => {
  const suite = useAppInBrowser();
  let owner: Account;

  it("says no provider is configured, reports field errors, and becomes annotatable by an invited annotator once responses are imported", async () => {
    owner = await createFirstOwner(suite.app);
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await gotoHydrated(page, `${suite.app.url}/studies/new`);
    await page.getByText("No LLM provider configured: import responses instead.").waitFor();

    await page.getByLabel("Task description").fill("Answer briefly.");
    await page.getByLabel("Paste prompts").fill("Be brief.");
    await page.getByRole("button", { name: "Create study" }).click();
    await page.getByText("Enter a name").waitFor();
    await page.getByText("A study compares at least two different prompts").waitFor();
    await page.getByText("Add at least one query").waitFor();
    await page.screenshot({ path: screenshotPath("create-study-errors.png"), fullPage: true });
    const before = readAppDatabase(suite.app, (db) => db.prepare("select count(*) from studies").pluck().get());

    await page.getByLabel("Name").fill("Offline study");
    await page.getByLabel("Paste prompts").fill("Be brief.\n---\nBe thorough,\n\nwith examples.");
    await page.getByLabel("Paste queries, one per line").fill("What is Eco mode?\nHow do I reset it?");
    await page.getByRole("button", { name: "Create study" }).click();
    await page.waitForURL(/\/studies\/\d+\/setup$/);
    expect(readAppDatabase(suite.app, (db) => db.prepare("select count(*) from studies").pluck().get())).toBe((before as number) + 1);
    const studyId = newestStudyId(suite.app);
    await page.getByText("Waiting: no LLM provider configured").waitFor();

    const line = (prompt: string, query: string, response: string) => JSON.stringify({ prompt, query, response });
    const broken = [line("Be brief.", "What is Eco mode?", "Saves energy."), line("Unknown", "What is Eco mode?", "x")].join("\n");
    await page
      .getByLabel("Responses file (JSONL)")
      .setInputFiles({ name: "responses.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(broken) });
    await page.getByRole("button", { name: "Import responses" }).click();
    // Imports run as background jobs: the failed job lists the line's problem.
    await page.getByText('line 2: no prompt in this study matches "Unknown"').waitFor();

    const jsonl = [
      line("Be brief.", "What is Eco mode?", "It saves energy while you are away."),
      line("Be brief.", "How do I reset it?", "Hold the ring for 20 seconds."),
      line("Be thorough,\n\nwith examples.", "What is Eco mode?", "Eco mode lowers heating setpoints, **for example** …"),
      line("be thorough,\n\nwith   examples.", "How do I reset it?", "1. Open Settings\n2. Choose Reset"),
    ].join("\n");
    await page
      .getByLabel("Responses file (JSONL)")
      .setInputFiles({ name: "responses.jsonl", mimeType: "application/jsonl", buffer: Buffer.from(jsonl) });
    await page.getByRole("button", { name: "Import responses" }).click();
    await page.getByText("Imported 4 responses.").waitFor();
    await page.waitForFunction(() => document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") === "100");
    await page.screenshot({ path: screenshotPath("setup-offline-imported.png"), fullPage: true });

    // The owner invites an annotator by link; the annotator, in a browser of their own, joins and votes.
    const link = await createAnnotatorLink(suite.app, owner, studyId, { limit: "one" });
    const annotatorBrowser = await launchBrowser();
    try {
      const annotatorPage = await annotatorBrowser.context.newPage();
      await gotoHydrated(annotatorPage, link);
      await annotatorPage.getByLabel("Display name").fill("Invited Tester");
      await annotatorPage.getByRole("button", { name: /join and start/i }).click();
      expect(await annotateOnePair(annotatorPage, suite.app, () => startStudy(page, suite.app, studyId))).toEqual({ choice: "left", studyId });
      expect(annotatorBrowser.pageErrors).toEqual([]);
    } finally {
      await annotatorBrowser.close();
    }

    // The setup page's own forms: an empty post names its field; paste a query; upload a prompt file.
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    await page.getByRole("button", { name: "Add queries" }).click();
    await page.getByText("Paste or upload at least one query").waitFor();
    await page.getByLabel("Paste queries, one per line").fill("Why is my display blank?");
    await page.getByRole("button", { name: "Add queries" }).click();
    await page.getByText("Added 1 query; 2 responses queued.").waitFor();
    await page
      .locator("#promptsFile")
      .setInputFiles({ name: "prompts.txt", mimeType: "text/plain", buffer: Buffer.from("Answer like a patient technician.") });
    await page.getByRole("button", { name: "Add prompts" }).click();
    await page.getByText("Added 1 prompt; 3 responses queued.").waitFor();
    expect(readAppDatabase(suite.app, (db) => db.prepare("select count(*) from prompts where study_id = ?").pluck().get(studyId))).toBe(3);
  });
});
