import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser, PHONE, screenshotPath } from "../helpers/browser";
import { gotoHydrated, waitForIdleRevalidation } from "../helpers/page-state";

// The owner's per-query pages in a real browser on the demo study (10 prompts × 14 queries, every
// response ready): the responses matrix, tagging a query, the word diff of two responses, and where the
// leader loses, with a vote log written straight into the app's database (so no engine decides what is
// served) and the engine's recommendation fixed by a snapshot row. axe-core and screenshots at desktop
// and phone sizes, light and dark.

const LEADER_ANSWER = "Open the app and tap Billing to see your invoice for this month.";
const RIVAL_ANSWER = "Open the web portal and tap Billing to download your invoice for this month.";

describe("responses by query, the diff of two responses, and where the leader loses", () => {
  let app: RunningApp;
  let owner: Account;
  let studyId = 0;
  let promptIds: number[] = [];
  let queryIds: number[] = [];
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    app = await startApp();
    owner = await createFirstOwner(app);
    const ids = readAppDatabase(app, (db) => {
      const study = db.prepare("select id from studies order by id limit 1").pluck().get() as number;
      return {
        study,
        prompts: db.prepare("select id from prompts where study_id = ? order by id").pluck().all(study) as number[],
        queries: db.prepare("select id from queries where study_id = ? order by id").pluck().all(study) as number[],
      };
    });
    studyId = ids.study;
    promptIds = ids.prompts;
    queryIds = ids.queries;
    const [leader, rival, third] = promptIds as [number, number, number];
    // A second connection writing while the app runs (WAL); the vote tallies' triggers run as for any vote.
    const db = new Database(app.databasePath);
    try {
      db.pragma("busy_timeout = 10000");
      db.transaction(() => {
        const annotator = Number(db.prepare("insert into annotators (display_name) values ('Seeded')").run().lastInsertRowid);
        const now = Date.now();
        const vote = (promptA: number, promptB: number, queryId: number, choice: string, times: number) => {
          for (let k = 0; k < times; k++) {
            const assignment = db
              .prepare(
                "insert into assignments (study_id, annotator_id, prompt_a_id, prompt_b_id, query_id, left_is_a, issued_at, expires_at, policy, status) values (?, ?, ?, ?, ?, 1, ?, ?, 'random', 'answered')",
              )
              .run(studyId, annotator, promptA, promptB, queryId, now, now + 600_000).lastInsertRowid;
            db.prepare("insert into votes (assignment_id, study_id, annotator_id, choice) values (?, ?, ?, ?)").run(
              assignment,
              studyId,
              annotator,
              choice,
            );
          }
        };
        // The leader loses the two billing questions (0 and 1) to the rival, and wins everywhere else.
        vote(leader, rival, queryIds[0]!, "right", 3);
        vote(leader, rival, queryIds[1]!, "right", 2);
        for (const queryId of queryIds.slice(2, 8)) {
          vote(leader, rival, queryId, "left", 1);
          vote(leader, third, queryId, "left", 1);
        }
        db.prepare("update responses set content = ? where prompt_id = ? and query_id = ?").run(LEADER_ANSWER, leader, queryIds[0]);
        db.prepare("update responses set content = ? where prompt_id = ? and query_id = ?").run(RIVAL_ANSWER, rival, queryIds[0]);
        db.prepare("insert into query_tags (query_id, study_id, tag) values (?, ?, 'billing')").run(queryIds[1], studyId);
        db.prepare("insert into query_tags (query_id, study_id, tag) values (?, ?, 'setup')").run(queryIds[2], studyId);
        db.prepare(
          "insert into engine_snapshots (study_id, vote_count, policy, recommended_prompt_id, prompt_stats) values (?, 17, 'duet', ?, '[]')",
        ).run(studyId, leader);
      })();
    } finally {
      db.close();
    }
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await signInInBrowser(page, app, owner);
    await page.close();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  const tagsOf = (queryId: number) =>
    readAppDatabase(app, (db) => db.prepare("select tag from query_tags where query_id = ? order by tag").pluck().all(queryId));

  it("the matrix: a page of queries × six prompt columns with each response, paged through the prompts; a disabled query marked", async () => {
    const page = await browser.context.newPage();
    try {
      // Disabled on the setup page, as an owner does; the setup page links to the matrix and to each query.
      await gotoHydrated(page, `${app.url}/studies/${studyId}/setup`);
      await page.getByRole("button", { name: `Disable query #${queryIds[13]}`, exact: true }).click();
      await page.getByText(`Query #${queryIds[13]} disabled`).waitFor();
      await page.getByRole("link", { name: "every response by query" }).click();
      await page.getByRole("heading", { name: "Responses by query" }).waitFor();

      const matrix = page.getByRole("table", { name: "Responses by query and prompt" });
      await expect(matrix.locator("tbody tr").count()).resolves.toBe(14);
      await expect(matrix.locator("thead th").count()).resolves.toBe(1 + 6);
      await expect(matrix.locator("thead th").nth(1).textContent()).resolves.toContain("leader");
      const firstRow = matrix.locator("tbody tr").first();
      await expect(firstRow.locator("td").first().textContent()).resolves.toContain(LEADER_ANSWER);
      await expect(firstRow.locator("td").nth(1).textContent()).resolves.toContain(RIVAL_ANSWER);
      const disabledRow = matrix.locator("tbody tr").last();
      await expect(disabledRow.getAttribute("class")).resolves.toBe("disabled-row");
      await expect(disabledRow.locator("th").textContent()).resolves.toContain("disabled");
      await page.screenshot({ path: screenshotPath("responses-matrix-desktop.png"), fullPage: false });

      await page.getByRole("navigation", { name: "Prompt columns, in leaderboard order" }).getByRole("link", { name: "Next →" }).click();
      await page.getByText("Prompt columns, in leaderboard order: page 2 of 2").waitFor();
      await expect(matrix.locator("thead th").count()).resolves.toBe(1 + 4);

      // Chosen columns, and only the queries of a tag.
      await page.getByLabel("Prompt columns (ids, at most 8)").fill(`${promptIds[1]}, ${promptIds[0]}`);
      await page.getByLabel("Tag").selectOption("billing");
      await page.getByRole("button", { name: "Show" }).click();
      await page.getByText("queries tagged “billing”").waitFor();
      await expect(matrix.locator("tbody tr").count()).resolves.toBe(1);
      await expect(matrix.locator("thead th").allTextContents()).resolves.toEqual([
        "Query",
        expect.stringMatching(new RegExp(`#${promptIds[1]}$`)),
        expect.stringMatching(new RegExp(`#${promptIds[0]}leader$`)),
      ]);
    } finally {
      await page.close();
    }
  });

  it("one query: tags edited (a bad one refused with the reason, nothing lost) and the word diff of the leader against its rival", async () => {
    const page = await browser.context.newPage();
    try {
      await gotoHydrated(page, `${app.url}/studies/${studyId}/responses`);
      await page.getByRole("link", { name: new RegExp(`^#${queryIds[0]} `) }).click();
      await page.getByRole("heading", { name: `Query #${queryIds[0]}` }).waitFor();

      await page.getByLabel("Tags (comma-separated)").fill(" Billing,  Invoices ");
      await page.getByRole("button", { name: "Save tags" }).click();
      await page.getByRole("status").filter({ hasText: "Tags saved: billing, invoices." }).waitFor();
      expect(tagsOf(queryIds[0]!)).toEqual(["billing", "invoices"]);
      // The input is keyed by the saved tags: once the page is idle it has remounted with them, and no remount is left
      // to wipe what is typed next.
      await waitForIdleRevalidation(page);
      await expect(page.getByLabel("Tags (comma-separated)").inputValue()).resolves.toBe("billing, invoices");
      await page.getByLabel("Tags (comma-separated)").fill("billing, <b>bold</b>");
      await page.getByRole("button", { name: "Save tags" }).click();
      await page.getByRole("alert").filter({ hasText: 'Not saved: the tag "<b>bold</b>" must start with a letter or digit' }).waitFor();
      expect(tagsOf(queryIds[0]!)).toEqual(["billing", "invoices"]);

      // The leader's record on this query, and the diff it links to.
      const record = page.getByRole("table", { name: "Leader against each rival on this query" });
      await expect(record.locator("tbody tr").first().textContent()).resolves.toMatch(/0–3/);
      await record.getByRole("link", { name: `diff with #${promptIds[0]}` }).click();
      await page.waitForURL(new RegExp(`a=${promptIds[0]}&b=${promptIds[1]}`));
      const left = page.getByRole("region", { name: `Response of prompt #${promptIds[0]}` }).first();
      const right = page.getByRole("region", { name: `Response of prompt #${promptIds[1]}` }).first();
      await expect(left.locator("del").allTextContents()).resolves.toEqual(["app", "see"]);
      // Myers' diff aligns the space between "web" and "portal" with the one after "app".
      await expect(right.locator("ins").allTextContents()).resolves.toEqual(["web", "portal ", "download"]);
      await expect(left.locator("ins").count()).resolves.toBe(0);
      await expect(right.textContent()).resolves.toBe(RIVAL_ANSWER);
      await page.getByText("struck through, words only in B are underlined: 2 removed, 3 added.").waitFor();
      await page.locator("#diff").scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath("query-diff-desktop.png"), fullPage: false });

      // Any two prompts, chosen by id.
      await page.getByLabel("Prompt A (id)").fill(String(promptIds[2]));
      await page.getByRole("button", { name: "Compare" }).click();
      await page.waitForURL(new RegExp(`a=${promptIds[2]}&b=${promptIds[1]}`));
      await page.getByRole("heading", { name: new RegExp(`^A: .*#${promptIds[2]}$`) }).waitFor();
    } finally {
      await page.close();
    }
  });

  it("where the leader loses: wins overall, loses clearly on billing, and the two billing queries listed", async () => {
    const page = await browser.context.newPage();
    try {
      await gotoHydrated(page, `${app.url}/studies/${studyId}/responses`);
      await page.getByRole("navigation", { name: "Study" }).getByRole("link", { name: "Where the leader loses" }).click();
      await page.getByRole("heading", { name: "Where the leader loses" }).waitFor();
      // 12 wins (6 queries × 2 rivals) against 5 losses over 8 queries; 2 of them lost.
      await page.getByText(/against its rivals: 12–5 \(wins\) over 8 queries with votes/).waitFor();
      await page.getByText("It loses on 2 of them.").waitFor();

      const byTag = page.getByRole("table", { name: "Results by tag" });
      const cells = await byTag
        .locator("tbody tr")
        .evaluateAll((rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent)));
      // 0 of 5 decisive votes: the Wilson interval tops out at 43%, below one half: "clearly". 0 of 3 reaches 56%.
      expect(cells).toEqual([
        ["billing", "2", "0–5 (loses)", "0% (0–43%)", "loses clearly"],
        ["invoices", "1", "0–3 (loses)", "0% (0–56%)", "loses"],
        ["setup", "1", "2–0 (wins)", "100% (34–100%)", "wins"],
      ]);
      const losing = page.getByRole("table", { name: "Queries the prompt loses" });
      await expect(losing.locator("tbody tr").count()).resolves.toBe(2);
      await expect(losing.locator("tbody tr").first().textContent()).resolves.toContain(`#${queryIds[0]}`);
      await page.screenshot({ path: screenshotPath("where-leader-loses-desktop.png"), fullPage: true });

      // Against one rival only.
      await page.getByRole("link", { name: `where it loses to #${promptIds[2]}` }).click();
      await page.getByText(new RegExp(`against #${promptIds[2]}: 6–0 \\(wins\\) over 6 queries`)).waitFor();
      await page.getByText("None: on no query has it lost more decisive votes than it won.").waitFor();
    } finally {
      await page.close();
    }
  });

  it("the three pages pass axe-core at serious and above, light and dark, and fit a phone", async () => {
    const paths = [
      `/studies/${studyId}/responses`,
      `/studies/${studyId}/queries/${queryIds[0]}?a=${promptIds[0]}&b=${promptIds[1]}`,
      `/studies/${studyId}/where-leader-loses`,
    ];
    const page = await browser.context.newPage();
    try {
      for (const path of paths) {
        await gotoHydrated(page, `${app.url}${path}`);
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          expect({ path, colorScheme, violations: await seriousAccessibilityViolations(page) }).toEqual({ path, colorScheme, violations: [] });
        }
      }
    } finally {
      await page.close();
    }
    for (const colorScheme of ["light", "dark"] as const) {
      const phone = await launchBrowser({ ...PHONE, colorScheme });
      try {
        const phonePage = await phone.context.newPage();
        await signInInBrowser(phonePage, app, owner);
        for (const [path, name] of [
          [paths[0]!, "responses-matrix"],
          [paths[1]!, "query-diff"],
          [paths[2]!, "where-leader-loses"],
        ] as const) {
          await gotoHydrated(phonePage, `${app.url}${path}`);
          await phonePage.getByRole("heading", { level: 2 }).first().waitFor();
          // The page itself never scrolls sideways; wide tables scroll inside their own box.
          await expect(phonePage.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).resolves.toBe(true);
          if (name === "query-diff") await phonePage.locator("#diff").scrollIntoViewIfNeeded();
          await phonePage.screenshot({ path: screenshotPath(`${name}-phone-${colorScheme}.png`) });
        }
        expect(phone.pageErrors).toEqual([]);
      } finally {
        await phone.close();
      }
    }
    expect(browser.pageErrors).toEqual([]);
  });
});
