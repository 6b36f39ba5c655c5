import type Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signInInBrowser } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { useAppWithFakeProvider } from "../helpers/app-in-browser";
import { readAppDatabase } from "../../harness/app-server";
import { screenshotPath } from "../helpers/browser";
import { gotoHydrated, reloadHydrated } from "../helpers/page-state";

// Issue 17 §1: one growth round end to end. Votes with comments come in over the API, the owner grows the pool on
// the setup page, the fake provider writes the mutations and their responses, the lineage view shows them, and the
// running engine hands them out.
describe("growing the pool from the leaders in a real browser", () => {
  const suite = useAppWithFakeProvider(() => ({ PROMPTDUEL_TEST_HOOKS: "1" }));
  const readDb = <T>(read: (db: Database.Database) => T): T => readAppDatabase(suite.app, read);

  it("grows by two prompts from the top two, shows their lineage, and serves them without a restart", async () => {
    const studyId = readDb((db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    const owner = await createFirstOwner(suite.app);
    const annotator = new ApiAnnotator(suite.app.url, studyId);
    await annotator.join(inviteTokenOf(await createAnnotatorLink(suite.app, owner, studyId)), "Commenter");
    try {
      for (let k = 0; k < 24; k++) {
        await annotator.engineIdle();
        const pair = await annotator.nextPair();
        await annotator.vote(pair.assignmentId, k % 4 === 3 ? "both_bad" : "left", `too vague about the C-wire (${k})`);
      }
      await annotator.engineStatsCurrent();

      const page = await suite.browser.context.newPage();
      await signInInBrowser(page, suite.app, owner);
      await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/setup`);
      const form = page.getByRole("form", { name: "Grow the pool" });
      await form.getByLabel(/New prompts/).fill("2");
      await form.getByLabel(/From the top/).fill("2");
      await form.getByRole("button", { name: "Grow the pool" }).click();
      await page.getByText(/Growing the pool by 2 prompts from prompts #\d+, #\d+ \(round #1\)/).waitFor();

      const grown = () =>
        readDb(
          (db) =>
            db
              .prepare(
                `select p.id, p.parent_ids as parents, p.generation, p.embedding_model as model,
                 (select count(*) from responses r where r.prompt_id = p.id and r.status = 'ready') as ready
               from prompts p where p.growth_round_id = 1 order by p.id`,
              )
              .all() as { id: number; parents: string; generation: number; model: string; ready: number }[],
        );
      await expect
        .poll(() => grown().map((row) => [row.ready, row.model]), { timeout: 60_000 })
        .toEqual([
          [14, "fake-embed"],
          [14, "fake-embed"],
        ]);
      const round = readDb(
        (db) =>
          db.prepare("select parents, instruction, model from growth_rounds where id = 1").get() as {
            parents: string;
            instruction: string;
            model: string;
          },
      );
      const parents = (JSON.parse(round.parents) as { promptId: number }[]).map((parent) => parent.promptId);
      expect(grown().map((row) => [JSON.parse(row.parents), row.generation])).toEqual([
        [[parents[0]], 1],
        [[parents[1]], 1],
      ]);
      const mutationRequests = suite.fake.requests.filter((request) =>
        JSON.stringify(request.body.messages ?? "").includes("from human preference votes"),
      );
      expect(mutationRequests).toHaveLength(2);
      for (const request of mutationRequests) {
        const user = JSON.stringify(request.body.messages);
        expect(user).toContain("too vague about the C-wire");
        for (const parent of parents) expect(user).toContain(`Prompt #${parent}, rank`);
      }

      await reloadHydrated(page);
      const lineage = page.getByRole("table", { name: "Lineage" });
      for (const row of grown()) {
        const cells = lineage.locator(`tr[data-prompt-id="${row.id}"] td`);
        await expect
          .poll(() => cells.allInnerTexts())
          .toEqual([String(row.id), `#${JSON.parse(row.parents)[0]}`, "1", "#1", "0–0–0, 0", "in selection"]);
      }
      await page.getByText("Round #1").waitFor();
      await page.getByRole("heading", { name: "Lineage and retirement" }).scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath("growth-lineage.png"), fullPage: true });

      // The running engine took them as arms: they are handed out next (coverage shows every new arm early).
      const newIds = new Set(grown().map((row) => row.id));
      const seen = new Set<number>();
      for (let k = 0; k < 30 && [...newIds].some((id) => !seen.has(id)); k++) {
        await annotator.engineIdle();
        const pair = await annotator.nextPair();
        const ids = readDb(
          (db) =>
            db.prepare("select prompt_a_id as a, prompt_b_id as b from assignments where id = ?").get(pair.assignmentId) as { a: number; b: number },
        );
        seen.add(ids.a).add(ids.b);
        await annotator.vote(pair.assignmentId, "left");
      }
      expect([...newIds].every((id) => seen.has(id))).toBe(true);
    } finally {
      annotator.close();
    }
  });
});
