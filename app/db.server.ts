import { openDatabase, type Connection, type DB } from "../db/client";
import { seedDemoStudy } from "../db/seed/seed";
import { env } from "./env.server";

// One connection per process. Kept on globalThis so a dev rebuild does not open a second handle.
declare global {
  // eslint-disable-next-line no-var
  var __promptduelConnection: Connection | undefined;
}

export function connection(): Connection {
  if (!globalThis.__promptduelConnection) {
    const opened = openDatabase(env().DATABASE_PATH);
    seedDemoStudy(opened.db);
    globalThis.__promptduelConnection = opened;
  }
  return globalThis.__promptduelConnection;
}

export function db(): DB {
  return connection().db;
}

export type { DB };
