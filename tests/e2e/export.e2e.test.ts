import fs from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createFirstOwner, signInInBrowser, type Account } from "../helpers/accounts";
import { useAppInBrowser } from "../helpers/app-in-browser";
import { screenshotPath } from "../helpers/browser";
import { seedVotes } from "../helpers/seed-votes";
import { gotoHydrated } from "../helpers/page-state";

describe("exporting from the study page in a real browser", () => {
  const suite = useAppInBrowser();
  let studyId: number;
  let owner: Account;

  beforeAll(async () => {
    owner = await createFirstOwner(suite.app);
    // The server has migrated and seeded the demo study; add votes through a second connection.
    const connection = openDatabase(suite.app.databasePath);
    try {
      studyId = connection.db.$client.prepare("select id from studies order by id limit 1").pluck().get() as number;
      const at = new Date("2025-05-01T09:00:00.000Z");
      seedVotes(connection.db, studyId, [
        { annotator: "Ada", promptA: 0, promptB: 1, query: 0, leftIsA: true, choice: "left", at, latencyMs: 900 },
        { annotator: "Grace", promptA: 2, promptB: 3, query: 1, leftIsA: false, choice: "left", at, comment: '=cmd, "quoted"' },
        { annotator: "Grace", promptA: 4, promptB: 5, query: 2, leftIsA: true, choice: "tie", at },
      ]);
    } finally {
      connection.close();
    }
  });

  it("opens Export from the study page and downloads TRL conversational and the raw CSV", async () => {
    const page = await suite.browser.context.newPage();
    await signInInBrowser(page, suite.app, owner);
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}`);
    await page.getByRole("navigation", { name: "Study" }).getByRole("link", { name: "Export", exact: true }).click();
    await page.getByRole("heading", { name: /^Export/ }).waitFor();
    await expect(page.getByText(/3 votes: 2 decisive .* and 1 tie, both-bad or skip votes/).isVisible()).resolves.toBe(true);
    await page.getByLabel(/System message/).selectOption("chosen-prompt");
    await page.screenshot({ path: screenshotPath("export-page.png"), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: /TRL conversational/ }).click()]);
    expect(download.suggestedFilename()).toBe(`study-${studyId}-trl-conversational.jsonl`);
    const lines = fs
      .readFileSync(await download.path(), "utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.prompt.map((message: { role: string }) => message.role)).toEqual(["system", "user"]);
      expect(line.chosen).toEqual([{ role: "assistant", content: expect.any(String) }]);
      expect(line.rejected).toEqual([{ role: "assistant", content: expect.any(String) }]);
    }

    // The same page, another button: the raw log, ties included, formula-like comment neutralised.
    const [csvDownload] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: /Raw log \(CSV\)/ }).click()]);
    expect(csvDownload.suggestedFilename()).toBe(`study-${studyId}-raw.csv`);
    const csv = fs.readFileSync(await csvDownload.path(), "utf8");
    expect(csv.split("\r\n")[0]).toMatch(/^vote_id,study_id,study_name,annotator_id,annotator_name,query_id,query,/);
    expect(csv).toContain(`"'=cmd, ""quoted"""`);
    expect(csv).toContain(",tie,");
    // The browser's bytes are those of a plain HTTP GET with the same parameters (what the CLI writes too).
    const direct = await fetch(
      `${suite.app.url}/studies/${studyId}/export/download?format=csv&system=chosen-prompt&duplicates=keep&annotator=&from=&to=`,
      { headers: { Cookie: owner.cookie } },
    );
    expect(await direct.text()).toBe(csv);
  });

  it("downloads every format, then imports the raw JSONL log into an empty study through the import page", async () => {
    const page = await suite.browser.context.newPage();
    await gotoHydrated(page, `${suite.app.url}/studies/${studyId}/export`);
    const files = new Map<string, string>();
    for (const name of [/TRL standard/, /TRL conversational/, /OpenAI preference/, /Raw log \(CSV\)/, /Raw log \(JSONL\)/]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name }).click()]);
      files.set(download.suggestedFilename(), fs.readFileSync(await download.path(), "utf8"));
    }
    expect([...files.keys()]).toEqual(
      ["trl.jsonl", "trl-conversational.jsonl", "openai-preference.jsonl", "raw.csv", "raw.jsonl"].map((suffix) => `study-${studyId}-${suffix}`),
    );
    const rawLog = files.get(`study-${studyId}-raw.jsonl`)!;
    expect(rawLog.trimEnd().split("\n")).toHaveLength(3);

    const connection = openDatabase(suite.app.databasePath);
    const emptyStudyId = Number(
      connection.db.$client
        .prepare(
          "insert into studies (name, task, model, temperature, max_tokens, seed) select name, task, model, temperature, max_tokens, seed from studies where id = ?",
        )
        .run(studyId).lastInsertRowid,
    );
    connection.db.$client
      .prepare("insert into study_members (study_id, user_id, role) select ?, id, 'owner' from users where email = ?")
      .run(emptyStudyId, owner.email);
    connection.close();
    const logFile = `${suite.app.dataDir}/raw.jsonl`;
    fs.writeFileSync(logFile, rawLog);
    await gotoHydrated(page, `${suite.app.url}/studies/${emptyStudyId}/import-log`);
    await page.getByLabel("Raw log (.jsonl)").setInputFiles(logFile);
    await page.getByRole("button", { name: "Import" }).click();
    // The import runs as a background job; the page follows it until it says what it imported.
    await page.getByText(/^Imported 3 votes: 6 new and 0 existing prompts, 3 new and 0 existing queries/).waitFor();
    await page.screenshot({ path: screenshotPath("import-log.png"), fullPage: true });
    const reexported = await (
      await fetch(`${suite.app.url}/studies/${emptyStudyId}/export/download?format=jsonl`, { headers: { Cookie: owner.cookie } })
    ).text();
    const strip = (log: string) =>
      log
        .trimEnd()
        .split("\n")
        .map((line) => {
          const { vote_id, study_id, annotator_id, query_id, prompt_a_id, prompt_b_id, preferred_prompt_id, ...rest } = JSON.parse(line);
          return rest;
        });
    expect(strip(reexported)).toEqual(strip(rawLog));
  });
});
