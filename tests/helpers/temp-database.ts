import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";

/**
 * Points the app's connection (DATABASE_PATH) at a fresh SQLite file for this test file; the real
 * migrations and the demo seed run on first use, exactly as at server start. Removed afterwards.
 */
export function useTempAppDatabase(): { path: () => string } {
  let dir = "";
  beforeAll(async () => {
    // The job thread holds a connection of its own to the previous file.
    const { stopJobs } = await import("../../app/jobs/runner.server");
    await stopJobs();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-test-"));
    process.env.DATABASE_PATH = path.join(dir, "test.db");
    const { closeConnection } = await import("../../app/db.server");
    closeConnection();
  });
  afterAll(async () => {
    const { closeAllEngines } = await import("../../app/engine/engine.server");
    const { stopJobs } = await import("../../app/jobs/runner.server");
    await stopJobs();
    await closeAllEngines();
    // The reliability thread reads the file and its results are written to it: stopped before it goes.
    const { stopReliabilityThread } = await import("../../app/models/reliability-thread.server");
    await stopReliabilityThread();
    const { closeConnection } = await import("../../app/db.server");
    closeConnection();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { path: () => path.join(dir, "test.db") };
}

/** A fresh temporary directory removed after the test file. */
export function useTempDir(): () => string {
  let dir = "";
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-test-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}
