import fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { screenshotPath } from "../helpers/browser";
import { seedVotes, type SeededVote } from "../helpers/seed-votes";
import { gotoHydrated, reloadHydrated } from "../helpers/page-state";

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
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/annotators`);
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
    // The fit runs on the reliability thread, never on the request (ADR 0041): the first visit asked for it; reload until stored.
    const reliability = page.getByRole("table", { name: /fitted reliability of each annotator/i });
    await expect
      .poll(
        async () => {
          if (await reliability.isVisible()) return true;
          await reloadHydrated(page);
          await page.getByRole("heading", { name: "Annotator quality" }).waitFor();
          return reliability.isVisible();
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    await expect(
      page
        .getByTestId("reliability-as-of")
        .getByText(/Reliabilities as of vote 12, fitted/)
        .isVisible(),
    ).resolves.toBe(true);
    await expect(reliability.getByRole("row", { name: /^Ada 6 / }).isVisible()).resolves.toBe(true);
    await expect(reliability.getByRole("row", { name: /^Grace 6 / }).isVisible()).resolves.toBe(true);
    // Neither is flagged by the fit (six votes each pin nothing down), so the engine counts both at 1 (ADR 0047).
    for (const name of ["Ada", "Grace"])
      await expect(
        reliability
          .getByRole("row", { name: new RegExp(`^${name} `) })
          .getByTestId("engine-scale")
          .textContent(),
      ).resolves.toBe("1");
    await expect(
      page
        .getByTestId("engine-weight-note")
        .getByText(/Every annotator counts 1 unless flagged/)
        .isVisible(),
    ).resolves.toBe(true);
    await expect(
      page
        .getByTestId("side-term")
        .getByText(/left response wins \d+% of the time/)
        .isVisible(),
    ).resolves.toBe(true);
    // Ten decided votes leave gamma's interval around 0: the engine reads the sides as equal (ADR 0048).
    await expect(page.getByTestId("engine-side-term").textContent()).resolves.toMatch(/^read as equal/);
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

  it("shows consistency on audits and gold accuracy, marks a gold item, and exports only unflagged votes with the pair count shown", async () => {
    // Ada is audited on her first item (sides swapped) and clicks left again: the other prompt this time.
    // Cy joins with three careful votes on items 0-2, deciding them as Ada did first.
    const connection = openDatabase(suite.app.databasePath);
    try {
      const sqlite = connection.db.$client;
      const original = sqlite
        .prepare("select a.* from assignments a join annotators u on u.id = a.annotator_id where u.display_name = 'Ada' order by a.id limit 1")
        .get() as { id: number; annotator_id: number; prompt_a_id: number; prompt_b_id: number; query_id: number; left_is_a: number };
      const at = Date.parse("2025-05-01T10:00:00.000Z");
      const audit = sqlite
        .prepare(
          `insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, status, purpose, audit_of)
           values (?, ?, ?, ?, ?, ?, ?, ?, 'random', 'answered', 'audit', ?) returning id`,
        )
        .pluck()
        .get(
          studyId,
          original.annotator_id,
          original.prompt_a_id,
          original.prompt_b_id,
          original.query_id,
          original.left_is_a ? 0 : 1,
          at,
          at,
          original.id,
        );
      sqlite
        .prepare("insert into votes (assignment_id, study_id, annotator_id, choice, latency_ms, created_at) values (?, ?, ?, 'left', 60000, ?)")
        .run(audit, studyId, original.annotator_id, at);
      const when = new Date("2025-05-02T09:00:00.000Z");
      const cy: SeededVote[] = ITEMS.slice(0, 3).map(([promptA, promptB, query], item) => ({
        annotator: "Cy",
        promptA,
        promptB,
        query,
        leftIsA: false,
        choice: item === 1 ? "left" : "right",
        at: when,
        latencyMs: 60_000,
      }));
      seedVotes(connection.db, studyId, cy);
      sqlite.prepare("insert into study_annotators (study_id, annotator_id) select ?, id from annotators where display_name = 'Cy'").run(studyId);
    } finally {
      connection.close();
    }

    // The browser context is signed in as the owner since the first test.
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/quality`);
    const table = page.getByRole("table", { name: /quality of each annotator/i });
    await table.getByRole("columnheader", { name: "Consistency (audits)" }).waitFor();
    await table.getByRole("columnheader", { name: "Gold accuracy" }).waitFor();
    const ada = table.getByRole("row", { name: /^Ada/ });
    await expect(ada.getByText(/^0%.* of 1$/).isVisible()).resolves.toBe(true);
    await expect(
      table
        .getByRole("row", { name: /^Grace/ })
        .getByText("no audits")
        .isVisible(),
    ).resolves.toBe(true);

    // Gold: prompt 0 vs prompt 1 on the first query, prompt 0's response the better one (as Ada, Grace and Cy all said).
    const goldForm = page.locator("form.gold-form");
    await goldForm.locator("select[name=queryId]").selectOption({ index: 1 });
    await goldForm.locator("select[name=promptAId]").selectOption({ index: 1 });
    await goldForm.locator("select[name=promptBId]").selectOption({ index: 2 });
    await goldForm.locator("select[name=preferred]").selectOption("a");
    await goldForm.getByRole("button", { name: "Mark as gold" }).click();
    await page.getByRole("status").getByText("Gold item added.").waitFor();
    await page.getByRole("table", { name: /gold items/i }).waitFor();
    await expect(
      table
        .getByRole("row", { name: /^Cy/ })
        .getByText(/^100%.* of 1$/)
        .count(),
    ).resolves.toBe(1);
    // Served overlaps (ADR 0042): the overlap rate is set beside the audit and gold rates, off until then.
    const checksForm = page.locator("form.quality-checks");
    await expect(checksForm.getByLabel("Overlap rate").inputValue()).resolves.toBe("0");
    await checksForm.getByLabel("Overlap rate").fill("0.2");
    await checksForm.getByRole("button", { name: "Save the checks" }).click();
    await page.getByRole("status").getByText("Quality checks saved.").waitFor();
    expect(readAppDatabase(suite.app, (db) => db.prepare("select overlap_rate from studies where id = ?").pluck().get(studyId))).toBe(0.2);
    await page.screenshot({ path: screenshotPath("annotator-quality-checks.png"), fullPage: true });
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // Export: Ada (side bias) and Grace (too fast) are flagged; Cy's vote on the gold item is flagged too: 2 pairs remain.
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/export`);
    await page.getByLabel("Leave out flagged votes").check();
    await page.getByRole("button", { name: "Count the pairs" }).click();
    await page.getByTestId("pair-count").getByText("These options give 2 preference pairs.").waitFor();
    await expect(page.getByLabel("Leave out flagged votes").isChecked()).resolves.toBe(true);
    await page.screenshot({ path: screenshotPath("export-quality-filter.png"), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: /TRL standard/ }).click()]);
    const lines = fs
      .readFileSync(await download.path(), "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { quality: { flags: string[]; annotators: { kind: string; flags: string[] }[] } });
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.quality.flags).toEqual([]);
      expect(line.quality.annotators).toMatchObject([{ kind: "human", flags: [] }]);
    }

    // A gold item can also be marked from a query's side-by-side view: it lands on the quality page's list.
    const [queryId, promptA, promptB] = readAppDatabase(suite.app, (db) => [
      db.prepare("select id from queries where study_id = ? order by id limit 1 offset 1").pluck().get(studyId) as number,
      ...(db.prepare("select id from prompts where study_id = ? order by id limit 2 offset 2").pluck().all(studyId) as number[]),
    ]);
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/queries/${queryId}?a=${promptA}&b=${promptB}`);
    await page.getByRole("button", { name: "B is the better response" }).click();
    await page.getByRole("status").getByText("Gold item added.").waitFor();
    await expect(
      page
        .getByRole("table", { name: /gold items/i })
        .getByRole("row")
        .count(),
    ).resolves.toBe(3);
    const gold = readAppDatabase(suite.app, (db) =>
      db.prepare("select query_id, preferred_prompt_id from gold_items where study_id = ? order by id").all(studyId),
    );
    expect(gold).toHaveLength(2);
    expect(gold[1]).toEqual({ query_id: queryId, preferred_prompt_id: promptB });
  });
});
