import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { createFirstOwner, signIn } from "../helpers/accounts";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";
import { seedVotes, type SeededVote } from "../helpers/seed-votes";

// A raw-log import is a background job that writes everything in one transaction (ADR 0010). Killed
// (SIGKILL, a real server process) at the worst moment — every row written, nothing committed — it
// leaves nothing behind; the next start queues it again and it imports every vote exactly once.

describe("a killed import", () => {
  let app: RunningApp | null = null;
  afterAll(async () => {
    await app?.stop();
    if (app) fs.rmSync(app.dataDir, { recursive: true, force: true });
  });

  it("leaves nothing, is retried at the next start and then imports every vote exactly once", async () => {
    // A study with votes to export, and an empty one of the same owner to import them into.
    app = await startApp();
    const owner = await createFirstOwner(app);
    await app.stop();
    const dataDir = app.dataDir;
    const setup = openDatabase(app.databasePath);
    const source = setup.db.$client.prepare("select id from studies order by id limit 1").pluck().get() as number;
    const at = (k: number) => new Date(Date.UTC(2025, 2, 1, 9, 0, k));
    const specs: SeededVote[] = Array.from({ length: 40 }, (_, k) => ({
      annotator: `Annotator ${k % 3}`,
      promptA: k % 5,
      promptB: 5 + (k % 4),
      query: k % 6,
      leftIsA: k % 2 === 0,
      choice: (["left", "right", "tie", "both_bad", "skip"] as const)[k % 5]!,
      latencyMs: 1000 + k,
      at: at(k),
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

    const marker = path.join(dataDir, "paused-in-commit");
    app = await startApp({ PROMPTDUEL_TEST_HOOKS: "1", PROMPTDUEL_TEST_PAUSE_JOB_COMMIT: marker }, dataDir);
    const { cookie } = await signIn(app, owner.email);
    const log = await (await fetch(`${app.url}/studies/${source}/export/download?format=jsonl`, { headers: { Cookie: cookie } })).text();
    expect(log.trimEnd().split("\n")).toHaveLength(40);
    const importLog = async (running: RunningApp) => {
      const session = await signIn(running, owner.email);
      const form = new FormData();
      form.set("log", new File([log], "raw.jsonl", { type: "application/jsonl" }));
      const response = await fetch(`${running.url}/studies/${target}/import-log`, {
        method: "POST",
        body: form,
        headers: { Origin: running.url, Cookie: session.cookie },
      });
      expect(response.status).toBe(202);
    };
    await importLog(app);

    // The job has written every row inside its transaction and stopped before the commit: kill the server there.
    await expect.poll(() => fs.existsSync(marker), { timeout: 120_000, interval: 50 }).toBe(true);
    const killed = app;
    await new Promise<void>((resolve) => {
      killed.process.once("exit", () => resolve());
      killed.process.kill("SIGKILL");
    });
    const afterKill = readAppDatabase(killed, (db) => ({
      integrity: db.pragma("integrity_check", { simple: true }),
      votes: db.prepare("select count(*) from votes where study_id = ?").pluck().get(target),
      prompts: db.prepare("select count(*) from prompts where study_id = ?").pluck().get(target),
      queries: db.prepare("select count(*) from queries where study_id = ?").pluck().get(target),
      tallies: db.prepare("select count(*) from annotator_tallies where study_id = ?").pluck().get(target),
      job: db.prepare("select state, attempts from jobs where study_id = ? order by id desc limit 1").get(target),
    }));
    expect(afterKill).toEqual({ integrity: "ok", votes: 0, prompts: 0, queries: 0, tallies: 0, job: { state: "running", attempts: 1 } });

    // Restarted normally: the interrupted job is queued again and succeeds.
    fs.rmSync(marker);
    app = await startApp({}, dataDir);
    const running = app;
    const jobState = () =>
      readAppDatabase(running, (db) => db.prepare("select state from jobs where study_id = ? order by id desc limit 1").pluck().get(target));
    await expect.poll(jobState, { timeout: 120_000, interval: 100 }).toBe("succeeded");
    const imported = readAppDatabase(running, (db) => ({
      votes: db.prepare("select count(*) from votes where study_id = ?").pluck().get(target),
      distinctOrigins: db.prepare("select count(distinct origin) from votes where study_id = ?").pluck().get(target),
      job: db.prepare("select attempts, result from jobs where study_id = ? order by id desc limit 1").get(target) as {
        attempts: number;
        result: string;
      },
    }));
    expect(imported.votes).toBe(40);
    expect(imported.distinctOrigins).toBe(40);
    expect(imported.job.attempts).toBe(2);
    expect(JSON.parse(imported.job.result)).toMatchObject({ votes: 40, skipped: 0 });

    // Importing the same log again adds nothing.
    await importLog(running);
    await expect
      .poll(
        () =>
          readAppDatabase(running, (db) => db.prepare("select count(*) from jobs where study_id = ? and state = 'succeeded'").pluck().get(target)),
        {
          timeout: 120_000,
          interval: 100,
        },
      )
      .toBe(2);
    const again = readAppDatabase(running, (db) => ({
      votes: db.prepare("select count(*) from votes where study_id = ?").pluck().get(target),
      result: JSON.parse(db.prepare("select result from jobs where study_id = ? order by id desc limit 1").pluck().get(target) as string) as unknown,
    }));
    expect(again).toMatchObject({ votes: 40, result: { votes: 0, skipped: 40 } });
  });
});
