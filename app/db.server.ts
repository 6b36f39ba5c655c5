import { openDatabase, type Connection, type DB } from "../db/client";
import { seedDemoStudy } from "../db/seed/seed";
import { env } from "./env.server";
import { releaseSingleton, singleton } from "~/utils/singleton.server";

/** The process's one connection, opened (migrated, demo study seeded) on first use. */
export function connection(): Connection {
  return singleton("connection", () => {
    const config = env();
    const opened = openDatabase(config.DATABASE_PATH, { synchronous: config.SQLITE_SYNCHRONOUS, backgroundCheckpoints: true });
    seedDemoStudy(opened.db);
    return opened;
  });
}

/** Closes the connection (tests, benchmarks): the next use opens DATABASE_PATH again. */
export function closeConnection(): void {
  releaseSingleton<Connection>("connection")?.close();
}

export function db(): DB {
  return connection().db;
}

export type { DB };

const statementCache = new WeakMap<DB, Map<string, unknown>>();

/**
 * A statement built once per connection and reused: drizzle otherwise rebuilds and re-prepares the
 * SQL on every call, which dominated the cost of the pair/vote requests (bench:server profile).
 * `key` must identify the statement uniquely; `build` must use sql.placeholder for the values.
 */
export function prepared<T>(key: string, build: (database: DB) => T): T {
  const database = db();
  let cache = statementCache.get(database);
  if (!cache) statementCache.set(database, (cache = new Map()));
  let statement = cache.get(key) as T | undefined;
  if (statement === undefined) {
    statement = build(database);
    cache.set(key, statement);
  }
  return statement;
}
