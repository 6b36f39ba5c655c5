import type Database from "better-sqlite3";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { gotoHydrated, reloadHydrated } from "../helpers/page-state";

// The suite's browser context is the study's owner, signed in once; an annotator joins through the
// owner's invite link, over the API or in a browser of their own (an account cannot join as one).
describe("a study's whole life, driven by its owner in a real browser", () => {
  const suite = useAppInBrowser(() => ({ PROMPTDUEL_TEST_HOOKS: "1" }));
  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);
  const demoStudyId = () => readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
  const statusOf = (studyId: number) => readDb((db) => db.prepare("select status from studies where id = ?").pluck().get(studyId));
  let inviteLink: string;

  beforeAll(async () => {
    const owner = await createFirstOwner(suite.app);
    inviteLink = await createAnnotatorLink(suite.app, owner, demoStudyId());
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await page.close();
  });

  async function ownerAction(page: Page, studyId: number, button: string, expected: string) {
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}`);
    await page.getByRole("button", { name: button }).click();
    await page.getByText(expected, { exact: true }).waitFor();
  }

  it("pauses, resumes, closes, reopens and archives; annotators are told each time and get no pair while it is not running", async () => {
    const studyId = demoStudyId();
    const owner = await suite.browser.context.newPage();
    const annotator = new ApiAnnotator(suite.app.url, studyId);
    await annotator.join(inviteTokenOf(inviteLink), "Crowd worker");
    const annotatorBrowser = await launchBrowser();
    try {
      const first = await annotator.nextPair();
      await ownerAction(owner, studyId, "Pause", "Paused: annotators are told to come back later");
      expect(statusOf(studyId)).toBe("paused");
      // The pair already on their screen still counts; no new one is handed out.
      const answered = await annotator.voteAndNext(first.assignmentId, "left");
      expect(answered).toMatchObject({ status: "recorded", next: null });
      const refused = await fetch(`${suite.app.url}/api/studies/${studyId}/assignments`, {
        method: "POST",
        headers: { Cookie: annotator.sessionCookie() },
      });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({ error: "This study is paused", studyStatus: "paused" });

      const page = await annotatorBrowser.context.newPage();
      await gotoHydrated(page, inviteLink);
      await page.getByLabel("Display name").fill("Browser annotator");
      await page.getByRole("button", { name: /join and start/i }).click();
      await page.getByRole("heading", { name: "This study is paused" }).waitFor();

      await ownerAction(owner, studyId, "Resume", "Running: annotators get pairs");
      await reloadHydrated(page);
      await page.getByRole("button", { name: /start annotating/i }).click();
      await page.getByRole("article", { name: "Response A" }).waitFor();

      await ownerAction(owner, studyId, "Close the study", "Closed: annotators are told it is complete");
      await reloadHydrated(page);
      await page.getByRole("heading", { name: "This study is complete" }).waitFor();
      await owner.screenshot({ path: screenshotPath("study-closed.png"), fullPage: false });

      await ownerAction(owner, studyId, "Archive", "Archived");
      await gotoHydrated(owner, suite.app.url);
      await expect(owner.getByRole("link", { name: "Lumen support assistant" }).count()).resolves.toBe(0);
      await owner.getByRole("link", { name: "Show 1 archived" }).click();
      await owner.getByRole("link", { name: "Lumen support assistant" }).waitFor();
      await ownerAction(owner, studyId, "Unarchive", "Closed: annotators are told it is complete");
      await ownerAction(owner, studyId, "Reopen", "Running: annotators get pairs");
      expect(statusOf(studyId)).toBe("running");
      expect(annotatorBrowser.pageErrors, "uncaught errors in the annotator's browser").toEqual([]);
    } finally {
      annotator.close();
      await annotatorBrowser.close();
      await owner.close();
    }
  });

  it("disables a prompt mid-study: no pair names it any more, and its votes stay", async () => {
    const studyId = demoStudyId();
    const promptId = readDb((db) => db.prepare("select id from prompts where study_id = ? order by id limit 1").pluck().get(studyId) as number);
    const votesBefore = readDb((db) =>
      db
        .prepare("select count(*) from votes v join assignments a on a.id = v.assignment_id where ? in (a.prompt_a_id, a.prompt_b_id)")
        .pluck()
        .get(promptId),
    );
    const owner = await suite.browser.context.newPage();
    await gotoHydrated(owner, `${suite.app.url}/studies/${studyId}/setup`);
    await owner.getByRole("button", { name: `Disable prompt #${promptId}`, exact: true }).click();
    await owner.getByText(`Prompt #${promptId} disabled`).waitFor();
    await owner.getByRole("button", { name: `Enable prompt #${promptId}`, exact: true }).waitFor();
    await owner.screenshot({ path: screenshotPath("setup-prompt-disabled.png"), fullPage: true });
    expect(readDb((db) => db.prepare("select active from prompts where id = ?").pluck().get(promptId))).toBe(0);

    const annotator = new ApiAnnotator(suite.app.url, studyId);
    await annotator.join(inviteTokenOf(inviteLink), "After the change");
    try {
      const served: number[] = [];
      for (let i = 0; i < 20; i++) {
        await annotator.engineIdle();
        const pair = await annotator.nextPair();
        served.push(pair.assignmentId);
        await annotator.vote(pair.assignmentId, i % 2 ? "left" : "right");
      }
      const named = readDb((db) =>
        db
          .prepare(`select count(*) from assignments where id in (${served.join(",")}) and ? in (prompt_a_id, prompt_b_id)`)
          .pluck()
          .get(promptId),
      );
      expect(named).toBe(0);
    } finally {
      annotator.close();
    }
    const votesAfter = readDb((db) =>
      db
        .prepare("select count(*) from votes v join assignments a on a.id = v.assignment_id where ? in (a.prompt_a_id, a.prompt_b_id)")
        .pluck()
        .get(promptId),
    );
    expect(votesAfter).toBe(votesBefore);
    await gotoHydrated(owner, `${suite.app.url}/studies/${studyId}/setup`);
    await owner.getByRole("button", { name: `Enable prompt #${promptId}`, exact: true }).click();
    await owner.getByRole("button", { name: `Disable prompt #${promptId}`, exact: true }).waitFor();
    await owner.close();
  });

  it("deletes a study only after the owner confirms with its name, saying what is lost", async () => {
    const studyId = demoStudyId();
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    await page.getByRole("link", { name: "Delete this study…" }).click();
    const votes = readDb((db) => db.prepare("select count(*) from votes where study_id = ?").pluck().get(studyId) as number);
    await page.getByText(votes === 1 ? "1 vote" : `${votes} votes`, { exact: true }).waitFor();
    const prompts = readDb((db) => db.prepare("select count(*) from prompts where study_id = ?").pluck().get(studyId) as number);
    const queries = readDb((db) => db.prepare("select count(*) from queries where study_id = ?").pluck().get(studyId) as number);
    await page.getByText(`${prompts} prompts and ${queries} queries`, { exact: true }).waitFor();
    await page.getByText("This cannot be undone.").waitFor();
    await page.screenshot({ path: screenshotPath("delete-confirmation.png"), fullPage: true });
    await page.getByLabel("Type the study's name to confirm").fill("Lumen");
    await page.getByRole("button", { name: "Delete the study and everything in it" }).click();
    await page.getByText("Type the study's name exactly to confirm; nothing was deleted.").waitFor();
    expect(statusOf(studyId)).toBeDefined();
    await page.getByLabel("Type the study's name to confirm").fill("Lumen support assistant");
    await page.getByRole("button", { name: "Delete the study and everything in it" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await page.getByText("No studies yet.").waitFor();
    expect(readDb((db) => db.prepare("select count(*) from votes").pluck().get())).toBe(0);
    expect(readDb((db) => db.prepare("select count(*) from responses").pluck().get())).toBe(0);
    await page.close();
  });
});
