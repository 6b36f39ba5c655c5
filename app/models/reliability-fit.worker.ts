// The reliability thread (ADR 0041): fits the crowd model of ADR 0037 on a study's votes, off the request thread. It
// reads the votes on a read-only connection of its own and answers with the fit; the app's connection stores it.
// Loaded through worker-bootstrap.mjs (tsx).
import { parentPort, workerData } from "node:worker_threads";
import { shownVotes } from "../../db/annotator-reliability";
import { openReader, type Connection } from "../../db/client";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";
import { fitShownVotes } from "./reliability-fit.server";
import type { FromReliabilityThread, ToReliabilityThread } from "./reliability-thread.server";

const port = parentPort;
if (!port) throw new Error("reliability-fit.worker must run in a worker thread");
// At the engine threads' priority, not the jobs': a fit of 1,000 prompts takes seconds of CPU after every snapshot, and
// at nice 10 it took the stress run of bench:server from p99 20 ms to 106 ms (nice 19: 20.2 ms).
applyBackgroundThreadPriority((workerData as { priority: BackgroundThreadPriority }).priority, "engine");

let reader: Connection | null = null;

port.on("message", (message: ToReliabilityThread) => {
  let reply: FromReliabilityThread;
  try {
    if (reader?.path !== message.databasePath) {
      reader?.close();
      reader = openReader(message.databasePath);
    }
    const started = performance.now();
    const rows = shownVotes(reader.db, message.studyId, message.maxVotes + 1);
    const truncated = rows.length > message.maxVotes;
    if (truncated) rows.length = message.maxVotes;
    const fit = fitShownVotes(rows, truncated);
    reply = { studyId: message.studyId, lastVoteId: rows[0]?.id ?? 0, fit, fitMs: performance.now() - started };
  } catch (error) {
    reply = { studyId: message.studyId, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
