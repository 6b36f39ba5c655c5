// Waiting for SQLite's write lock without freezing the event loop (ADR 0036). better-sqlite3 is
// synchronous: its busy handler (busy_timeout) sleeps the calling thread, so on the request thread
// every request waited while one write waited. The app's connection therefore waits at most
// REQUEST_BUSY_TIMEOUT_MS in SQLite; a write that still meets the lock fails with SQLITE_BUSY and
// retryWhenBusy runs it again after an asynchronous pause, serving other requests meanwhile.

/** The longest a write on the request thread's connection blocks the thread, waiting for the lock. */
export const REQUEST_BUSY_TIMEOUT_MS = 50;

/** How long retryWhenBusy keeps trying before it lets SQLITE_BUSY through (a 500 "database is locked"). */
export const BUSY_RETRY_BUDGET_MS = 10_000;

/** SQLITE_BUSY and its extended codes (better-sqlite3's SqliteError `code`). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt`, and again after a pause (2, 4, 8 … 64 ms, then every 64 ms) each time it fails with
 * SQLITE_BUSY, until `budgetMs` has passed; any other error, or SQLITE_BUSY after the budget, is thrown.
 * Safe only where a failed attempt wrote nothing: every transaction begins IMMEDIATE (db/client.ts), so
 * SQLITE_BUSY comes at BEGIN, before the transaction did anything.
 */
export async function retryWhenBusy<T>(attempt: (tries: number) => T | Promise<T>, budgetMs = BUSY_RETRY_BUDGET_MS): Promise<T> {
  const started = Date.now();
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(tries);
    } catch (error) {
      if (!isBusy(error) || Date.now() - started >= budgetMs) throw error;
      await sleep(Math.min(64, 2 << Math.min(tries, 5)));
    }
  }
}
