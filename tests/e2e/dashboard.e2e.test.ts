import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFirstOwner, createStudy, signInInBrowser, startStudy, type Account } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { seriousAccessibilityViolations } from "../helpers/axe";
import { startApp, type RunningApp } from "../../harness/app-server";
import { launchBrowser, PHONE, screenshotPath } from "../helpers/browser";
import { gotoHydrated } from "../helpers/page-state";

// The owner dashboard on votes whose shape is known: a raw log imported through the import page (the
// app's own path for votes cast elsewhere), then the engine counts them. "Lucky" won its only 3
// comparisons; "Steady" won 30 of 40. Lucky's Bradley–Terry estimate may well be the higher one, but it
// rests on 3 votes: the dashboard must not rank it above Steady, and must show why (its comparisons,
// a wider interval). Ties are imported too, to be counted apart.
const PROMPTS = {
  lucky: "Lucky: answer in one short sentence.",
  steady: "Steady: answer step by step, then give the short answer.",
  other: "Other: answer like a pirate.",
  rival: "Rival: answer with a numbered list.",
};
const QUERY = "How do I reset the thermostat?";

describe("the owner dashboard", () => {
  let app: RunningApp;
  let owner: Account;
  let studyId: number;

  beforeAll(async () => {
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1" });
    owner = await createFirstOwner(app);
    studyId = await createStudy(app, owner, {
      name: "Thermostat tone",
      task: "Pick the answer that helps the customer more.",
      promptsText: Object.values(PROMPTS).join("\n\n"),
      queriesText: QUERY,
    });
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("does not rank a prompt with 3 comparisons above one with 40 and a better record, and counts ties apart", async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      await signInInBrowser(page, app, owner);

      // A draft with no votes: the panel says to start it.
      await gotoHydrated(page, `${app.url}/studies/${studyId}`);
      const nextSteps = page.getByRole("region", { name: "What to do next" });
      await expect(nextSteps.innerText()).resolves.toContain("The study is a draft");

      const log = rawLog([
        ...repeat(3, () => ["lucky", "other", "win"] as const),
        ...repeat(30, (k) => ["steady", k % 2 ? "other" : "rival", "win"] as const),
        ...repeat(10, (k) => [k % 2 ? "other" : "rival", "steady", "win"] as const),
        ...repeat(4, () => ["other", "rival", "tie"] as const),
      ]);
      const logFile = `${app.dataDir}/ranking.jsonl`;
      fs.writeFileSync(logFile, log);
      await gotoHydrated(page, `${app.url}/studies/${studyId}/import-log`);
      await page.getByLabel("Raw log (.jsonl)").setInputFiles(logFile);
      await page.getByRole("button", { name: "Import" }).click();
      // The import runs as a background job; the page follows it to its end, however long the machine takes.
      await page
        .getByText(/^Imported \d+ votes/)
        .or(page.locator(".import-errors"))
        .first()
        .waitFor({ timeout: 180_000 });
      await expect(page.locator(".import-errors").allInnerTexts()).resolves.toEqual([]);
      await page.getByText(/^Imported 47 votes: 0 new and 4 existing prompts/).waitFor();
      await startStudy(app, owner, studyId);
      // The engine's statistics count every imported vote (a state, however long the machine takes).
      await new ApiAnnotator(app.url, studyId).engineStatsCurrent();

      await gotoHydrated(page, `${app.url}/studies/${studyId}`);
      const rows = page.getByRole("table", { name: "Leaderboard" }).locator("tbody tr");
      await expect(rows.count()).resolves.toBe(4);
      const rowOf = async (name: keyof typeof PROMPTS) => {
        const texts = await rows.allInnerTexts();
        const index = texts.findIndex((text) => text.includes(PROMPTS[name]));
        expect(index, `${name} has a row`).toBeGreaterThanOrEqual(0);
        return { index, cells: await rows.nth(index).locator("td").allInnerTexts() };
      };
      const steady = await rowOf("steady");
      const lucky = await rowOf("lucky");
      expect(steady.index).toBeLessThan(lucky.index);
      // Comparisons, then wins / losses / ties / both bad in their own columns.
      expect(steady.cells[2]).toBe("40");
      expect(lucky.cells[2]).toBe("3");
      expect(lucky.cells[0]).toBe("too few to rank");
      expect(lucky.cells.slice(-4)).toEqual(["3", "0", "0", "0"]);
      expect(steady.cells.slice(-4)).toEqual(["30", "10", "0", "0"]);
      expect((await rowOf("other")).cells.slice(-4)).toEqual(["5", "18", "4", "0"]);
      // No P(best) for the under-measured prompt; its interval, on the shared axis, is the wider.
      expect(lucky.cells[5]).toBe("–");
      const width = (cell: string) => {
        const [lower, upper] = cell.split(" to ").map(Number);
        return upper! - lower!;
      };
      expect(width(lucky.cells[4]!)).toBeGreaterThan(width(steady.cells[4]!));

      // The win matrix keeps the 4 ties of Other and Rival apart from their decisive votes.
      const matrix = page.getByRole("table", { name: "Win matrix" });
      const drawCells = await matrix.locator("td .wm-draws").allInnerTexts();
      expect(drawCells).toEqual(["4 T", "4 T"]);
      await expect(page.getByLabel("Win matrix legend").innerText()).resolves.toContain("counted apart");

      // Running, some votes, one annotator so far: the panel asks for more annotators.
      await expect(nextSteps.innerText()).resolves.toMatch(/invite link/);
      await expect(
        page
          .getByRole("region", { name: /^Recommended prompt/ })
          .locator("pre")
          .innerText(),
      ).resolves.toMatch(/^(Lucky|Steady|Other|Rival):/);

      for (const [label, options] of [
        ["desktop", {}],
        ["phone", PHONE],
      ] as const) {
        for (const colorScheme of ["light", "dark"] as const) {
          const shot = await launchBrowser({ ...options, colorScheme });
          try {
            const view = await shot.context.newPage();
            await signInInBrowser(view, app, owner);
            await gotoHydrated(view, `${app.url}/studies/${studyId}`);
            await view.getByRole("table", { name: "Win matrix" }).waitFor();
            expect({ label, colorScheme, violations: await seriousAccessibilityViolations(view) }).toEqual({ label, colorScheme, violations: [] });
            await view.screenshot({ path: screenshotPath(`dashboard-ranking-${label}-${colorScheme}.png`), fullPage: true });
            expect(shot.pageErrors).toEqual([]);
          } finally {
            await shot.close();
          }
        }
      }
      expect(browser.pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

function repeat<T>(count: number, make: (k: number) => T): T[] {
  return Array.from({ length: count }, (_, k) => make(k));
}

/** A raw log (the export's JSONL format) of duels between the named prompts, prompt A always on the left. */
function rawLog(duels: (readonly [keyof typeof PROMPTS, keyof typeof PROMPTS, "win" | "tie"])[]): string {
  const ids = { lucky: 1, steady: 2, other: 3, rival: 4 };
  const start = Date.now() - duels.length * 60_000 - 3_600_000;
  return duels
    .map(([a, b, outcome], k) =>
      JSON.stringify({
        vote_id: k + 1,
        study_id: 1,
        study_name: "Elsewhere",
        annotator_id: 1,
        annotator_name: "Remote annotator",
        query_id: 1,
        query: QUERY,
        prompt_a_id: ids[a],
        prompt_a_text: PROMPTS[a],
        prompt_b_id: ids[b],
        prompt_b_text: PROMPTS[b],
        response_a: null,
        response_b: null,
        prompt_a_side: "left",
        prompt_b_side: "right",
        choice: outcome === "win" ? "left" : "tie",
        preferred_prompt_id: outcome === "win" ? ids[a] : null,
        comment: null,
        issued_at: new Date(start + k * 60_000).toISOString(),
        voted_at: new Date(start + k * 60_000 + 5_000).toISOString(),
        latency_ms: 5_000,
        policy: "random",
        engine_round: 0,
      }),
    )
    .join("\n")
    .concat("\n");
}
