import { spawn, type ChildProcess } from "node:child_process";
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface RunningApp {
  url: string;
  /** The one-time first-owner link the server printed, while no account exists (else null). */
  setupUrl: string | null;
  databasePath: string;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the built app (`node server.js`, never through npx, so the pid we kill is the server) on a
 * free port with its own fresh database directory. Resolves once it prints its URL.
 */
export async function startApp(extraEnv: Record<string, string> = {}, dataDir?: string): Promise<RunningApp> {
  const dir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-e2e-"));
  const databasePath = path.join(dir, "app.db");
  const child = spawn(process.execPath, ["server.js"], {
    // Offline unless the test points the app at a provider: a developer's own OPENAI_* must never leak into tests.
    env: {
      ...process.env,
      PORT: "0",
      DATABASE_PATH: databasePath,
      NODE_ENV: "production",
      OPENAI_API_KEY: "",
      OPENAI_BASE_URL: "",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      // The startup message is one write: its last line is "sign in" or the CLI hint after the setup link.
      const match = output.match(/listening on (http:\/\/localhost:\d+)[\s\S]*(?:\/login and sign in|npm run owner -- create)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace("localhost", "127.0.0.1"));
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${signal ? `signal ${signal}` : `code ${code}`}) before listening:\n${output}`));
    });
  });
  const setupPath = output.match(/\/setup\/[A-Za-z0-9_-]{43}/)?.[0];
  return {
    url,
    setupUrl: setupPath ? `${url}${setupPath}` : null,
    databasePath,
    dataDir: dir,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** Reads the running app's database through a separate read-only connection (WAL allows it). */
export function readAppDatabase<T>(app: RunningApp, read: (db: Database.Database) => T): T {
  const db = new Database(app.databasePath, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
