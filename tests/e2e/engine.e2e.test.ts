import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser, type Account } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// Test hooks on, and selections never cut short by their time budget: the pairs the engine proposes, and so
// the verdicts, must not depend on how busy the machine is.
const ENGINE_TEST_ENV = { PROMPTDUEL_TEST_HOOKS: "1", ENGINE_SELECTION_BUDGET_MS: "600000" };

describe("the engine drives the study end to end", () => {
  let app: RunningApp;
  let studyId: number;
  let favourite: number;
  let favouriteResponses: Set<string>;
  let owner: Account;
  let inviteLink: string;

  beforeAll(async () => {
    app = await startApp(ENGINE_TEST_ENV);
    studyId = readAppDatabase(app, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    owner = await createFirstOwner(app);
    inviteLink = await createAnnotatorLink(app, owner, studyId);
    favourite = readAppDatabase(
      app,
      (db) => db.prepare("select id from prompts where study_id = ? order by id limit 1 offset 4").pluck().get(studyId) as number,
    );
    favouriteResponses = new Set(
      readAppDatabase(app, (db) => db.prepare("select content from responses where prompt_id = ?").pluck().all(favourite) as string[]),
    );
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("gives two annotators in two browsers different pairs at the same time", async () => {
    const first = await launchBrowser();
    const second = await launchBrowser();
    try {
      const pairs: string[] = [];
      for (const [index, browser] of [first, second].entries()) {
        const page = await browser.context.newPage();
        await gotoHydrated(page, inviteLink);
        await page.getByLabel("Display name").fill(`Parallel ${index}`);
        await page.getByRole("button", { name: /join and start/i }).click();
        await page.getByRole("button", { name: /start annotating/i }).click();
        await page.getByRole("article", { name: "Response A" }).waitFor();
        const assignmentId = Number(await page.locator('.pair-form input[name="assignmentId"]').inputValue());
        const pair = readAppDatabase(app, (db) =>
          db
            .prepare("select min(prompt_a_id, prompt_b_id) || '-' || max(prompt_a_id, prompt_b_id) from assignments where id = ?")
            .pluck()
            .get(assignmentId),
        ) as string;
        pairs.push(pair);
      }
      expect(pairs[0]).not.toBe(pairs[1]);
      expect([...first.pageErrors, ...second.pageErrors]).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("converges on the prompt a scripted annotator prefers, with pairs the engine chose, and the dashboard shows it", async () => {
    const annotator = new ApiAnnotator(app.url, studyId);
    await annotator.join(inviteTokenOf(inviteLink), "Scripted");
    const firstAssignment = readAppDatabase(app, (db) => db.prepare("select coalesce(max(id), 0) from assignments").pluck().get() as number);
    const voteBudget = 60;
    for (let vote = 0; vote < voteBudget; vote++) {
      // As a person's pause between votes would, this lets the engine take in the last vote and propose
      // the next pairs: without it every pair at API speed is the random fallback (requests never wait for
      // the engine). It waits for that state, however long the machine takes, never for a fixed time.
      await annotator.engineIdle();
      const pair = await annotator.nextPair();
      const leftIsFavourite = favouriteResponses.has(pair.left);
      const rightIsFavourite = favouriteResponses.has(pair.right);
      // Otherwise a consistent but arbitrary taste: the shorter answer.
      const choice = leftIsFavourite ? "left" : rightIsFavourite ? "right" : pair.left.length <= pair.right.length ? "left" : "right";
      expect((await annotator.vote(pair.assignmentId, choice)).status).toBe("recorded");
    }
    const policies = readAppDatabase(
      app,
      (db) =>
        db
          .prepare("select a.policy from assignments a join votes v on v.assignment_id = a.id where a.study_id = ? and a.id > ?")
          .pluck()
          .all(studyId, firstAssignment) as string[],
    );
    expect(policies).toHaveLength(voteBudget);
    // Every pair came from the engine's proposals, none from the random fallback.
    expect(policies.filter((policy) => policy === "duet")).toHaveLength(voteBudget);
    const votes = readAppDatabase(app, (db) => db.prepare("select count(*) from votes where study_id = ?").pluck().get(studyId));
    // The engine's statistics run on a throttle that stretches on a busy machine: wait for that state.
    await annotator.engineStatsCurrent();
    expect(
      readAppDatabase(app, (db) =>
        db.prepare("select vote_count from engine_snapshots where study_id = ? order by id desc limit 1").pluck().get(studyId),
      ),
    ).toBe(votes);
    const recommended = readAppDatabase(app, (db) =>
      db.prepare("select recommended_prompt_id from engine_snapshots where study_id = ? order by id desc limit 1").pluck().get(studyId),
    );
    expect(recommended).toBe(favourite);

    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await signInInBrowser(page, app, owner);
      await gotoHydrated(page, `${app.url}/studies/${studyId}`);
      const favouriteText = readAppDatabase(app, (db) => db.prepare("select text from prompts where id = ?").pluck().get(favourite)) as string;
      const topRow = page.locator("table.leaderboard tbody tr").first();
      await expect(topRow.innerText()).resolves.toContain("recommended");
      await expect(topRow.innerText()).resolves.toContain(favouriteText.slice(0, 40));
      await page.getByRole("img", { name: "Convergence chart" }).waitFor();
      // Each snapshot with a P(best) is marked on the curve (they can be few and far apart); the page draws the chart
      // twice (wide, and narrow for phones) and shows one.
      const markers = await page.locator('svg[aria-label="Convergence chart"]:visible circle').count();
      const snapshots = readAppDatabase(app, (db) =>
        db.prepare("select count(*) from engine_snapshots where study_id = ? and p_best is not null").pluck().get(studyId),
      ) as number;
      expect(markers).toBeGreaterThan(0);
      expect(markers).toBeLessThanOrEqual(snapshots);
      await page.getByRole("table", { name: "Win matrix" }).waitFor();
      await page.screenshot({ path: screenshotPath("dashboard.png"), fullPage: true });
      expect(browser.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("keeps every vote across a restart and the engine resumes from them", async () => {
    const votesBefore = readAppDatabase(app, (db) => db.prepare("select count(*) from votes where study_id = ?").pluck().get(studyId)) as number;
    await app.stop();
    app = await startApp(ENGINE_TEST_ENV, app.dataDir);
    expect(readAppDatabase(app, (db) => db.prepare("select count(*) from votes where study_id = ?").pluck().get(studyId))).toBe(votesBefore);
    const annotator = new ApiAnnotator(app.url, studyId);
    await annotator.join(inviteTokenOf(inviteLink), "After restart");
    const pair = await annotator.nextPair();
    expect((await annotator.vote(pair.assignmentId, "tie")).status).toBe("recorded");
    await annotator.engineStatsCurrent();
    expect(
      readAppDatabase(app, (db) =>
        db.prepare("select vote_count from engine_snapshots where study_id = ? order by id desc limit 1").pluck().get(studyId),
      ),
    ).toBe(votesBefore + 1);
    const policy = readAppDatabase(app, (db) => db.prepare("select policy from assignments where id = ?").pluck().get(pair.assignmentId));
    expect(["duet", "random"]).toContain(policy);
  });
});
