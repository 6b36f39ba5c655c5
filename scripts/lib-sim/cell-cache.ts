import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * The benchmark's per-cell store: one JSON file per (setting, policy, scenario) holding every finished trial, written
 * after each trial (write + rename), so an interrupted run resumes where it stopped and a later run with more trials
 * only adds the missing ones. Each file records the engine version (a hash of bandit/'s sources) it was computed with.
 */
export const trialRecordSchema = z.object({
  trial: z.number().int(),
  /** Regret at the checkpoints within the budget. */
  at: z.record(z.string(), z.number()),
  /** Regret after every CURVE_STEP-th vote (for the plot). */
  curve: z.array(z.number()),
  msPerVote: z.number(),
  armsDueled: z.number(),
  chosenPairs: z.number(),
  fallbackPairs: z.number(),
});
export type TrialRecord = z.infer<typeof trialRecordSchema>;

export const cellFileSchema = z.object({
  setting: z.string(),
  policy: z.string(),
  scenario: z.string(),
  votes: z.number(),
  seed: z.number(),
  engineVersion: z.string(),
  trials: z.record(z.string(), trialRecordSchema),
});
export type CellFile = z.infer<typeof cellFileSchema>;

export const CURVE_STEP = 5;

/** Sources only `app` and `duet` run: a change there leaves the baselines' cells current. */
const APP_ONLY_SOURCES = new Set([
  "duet.ts",
  "served.ts",
  "coverage.ts",
  "stopping-rule.ts",
  "leaderboard.ts",
  "bradley-terry.ts",
  "lexical-embedding.ts",
]);

/**
 * sha1 (first 12 hex digits) of the non-test source files in bandit/ that `policy` runs (every file for `app` and
 * `duet`, all but APP_ONLY_SOURCES for a baseline), in name order.
 */
export function engineVersion(policy: string): string {
  const appOnly = policy === "app" || policy === "duet";
  const directory = fileURLToPath(new URL("../../bandit", import.meta.url));
  const hash = createHash("sha1");
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") && (appOnly || !APP_ONLY_SOURCES.has(entry.name))) {
        hash.update(entry.name).update(readFileSync(path));
      }
    }
  };
  walk(directory);
  return hash.digest("hex").slice(0, 12);
}

export function cellPath(cacheDir: string, setting: string, policy: string, scenario: string): string {
  return join(cacheDir, setting, policy, `${scenario}.json`);
}

/** The stored cell, or null when absent or computed with other votes/seed (then it is recomputed). */
export function readCell(path: string, votes: number, seed: number): CellFile | null {
  if (!existsSync(path)) return null;
  const parsed = cellFileSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
  if (!parsed.success || parsed.data.votes !== votes || parsed.data.seed !== seed) return null;
  return parsed.data;
}

export function writeCell(path: string, cell: CellFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(cell));
  renameSync(temporary, path);
}

export function removeCell(path: string): void {
  rmSync(path, { force: true });
}
