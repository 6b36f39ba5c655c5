// The form parse thread (setup-parse.server.ts, ADR 0036): parses and validates large new-study and
// setup forms with the same schemas as the request thread. Loaded through worker-bootstrap.mjs (tsx).
import { parentPort, workerData } from "node:worker_threads";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";
import { parseFormHere, type FromParseThread, type ToParseThread } from "./setup-parse.server";

const port = parentPort;
if (!port) throw new Error("setup-parse.worker must run in a worker thread");
applyBackgroundThreadPriority((workerData as { priority: BackgroundThreadPriority }).priority, "job");

port.on("message", (message: ToParseThread) => {
  let reply: FromParseThread;
  try {
    reply = { id: message.id, result: parseFormHere(message.kind, message.options, message.fields) };
  } catch (error) {
    reply = { id: message.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
