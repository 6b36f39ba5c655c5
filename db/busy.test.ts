import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../tests/helpers/temp-database";
import { isBusy, retryWhenBusy } from "./busy";
import { openDatabase } from "./client";

// A write that meets another connection's lock is retried after asynchronous pauses (ADR 0036): the
// thread serves other work meanwhile, and the write goes through once the lock is free.

describe("retryWhenBusy", () => {
  const dir = useTempDir();

  it("keeps the event loop free while the lock is held and writes once it is released", async () => {
    const file = path.join(dir(), "busy.db");
    const app = openDatabase(file, { busyTimeoutMs: 0 });
    const job = new Database(file);
    job.prepare("begin immediate").run();
    job.prepare("insert into app_meta (key, value) values ('job', 'holding')").run();

    const events: string[] = [];
    let tries = 0;
    const write = retryWhenBusy((attempt) => {
      tries = attempt + 1;
      app.db.transaction(() => app.db.$client.prepare("insert into app_meta (key, value) values ('request', 'written')").run());
      events.push("written");
    });
    // Held: the write failed at least once and waits; other work (a read) runs in the meantime.
    await expect.poll(() => tries, { timeout: 30_000 }).toBeGreaterThan(1);
    events.push(`read ${String(app.db.$client.prepare("select count(*) from app_meta where key = 'job'").pluck().get())}`);
    job.prepare("commit").run();
    await write;
    expect(events).toEqual(["read 0", "written"]);
    expect(app.db.$client.prepare("select key from app_meta where key in ('job', 'request') order by key").pluck().all()).toEqual(["job", "request"]);
    job.close();
    app.close();
  });

  it("gives up after its budget with the SQLITE_BUSY error, and passes any other error through at once", async () => {
    const file = path.join(dir(), "budget.db");
    const app = openDatabase(file, { busyTimeoutMs: 0 });
    const job = new Database(file);
    job.prepare("begin immediate").run();
    const failed = await retryWhenBusy(() => app.db.transaction(() => undefined), 0).catch((error: unknown) => error);
    expect(isBusy(failed)).toBe(true);
    job.prepare("rollback").run();
    let calls = 0;
    const other = await retryWhenBusy(() => {
      calls++;
      throw new Error("not a lock");
    }).catch((error: unknown) => error);
    expect((other as Error).message).toBe("not a lock");
    expect(calls).toBe(1);
    job.close();
    app.close();
  });
});
