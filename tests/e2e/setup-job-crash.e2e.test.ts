import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFirstOwner, signIn } from "../helpers/accounts";
import { readAppDatabase, startApp, type RunningApp } from "../../harness/app-server";

// An addition writes its queries and their pending responses in short chunks nobody sees and
// publishes them in one small commit (ADR 0043). Killed (SIGKILL, a real server process) between two
// chunks, it leaves nothing any reader counts; the next start removes the staged rows, queues the job
// again, and it adds every query and queues every response exactly once.

const ADDED = 300;

describe("a killed addition", () => {
  let app: RunningApp | null = null;
  afterAll(async () => {
    await app?.stop();
    if (app) fs.rmSync(app.dataDir, { recursive: true, force: true });
  });

  it("leaves nothing visible, is retried at the next start and then adds every query once", async () => {
    app = await startApp();
    const owner = await createFirstOwner(app);
    await app.stop();
    const dataDir = app.dataDir;
    const marker = path.join(dataDir, "paused-between-chunks");
    // No confirmation: the job runs as soon as it is queued.
    const quiet = { CONFIRM_RESPONSES_ABOVE: "100000" };
    app = await startApp({ ...quiet, PROMPTDUEL_TEST_HOOKS: "1", PROMPTDUEL_TEST_PAUSE_JOB_CHUNK: marker }, dataDir);
    const first = app;
    const study = readAppDatabase(first, (db) => db.prepare("select id from studies order by id limit 1").pluck().get() as number);
    // What the owner's pages count of the study: its queries, and its responses by status (a response to a staged query is not the study's).
    const seen = (running: RunningApp) =>
      readAppDatabase(running, (db) => ({
        prompts: db.prepare("select count(*) from prompts where study_id = ?").pluck().get(study) as number,
        queries: db.prepare("select count(*) from queries where study_id = ?").pluck().get(study) as number,
        responses: db
          .prepare(
            "select count(*) from responses r join prompts p on p.id = r.prompt_id join queries q on q.id = r.query_id and q.study_id = p.study_id where p.study_id = ?",
          )
          .pluck()
          .get(study) as number,
      }));
    const before = seen(first);

    const { cookie } = await signIn(first, owner.email);
    const form = new FormData();
    form.set("intent", "add-queries");
    form.set("queriesText", Array.from({ length: ADDED }, (_, k) => `Added question ${k}?`).join("\n"));
    const posted = await fetch(`${first.url}/studies/${study}/setup`, { method: "POST", body: form, headers: { Origin: first.url, Cookie: cookie } });
    expect(posted.status).toBe(200);

    // Paused after its second chunk has committed: kill the server there.
    await expect.poll(() => fs.existsSync(marker), { timeout: 120_000, interval: 50 }).toBe(true);
    await new Promise<void>((resolve) => {
      first.process.once("exit", () => resolve());
      first.process.kill("SIGKILL");
    });
    const afterKill = readAppDatabase(first, (db) => ({
      integrity: db.pragma("integrity_check", { simple: true }),
      pending: db.prepare("select count(*) from pending_imports").pluck().get(),
      staged: db.prepare("select count(*) from queries where study_id = (select staging_study_id from pending_imports)").pluck().get() as number,
      job: db.prepare("select state, attempts from jobs where study_id = ? and kind = 'add-to-study' order by id desc limit 1").get(study),
    }));
    expect(afterKill).toMatchObject({ integrity: "ok", pending: 1, job: { state: "running", attempts: 1 } });
    expect(afterKill.staged).toBeGreaterThan(0);
    expect(seen(first)).toEqual(before);

    // Restarted normally: the staged rows go, the job runs again and succeeds.
    fs.rmSync(marker);
    app = await startApp(quiet, dataDir);
    const running = app;
    const job = () =>
      readAppDatabase(running, (db) =>
        db.prepare("select state, attempts, result from jobs where study_id = ? and kind = 'add-to-study'").get(study),
      ) as {
        state: string;
        attempts: number;
        result: string | null;
      };
    await expect.poll(() => job().state, { timeout: 120_000, interval: 100 }).toBe("succeeded");
    expect(job().attempts).toBe(2);
    expect(JSON.parse(job().result!)).toMatchObject({ queriesAdded: ADDED, queryDuplicates: 0, responsesQueued: before.prompts * ADDED });
    expect(seen(running)).toEqual({ prompts: before.prompts, queries: before.queries + ADDED, responses: before.responses + before.prompts * ADDED });
    const left = readAppDatabase(running, (db) => ({
      pending: db.prepare("select count(*) from pending_imports").pluck().get(),
      staging: db.prepare("select count(*) from studies where task = 'addition staging'").pluck().get(),
      // Every response row names a prompt and a query of one study: none was left by the killed attempt.
      strays: db
        .prepare(
          "select count(*) from responses r join prompts p on p.id = r.prompt_id join queries q on q.id = r.query_id where q.study_id <> p.study_id",
        )
        .pluck()
        .get(),
      repeated: db.prepare("select count(*) from (select text from queries where study_id = ? group by text having count(*) > 1)").pluck().get(study),
    }));
    expect(left).toEqual({ pending: 0, staging: 0, strays: 0, repeated: 0 });
  });
});
