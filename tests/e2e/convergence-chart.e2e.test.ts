import type Database from "better-sqlite3";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser, type Account } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { useAppWithFakeProvider } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { launchBrowser, PHONE, screenshotPath } from "../helpers/browser";
import { gotoHydrated, reloadHydrated } from "../helpers/page-state";

// Issue 15 §4 and issue 17 §3 on the dashboard: the convergence chart shows no P(best) before the recommended prompt
// has the leaderboard's 10 comparisons, has labelled vote and P(best) axes, and marks where a growth round's prompts
// joined, for a round an owner ran on the setup page and for an automatic one. Votes come over the API (the lower
// prompt id wins, so the leader is known), the fake provider writes the mutations and their responses.
describe("the convergence chart", () => {
  const suite = useAppWithFakeProvider(() => ({ PROMPTDUEL_TEST_HOOKS: "1" }));
  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);

  let studyId: number;
  let owner: Account;
  let annotator: ApiAnnotator;

  async function vote(times: number) {
    for (let k = 0; k < times; k++) {
      await annotator.engineIdle();
      const pair = await annotator.nextPair();
      const shown = readDb(
        (db) =>
          db.prepare("select prompt_a_id as a, prompt_b_id as b, left_is_a as leftIsA from assignments where id = ?").get(pair.assignmentId) as {
            a: number;
            b: number;
            leftIsA: number;
          },
      );
      const left = shown.leftIsA ? shown.a : shown.b;
      const right = shown.leftIsA ? shown.b : shown.a;
      await annotator.vote(pair.assignmentId, left < right ? "left" : "right");
    }
    await annotator.engineStatsCurrent();
  }

  const latestSnapshot = () =>
    readDb(
      (db) =>
        db
          .prepare(
            "select vote_count as votes, recommended_comparisons as comparisons from engine_snapshots where study_id = ? order by id desc limit 1",
          )
          .get(studyId) as { votes: number; comparisons: number | null } | undefined,
    );

  // The page draws the chart twice (wide, and narrow for phones) and shows one.
  const chart = (page: Page) => page.locator("svg.convergence-chart:visible");
  const tickLabels = async (page: Page, axis: "x" | "y") => chart(page).locator(`g.${axis}-tick text`).allTextContents();

  it("shows no P(best) before the minimum of evidence, then a line on labelled axes", async () => {
    studyId = readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    owner = await createFirstOwner(suite.app);
    annotator = new ApiAnnotator(suite.app.url, studyId);
    await annotator.join(inviteTokenOf(await createAnnotatorLink(suite.app, owner, studyId)), "Steady voter");
    await vote(3);
    expect(latestSnapshot()!.comparisons).toBeLessThan(10);

    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}`);
    await chart(page).waitFor();
    // Three votes: the strip shows who leads, but no P(best) line or dot, and the band says why.
    await expect(chart(page).locator("path.chart-line").count()).resolves.toBe(0);
    await expect(chart(page).locator("circle.chart-dot").count()).resolves.toBe(0);
    await expect(chart(page).getByTestId("unmeasured-band").count()).resolves.toBe(1);
    await expect(chart(page).locator("desc").textContent()).resolves.toMatch(/Not shown yet: the recommended prompt has fewer than 10 comparisons/);
    await expect(page.locator(".convergence-rule").innerText()).resolves.toMatch(/at least 10 comparisons, the leaderboard's minimum to rank/);
    // Axes: whole-vote ticks from 0 (3 votes: 0, 1, 2, 3) and five P(best) ticks.
    await expect(tickLabels(page, "x")).resolves.toEqual(["0", "1", "2", "3"]);
    await expect(tickLabels(page, "y")).resolves.toEqual(["0.00", "0.25", "0.50", "0.75", "1.00"]);

    // Enough votes for the leader (prompt with the lowest id) to reach 10 comparisons.
    for (let k = 0; k < 20 && (latestSnapshot()!.comparisons ?? 0) < 10; k++) await vote(5);
    const measured = latestSnapshot()!;
    expect(measured.comparisons).toBeGreaterThanOrEqual(10);
    await reloadHydrated(page);
    await chart(page).waitFor();
    await expect(chart(page).locator("path.chart-line").count()).resolves.toBeGreaterThanOrEqual(1);
    await expect(chart(page).locator("desc").textContent()).resolves.toMatch(/Shown from \d+ votes, once the recommended prompt has 10 comparisons/);
    const xTicks = (await tickLabels(page, "x")).map((label) => Number(label.replace(/,/g, "")));
    expect(xTicks.length).toBeGreaterThanOrEqual(3);
    expect(xTicks[0]).toBe(0);
    expect(xTicks.at(-1)!).toBeGreaterThanOrEqual(measured.votes);
    // "Nice" steps: equal, and 1, 2 or 5 times a power of ten.
    const step = xTicks[1]! - xTicks[0]!;
    for (let k = 1; k < xTicks.length; k++) expect(xTicks[k]! - xTicks[k - 1]!).toBe(step);
    expect(step / 10 ** Math.floor(Math.log10(step))).toBeOneOf([1, 2, 5]);
    await page.close();
  });

  it("marks where a growth round's prompts joined, by an owner and automatically, and stays accessible", async () => {
    // Signed in already: the suite's browser keeps the first test's session.
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    const grow = page.getByRole("form", { name: "Grow the pool" });
    await grow.getByLabel(/New prompts/).fill("1");
    await grow.getByLabel(/From the top/).fill("1");
    await grow.getByRole("button", { name: "Grow the pool" }).click();
    await page.getByText(/Growing the pool by 1 prompt from prompts #\d+ \(round #1\)/).waitFor();
    const joinedAt = (roundId: number) =>
      readDb((db) => db.prepare("select joined_at_votes from growth_rounds where id = ?").pluck().get(roundId) as number | null | undefined);
    await expect.poll(() => joinedAt(1) ?? null, { timeout: 60_000 }).not.toBeNull();

    // Automatic rounds from the setup page: every 5 decisive votes, one prompt from the top one, one round at most.
    const auto = page.getByRole("form", { name: "Automatic rounds" });
    await auto.getByLabel(/^Every/).fill("5");
    await auto.getByLabel(/New prompts per round/).fill("1");
    await auto.getByLabel(/From the top/).fill("1");
    await auto.getByLabel(/Leader stable for/).fill("0");
    await auto.getByLabel(/Budget: rounds/).fill("1");
    await auto.getByRole("button", { name: "Save automatic rounds" }).click();
    await page.getByText("Saved: every 5 decisive votes with a stable leader, 1 new prompt from the top 1, at most 1 round.").waitFor();
    const autoRound = () =>
      readDb((db) => db.prepare("select growth_round_id from auto_rounds where study_id = ?").pluck().get(studyId) as number | null | undefined);
    for (let k = 0; k < 20 && !autoRound(); k++) await vote(2);
    const autoGrowthId = autoRound()!;
    await expect.poll(() => joinedAt(autoGrowthId) ?? null, { timeout: 60_000 }).not.toBeNull();
    // The loop notices its spent budget at the first snapshot after its last round joined: one more vote makes one.
    await vote(1);
    await reloadHydrated(page);
    const log = page.getByRole("table", { name: "Automatic rounds" });
    await expect(log.locator("tbody tr").count()).resolves.toBe(1);
    await expect(log.locator("tbody tr td").first().innerText()).resolves.toBe(`#${autoGrowthId}`);
    // One round was the budget: the loop says it stopped, and why.
    await expect(page.locator(".auto-rounds-state").innerText()).resolves.toBe("Stopped: its budget of 1 round is spent. Save again to resume.");
    await expect(seriousAccessibilityViolations(page)).resolves.toEqual([]);
    await page.locator("section.auto-rounds").screenshot({ path: screenshotPath("auto-rounds-setup.png") });

    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}`);
    await chart(page).waitFor();
    const markers = chart(page).getByTestId("join-marker");
    await expect(markers.count()).resolves.toBe(2);
    await expect(markers.evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute("data-votes"))))).resolves.toEqual([
      joinedAt(1),
      joinedAt(autoGrowthId),
    ]);
    const joins = page.getByRole("list", { name: "Where new prompts joined" }).locator("li");
    await expect(joins.allInnerTexts()).resolves.toEqual([
      `Round #1 (by an owner): 1 new prompt at ${joinedAt(1)} votes`,
      `Round #${autoGrowthId} (automatic): 1 new prompt at ${joinedAt(autoGrowthId)} votes`,
    ]);
    await expect(seriousAccessibilityViolations(page)).resolves.toEqual([]);
    await page.locator(".panel", { has: chart(page) }).screenshot({ path: screenshotPath("convergence-desktop-light.png") });
    await page.close();

    // Dark mode and a phone: the same chart, checked by axe and kept as screenshots to look at.
    for (const [name, options] of [
      ["desktop-dark", { colorScheme: "dark" as const }],
      ["phone-light", { ...PHONE, colorScheme: "light" as const }],
      ["phone-dark", { ...PHONE, colorScheme: "dark" as const }],
    ] as const) {
      const browser = await launchBrowser(options);
      try {
        const other = await browser.context.newPage();
        await signInInBrowser(other, suite.app, owner);
        await gotoHydrated(other, `${suite.app.url}/studies/${studyId}`);
        await chart(other).waitFor();
        await expect(seriousAccessibilityViolations(other), name).resolves.toEqual([]);
        await other.locator(".panel", { has: chart(other) }).screenshot({ path: screenshotPath(`convergence-${name}.png`) });
        expect(browser.pageErrors).toEqual([]);
      } finally {
        await browser.close();
      }
    }
    annotator.close();
  });
});
