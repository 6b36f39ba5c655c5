// The form parse thread (setup-parse.server.ts, ADR 0036): parses and validates large new-study and
// setup forms with the same schemas as the request thread, and plans what they add on a connection of
// its own (ADR 0043). Loaded through worker-bootstrap.mjs (tsx).
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, type Connection } from "../../db/client";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";
import {
  parseFormHere,
  planParsedForm,
  type FormParse,
  type FormKind,
  type FromParseThread,
  type PlanRequest,
  type ToParseThread,
} from "./setup-parse.server";

const port = parentPort;
if (!port) throw new Error("setup-parse.worker must run in a worker thread");
applyBackgroundThreadPriority((workerData as { priority: BackgroundThreadPriority }).priority, "job");

// The connection plans read from, opened on the first plan and again when a request names another database.
let connection: Connection | null = null;
function database(databasePath: string) {
  if (connection?.path !== databasePath) {
    connection?.close();
    connection = openDatabase(databasePath);
  }
  return connection.db;
}

function withPlan(kind: FormKind, parsed: FormParse<FormKind>, request: PlanRequest | null): FormParse<FormKind> {
  if (!parsed.success || request === null) return parsed;
  // Reads only; one read transaction, so the counts and texts are of one moment.
  const db = database(request.databasePath);
  const planned = db.transaction(() => planParsedForm(db, kind, parsed.data, request), { behavior: "deferred" });
  return { ...parsed, planned };
}

port.on("message", (message: ToParseThread) => {
  let reply: FromParseThread;
  try {
    const parsed: FormParse<FormKind> =
      message.type === "parse" ? parseFormHere(message.kind, message.options, message.fields) : { success: true, data: message.data };
    reply = { id: message.id, result: withPlan(message.kind, parsed, message.plan) };
  } catch (error) {
    reply = { id: message.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
