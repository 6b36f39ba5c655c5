import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createAnnotatorLink, createFirstOwner, inviteTokenOf, signIn } from "../helpers/accounts";
import { ApiAnnotator } from "../../harness/api-annotator";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { seedVotes, type SeededVote } from "../helpers/seed-votes";

// A raw-log import writes in chunks nobody sees (ADR 0036). Paused between two of them (the test hook
// PROMPTDUEL_TEST_PAUSE_JOB_CHUNK: rows written and committed, the write lock free), the real server
// takes an annotator's votes on another study, shows none of the import's votes, and once resumed
// publishes every vote at once.

const PUBLISHED = "(import_job_id is null or import_job_id not in (select job_id from pending_imports))";

describe("an import between its chunks", () => {
  let app: RunningApp | null = null;
  afterAll(async () => {
    await app?.stop();
    if (app) fs.rmSync(app.dataDir, { recursive: true, force: true });
  });

  it("lets an annotator on another study vote, shows nothing of itself, then publishes every vote", async () => {
    app = await startApp();
    const owner = await createFirstOwner(app);
    await app.stop();
    const dataDir = app.dataDir;
    const setup = openDatabase(app.databasePath);
    const source = setup.db.$client.prepare("select id from studies order by id limit 1").pluck().get() as number;
    const specs: SeededVote[] = Array.from({ length: 30 }, (_, k) => ({
      annotator: `Annotator ${k % 3}`,
      promptA: k % 4,
      promptB: 4 + (k % 3),
      query: k % 5,
      leftIsA: k % 2 === 0,
      choice: (["left", "right", "tie"] as const)[k % 3]!,
      latencyMs: 800 + k,
      at: new Date(Date.UTC(2025, 4, 1, 10, 0, k)),
    }));
    seedVotes(setup.db, source, specs);
    const target = Number(
      setup.db.$client
        .prepare(
          "insert into studies (name, task, model, temperature, max_tokens, seed) select 'Target', task, model, temperature, max_tokens, seed from studies where id = ?",
        )
        .run(source).lastInsertRowid,
    );
    setup.db.$client
      .prepare("insert into study_members (study_id, user_id, role) select ?, id, 'owner' from users where email = ?")
      .run(target, owner.email);
    setup.close();

    const marker = path.join(dataDir, "paused-between-chunks");
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1", PROMPTDUEL_TEST_PAUSE_JOB_CHUNK: marker }, dataDir);
    const running = app;
    const { cookie } = await signIn(running, owner.email);
    const log = await (await fetch(`${running.url}/studies/${source}/export/download?format=jsonl`, { headers: { Cookie: cookie } })).text();
    const annotator = new ApiAnnotator(running.url, source);
    await annotator.join(inviteTokenOf(await createAnnotatorLink(running, owner, source)), "Probe");
    const first = await annotator.nextPair();

    const form = new FormData();
    form.set("log", new File([log], "raw.jsonl", { type: "application/jsonl" }));
    const posted = await fetch(`${running.url}/studies/${target}/import-log`, {
      method: "POST",
      body: form,
      headers: { Origin: running.url, Cookie: cookie },
    });
    expect(posted.status).toBe(202);
    await expect.poll(() => fs.existsSync(marker), { timeout: 120_000, interval: 50 }).toBe(true);

    // Paused with chunks committed: the annotator's vote and next pair go through.
    const voted = await annotator.voteAndNext(first.assignmentId, "left");
    expect(voted.next).not.toBeNull();
    const paused = readAppDatabase(running, (db) => ({
      written: db.prepare("select count(*) from pending_imports").pluck().get(),
      visible: db.prepare(`select count(*) from votes where study_id = ? and ${PUBLISHED}`).pluck().get(target),
      prompts: db.prepare("select count(*) from prompts where study_id = ?").pluck().get(target),
      probeVotes: db.prepare("select count(*) from votes v join annotators a on a.id = v.annotator_id where a.display_name = 'Probe'").pluck().get(),
    }));
    expect(paused).toEqual({ written: 1, visible: 0, prompts: 0, probeVotes: 1 });
    const exportPage = await (await fetch(`${running.url}/studies/${target}/export`, { headers: { Cookie: cookie } })).text();
    expect(exportPage).not.toMatch(/Annotator \d/);

    fs.rmSync(marker);
    const jobState = () =>
      readAppDatabase(running, (db) => db.prepare("select state from jobs where study_id = ? order by id desc limit 1").pluck().get(target));
    await expect.poll(jobState, { timeout: 120_000, interval: 100 }).toBe("succeeded");
    const published = readAppDatabase(running, (db) => ({
      pending: db.prepare("select count(*) from pending_imports").pluck().get(),
      visible: db.prepare(`select count(*) from votes where study_id = ? and ${PUBLISHED}`).pluck().get(target),
      tallied: db.prepare("select sum(votes) from annotator_tallies where study_id = ?").pluck().get(target),
      staging: db.prepare("select count(*) from studies where task = 'import staging'").pluck().get(),
    }));
    expect(published).toEqual({ pending: 0, visible: 30, tallied: 30, staging: 0 });
    annotator.close();
  });
});
