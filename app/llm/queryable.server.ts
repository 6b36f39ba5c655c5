import type { RunResult } from "better-sqlite3";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "../../db/schema";

/**
 * The database or an open transaction on it. Helpers typed with this run inside a caller's
 * transaction, so a multi-step write (create a study, queue its responses) commits as one.
 */
export type Queryable = BaseSQLiteDatabase<"sync", RunResult, typeof schema>;
