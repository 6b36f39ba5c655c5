import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { screenshotPath } from "../helpers/browser";
import { seedVotes, type SeededVote } from "../helpers/seed-votes";

// The owner's annotator quality page in a real browser: reached from the Annotators page, it flags a
// left-clicking annotator and a too-fast one, passes axe-core, and excludes and reinstates an
// annotator (the leaderboard's tallies lose and regain their votes; both actions are audited).

// Ada clicks left on every pair (sides alternate) and reads for a minute; Grace answers the same six
// items in 0.3 s each, agreeing with Ada on four of them.
const ITEMS = [
  [0, 1, 0],
  [0, 2, 0],
  [1, 2, 0],
  [0, 1, 1],
  [0, 2, 1],
  [1, 2, 1],
] as const;

describe("the annotator quality page", () => {
  const suite = useAppInBrowser();
  let studyId: number;
  let owner: Account;

  beforeAll(async () => {
    owner = await createFirstOwner(suite.app);
    const connection = openDatabase(suite.app.databasePath);
    try {
      const sqlite = connection.db.$client;
      studyId = sqlite.prepare("select id from studies order by id limit 1").pluck().get() as number;
      const at = new Date("2025-05-01T09:00:00.000Z");
      const log: SeededVote[] = [];
      ITEMS.forEach(([promptA, promptB, query], item) => {
        log.push({ annotator: "Ada", promptA, promptB, query, leftIsA: item % 2 === 0, choice: "left", at, latencyMs: 60_000 });
      });
      ITEMS.forEach(([promptA, promptB, query], item) => {
        log.push({
          annotator: "Grace",
          promptA,
          promptB,
          query,
          leftIsA: true,
          choice: item < 4 ? (item % 2 === 0 ? "left" : "right") : "tie",
          at,
          latencyMs: 300,
        });
      });
      seedVotes(connection.db, studyId, log);
      // Annotators join a study through a link; these two joined through an imported log.
      sqlite
        .prepare("insert into study_annotators (study_id, annotator_id) select distinct study_id, annotator_id from votes where study_id = ?")
        .run(studyId);
    } finally {
      connection.close();
    }
  });

  const gamesCounted = () =>
    readAppDatabase(
      suite.app,
      (db) => db.prepare("select sum(wins + losses + ties + both_bad) from prompt_tallies where study_id = ?").pluck().get(studyId) as number,
    );

  it("flags side bias and too-fast votes, passes axe-core, and excludes and reinstates an annotator", async () => {
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await page.goto(`${suite.app.url}/studies/${studyId}/annotators`);
    await page.getByRole("navigation", { name: "Study" }).getByRole("link", { name: "Annotator quality" }).click();
    await page.getByRole("heading", { name: "Annotator quality" }).waitFor();

    const table = page.getByRole("table", { name: /quality of each annotator/i });
    const ada = table.getByRole("row", { name: /^Ada/ });
    const grace = table.getByRole("row", { name: /^Grace/ });
    await expect(ada.getByText("side bias").isVisible()).resolves.toBe(true);
    await expect(ada.getByText("too fast").count()).resolves.toBe(0);
    await expect(grace.getByText("too fast").isVisible()).resolves.toBe(true);
    await expect(grace.getByText("6 of 6").isVisible()).resolves.toBe(true);
    // Ada and Grace agree on 4 of their 6 shared items.
    await expect(ada.getByText(/67%.* on 6 items/).isVisible()).resolves.toBe(true);
    await expect(
      page
        .getByRole("table", { name: /Cohen's kappa/i })
        .getByRole("row", { name: /Ada and Grace/ })
        .isVisible(),
    ).resolves.toBe(true);
    // The reliability fitted with the prompt scores (ADR 0037): a row per annotator with their decided votes, and the side term.
    const reliability = page.getByRole("table", { name: /fitted reliability of each annotator/i });
    await expect(reliability.getByRole("row", { name: /^Ada 6 / }).isVisible()).resolves.toBe(true);
    await expect(reliability.getByRole("row", { name: /^Grace 6 / }).isVisible()).resolves.toBe(true);
    await expect(
      page
        .getByTestId("side-term")
        .getByText(/left response wins \d+% of the time/)
        .isVisible(),
    ).resolves.toBe(true);
    await expect(page.getByText(/Flagged when that bound is below 25% of the median annotator's/).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath("annotator-quality.png"), fullPage: true });
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    const before = gamesCounted();
    await grace.getByRole("button", { name: "Exclude Grace" }).click();
    await page
      .getByRole("status")
      .getByText(/Annotator excluded/)
      .waitFor();
    await grace.getByText("excluded", { exact: true }).waitFor();
    // Each of Grace's six votes counted for two prompts.
    expect(gamesCounted()).toBe(before - 12);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await grace.getByRole("button", { name: "Reinstate Grace" }).click();
    await page
      .getByRole("status")
      .getByText(/count again/)
      .waitFor();
    await grace.getByRole("button", { name: "Exclude Grace" }).waitFor();
    expect(gamesCounted()).toBe(before);
    const audited = readAppDatabase(suite.app, (db) =>
      db.prepare("select action from audit_log where study_id = ? and action like 'annotator.%' order by id").pluck().all(studyId),
    );
    expect(audited).toEqual(["annotator.excluded", "annotator.reinstated"]);
  });
});
