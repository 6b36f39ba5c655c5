// The form parse thread (setup-parse.server.ts, ADR 0036): parses and validates large new-study and
// setup forms with the same schemas as the request thread, and plans what they add on a connection of
// its own (ADR 0043). Loaded through worker-bootstrap.mjs (tsx).
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, type Connection } from "../../db/client";
import { applyBackgroundThreadPriority, type BackgroundThreadPriority } from "~/utils/thread-priority.server";
import {
  parseFormHere,
  planParsedForm,
  planSubject,
  type FormParse,
  type FormKind,
  type FromParseThread,
  type PlanOutcome,
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

/** Reads only; one read transaction, so the counts and texts are of one moment. */
function planned(request: PlanRequest, plan: (db: Connection["db"]) => PlanOutcome): PlanOutcome {
  const db = database(request.databasePath);
  return db.transaction(() => plan(db), { behavior: "deferred" });
}

function withPlan(kind: FormKind, parsed: FormParse<FormKind>, request: PlanRequest | null): FormParse<FormKind> {
  if (!parsed.success || request === null) return parsed;
  return { ...parsed, planned: planned(request, (db) => planParsedForm(db, kind, parsed.data, request)) };
}

port.on("message", (message: ToParseThread) => {
  let reply: FromParseThread;
  try {
    reply =
      message.type === "parse"
        ? { id: message.id, result: withPlan(message.kind, parseFormHere(message.kind, message.options, message.fields), message.plan) }
        : { id: message.id, planned: planned(message.plan, (db) => planSubject(db, message.subject, message.plan)) };
  } catch (error) {
    reply = { id: message.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
