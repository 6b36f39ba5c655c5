import type Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { fakeChatReply } from "../../harness/fake-openai";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { useAppWithFakeProvider } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// Issue 17 §4: one judged batch end to end. An annotator votes over the API, the owner sets up the judge and runs a
// batch from the setup page, the fake provider judges each pair in both orders, and the judge page shows the batch,
// the verdicts with their rationales and the human–judge agreement; the judge's votes stay out of the leaderboard.
describe("an LLM-judged batch in a real browser", () => {
  const suite = useAppWithFakeProvider(() => ({ PROMPTDUEL_TEST_HOOKS: "1" }));
  beforeAll(() => {
    // The fake judge prefers the answer whose text sorts first, whichever order it is shown in.
    suite.fake.setChatReply((system, user) => {
      if (!system.startsWith("You are an impartial judge")) return fakeChatReply(system, user);
      const [first, second] = [...user.matchAll(/Answer [12]:\n<<<\n([\s\S]*?)\n>>>/g)].map((match) => match[1]!);
      const better = first! < second! ? "1" : "2";
      return JSON.stringify({ better, rationale: `Answer ${better} is clearer (${first!.length} vs ${second!.length} characters).` });
    });
  });

  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);

  it("sets up the judge on the setup page, runs a batch of four pairs and shows its verdicts and agreement", async () => {
    const studyId = readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    const owner = await createFirstOwner(suite.app);
    const annotator = new ApiAnnotator(suite.app.url, studyId);
    await annotator.join(inviteTokenOf(await createAnnotatorLink(suite.app, owner, studyId)), "Human");
    try {
      for (let k = 0; k < 8; k++) {
        await annotator.engineIdle();
        const pair = await annotator.nextPair();
        await annotator.vote(pair.assignmentId, k % 3 === 2 ? "right" : "left");
      }
    } finally {
      annotator.close();
    }
    const talliesBefore = readDb((db) => db.prepare("select * from prompt_tallies order by prompt_id").all());

    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    const settings = page.getByRole("form", { name: "LLM judge settings" });
    await expect.poll(() => settings.getByLabel("Judge model").inputValue()).toBe("fake-chat");
    await expect.poll(() => settings.getByLabel("Judge instruction").inputValue()).toMatch(/^You are an impartial judge/);
    await expect.poll(() => settings.getByRole("radio", { name: /^Shown separately/ }).isChecked()).toBe(true);
    await settings.getByLabel(/Budget: judged pairs/).fill("4");
    await settings.getByLabel(/Rate: pairs a minute/).fill("600");
    await settings.scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath("judge-setup.png"), fullPage: true });
    await settings.getByRole("button", { name: "Save the judge" }).click();
    await page.getByText("Saved the judge (fake-chat). Its votes are shown separately.").waitFor();

    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
    const batchForm = page.getByRole("form", { name: "Run a judged batch" });
    await batchForm.getByLabel(/Pairs to judge/).fill("10");
    await batchForm.getByRole("button", { name: "Run a judged batch" }).click();
    // Cut to the budget of four pairs.
    await page.getByText("Judging 4 pairs (batch #1).").waitFor();

    // The page polls while the batch runs.
    const batchCells = page.getByRole("table", { name: "Judged batches" }).locator('tr[data-batch-id="1"] td');
    await expect.poll(() => batchCells.allInnerTexts(), { timeout: 60_000 }).toEqual(["succeeded", "4 of 4", "0", "0", "no price", ""]);
    const verdicts = readDb(
      (db) =>
        db.prepare("select rationale_a_first as a, rationale_b_first as b, winner, position_bias as bias from judge_verdicts order by id").all() as {
          a: string;
          b: string;
          winner: string;
          bias: number;
        }[],
    );
    expect(verdicts).toHaveLength(4);
    for (const verdict of verdicts) {
      expect(verdict.bias).toBe(0);
      expect(verdict.winner).not.toBe("tie");
      // The two orders saw the answers swapped: "Answer 1" first, then "Answer 2", or the other way round.
      expect([verdict.a.slice(0, 8), verdict.b.slice(0, 8)].sort()).toEqual(["Answer 1", "Answer 2"]);
      await page.getByRole("table", { name: "Judge verdicts" }).getByText(verdict.a).waitFor();
    }
    expect(suite.fake.requests.filter((request) => JSON.stringify(request.body.messages ?? "").includes("You are an impartial judge"))).toHaveLength(
      8,
    );

    // Every pair judged was one the human voted on first: agreement is measured on all four.
    const agreement = page.getByRole("table", { name: "Human–judge agreement" });
    const overall = agreement.locator('tr[data-query-id="all"] td');
    await expect.poll(async () => (await overall.allInnerTexts()).slice(0, 2)).toEqual(["4", "4"]);
    await expect.poll(async () => (await overall.allInnerTexts())[2]).toMatch(/^\d+%/);
    await page.getByText("cost unknown: no price is set for the judge's model (OPENAI_PRICES).").waitFor();
    await page.getByRole("heading", { name: "Human–judge agreement" }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath("judge-batch.png"), fullPage: true });

    // Shown separately: the leaderboard's tallies did not move; the raw log marks the judge's votes.
    expect(readDb((db) => db.prepare("select * from prompt_tallies order by prompt_id").all())).toEqual(talliesBefore);
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/quality`);
    await page.getByRole("heading", { name: "Human–judge agreement" }).waitFor();
    await page.getByRole("link", { name: "Judge settings" }).waitFor();
    await page.screenshot({ path: screenshotPath("judge-quality.png"), fullPage: true });
  });
});
