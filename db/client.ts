import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "./schema";

export type DB = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

export interface Connection {
  db: DB;
  /** Closes the underlying SQLite handle; the connection is unusable afterwards. */
  close(): void;
  /** Path of the database file (":memory:" for an in-memory database). */
  path: string;
}

// Resolves to the repo's migrations/ both from db/client.ts and from the bundled build/index.js.
const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));
const CHECKPOINT_WORKER = fileURLToPath(new URL("../db/wal-checkpoint.worker.mjs", import.meta.url));
const CHECKPOINT_INTERVAL_MS = 250;
// With background checkpoints the connection checkpoints by itself only past this many WAL pages
// (~40 MB): a fallback should the checkpointer ever stop, not the normal path.
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Opens (creating if needed) the SQLite database at `filePath`, sets the pragmas the app relies on and
 * applies every pending migration.
 *
 * synchronous=NORMAL by default: in WAL mode a commit survives a crash of the process; only an OS
 * crash or power cut can lose the last commits. FULL (one fsync per commit) is available for disks
 * where fsync is cheap; on ours it capped the server far below its vote-rate target (ADR 0001).
 * Migrations run with foreign keys OFF because drizzle runs them in one transaction, where the
 * PRAGMA drizzle-kit writes into table rebuilds has no effect and a rebuilt parent table would
 * cascade-delete its children; integrity is checked with foreign_key_check before keys go back on.
 * `busyTimeoutMs` (5 s by default) is how long a statement waits for another connection's write lock,
 * blocking its thread: the app's request connection waits REQUEST_BUSY_TIMEOUT_MS and retries
 * asynchronously (db/busy.ts, ADR 0036); the job thread's may wait the default.
 * `backgroundCheckpoints` (the app server) moves WAL checkpoints, and their fsync, to a worker
 * thread: run by the committing connection they stalled requests for ~10 ms each (ADR 0001).
 */
export type SynchronousMode = "FULL" | "NORMAL";

export function openDatabase(
  filePath: string,
  options: { migrationsFolder?: string; synchronous?: SynchronousMode; backgroundCheckpoints?: boolean; busyTimeoutMs?: number } = {},
): Connection {
  if (filePath !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(filePath)), { recursive: true });
  const sqlite = new Database(filePath);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`synchronous = ${options.synchronous ?? "NORMAL"}`);
  // Migrations may wait for another process's lock; the connection's own wait is set after them.
  sqlite.pragma("busy_timeout = 5000");
  sqlite.pragma("foreign_keys = OFF");
  const db = beginImmediate(drizzle(sqlite, { schema }));
  try {
    migrate(db, { migrationsFolder: options.migrationsFolder ?? DEFAULT_MIGRATIONS_FOLDER });
    const violations = sqlite.pragma("foreign_key_check") as unknown[];
    if (violations.length > 0) {
      throw new Error(`openDatabase: migrations left ${violations.length} foreign key violation(s) in ${filePath}`);
    }
  } catch (error) {
    sqlite.close();
    throw error;
  }
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.backgroundCheckpoints || filePath === ":memory:") return { db, path: filePath, close: () => sqlite.close() };
  sqlite.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = startCheckpointer(filePath);
  return {
    db,
    path: filePath,
    close: () => {
      checkpointer.postMessage("stop");
      sqlite.close();
    },
  };
}

/**
 * Every transaction on this connection begins IMMEDIATE (nested ones stay savepoints): it takes the
 * write lock at BEGIN, waiting up to busy_timeout while another connection commits (the job thread
 * writing a 100,000-vote import). A DEFERRED transaction that reads first cannot wait when it then
 * writes: SQLite refuses the upgrade at once with SQLITE_BUSY, and a vote answered 500 "database is
 * locked" while a job committed (bench:owner-ops, import section). It also makes SQLITE_BUSY come at
 * BEGIN, before the transaction did anything, so retryWhenBusy (db/busy.ts) may run it again.
 */
function beginImmediate(db: DB): DB {
  const begin = db.transaction.bind(db);
  db.transaction = (transaction, config) => begin(transaction, { behavior: "immediate", ...config });
  return db;
}

function startCheckpointer(filePath: string): Worker {
  const worker = new Worker(CHECKPOINT_WORKER, { workerData: { path: filePath, intervalMs: CHECKPOINT_INTERVAL_MS } });
  worker.unref();
  worker.on("message", (message: { error: string }) => console.error(`WAL checkpoint of ${filePath} failed: ${message.error}`));
  worker.on("error", (error) => console.error(`WAL checkpointer of ${filePath} stopped:`, error));
  return worker;
}

/**
 * A read-only connection to an existing, already migrated database: for long reads (exports) that
 * must not hold up writers and must never write. No migration, no integrity scan: `openDatabase`
 * did both when the app started. In WAL mode it reads one consistent snapshot per statement.
 */
export function openReader(filePath: string): Connection {
  const sqlite = new Database(filePath, { readonly: true, fileMustExist: true });
  sqlite.pragma("busy_timeout = 5000");
  return { db: drizzle(sqlite, { schema }), path: filePath, close: () => sqlite.close() };
}
