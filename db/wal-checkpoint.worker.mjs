// Background WAL checkpoints for the app's connection (db/client.ts, ADR 0001): copies committed pages
// from the WAL into the database file, with its fsync, on this thread instead of in the middle of a
// request's commit. PASSIVE never blocks the writer or readers; it does what it can and tries again.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const database = new Database(workerData.path, { fileMustExist: true });
database.pragma("busy_timeout = 1000");

const timer = setInterval(() => {
  try {
    database.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
}, workerData.intervalMs);

parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  database.close();
  parentPort.close();
});
