import type Database from "better-sqlite3";
import { readAppDatabase, type RunningApp } from "../../harness/app-server";

export interface ProbeResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** One request to the app as a non-browser client would send it (no redirects followed). */
export async function probe(
  app: RunningApp,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: BodyInit } = {},
): Promise<ProbeResponse> {
  const response = await fetch(`${app.url}${path}`, { method: init.method ?? "GET", headers: init.headers, body: init.body, redirect: "manual" });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** A urlencoded form post. */
export function postForm(app: RunningApp, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return probe(app, path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

// Every table a request could write to; engine snapshots are left out (the engine writes them on its own schedule).
const DATA_TABLES = ["studies", "prompts", "queries", "responses", "users", "assignments", "votes", "app_meta"];

/** Row counts of the app's data tables, to check that refused requests wrote nothing. */
export function tableCounts(app: RunningApp): Record<string, number> {
  return readAppDatabase(app, (db: Database.Database) =>
    Object.fromEntries(DATA_TABLES.map((table) => [table, db.prepare(`select count(*) from ${table}`).pluck().get() as number])),
  );
}
