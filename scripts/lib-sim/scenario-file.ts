import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseScenario } from "../../bandit/scenario";
import type { Scenario } from "../../bandit/scenario";

/** Reads and validates a scenario JSON file; errors name the file. */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read scenario file ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`scenario file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseScenario(json);
  } catch (error) {
    throw new Error(`scenario file ${path}: ${(error as Error).message}`);
  }
}

/**
 * The normalised simple regret of recommending `arm`, (max u - u_arm) / (max u - mean u): 0 = the best prompt, 1 = an
 * average one (shared/bench/README.md; what bandit/simulate.ts scores).
 */
export function regretScorer(utility: ArrayLike<number>): (arm: number) => number {
  const values = Array.from(utility);
  const max = Math.max(...values);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  return (arm) => (max - values[arm]!) / (max - mean);
}

/**
 * The shared benchmark folder: $PROMPTDUEL_SHARED_DIR/bench when that variable is set (a git worktree does not sit
 * beside the shared folder), else ../shared/bench beside the repository, wherever the command runs from.
 */
export const SHARED_BENCH_DIR = process.env.PROMPTDUEL_SHARED_DIR
  ? join(resolve(process.env.PROMPTDUEL_SHARED_DIR), "bench")
  : fileURLToPath(new URL("../../../shared/bench", import.meta.url));

/** Reads a file of the shared benchmark folder (e.g. "scenarios/linear.json"), saying where it looked when it is missing. */
export function readSharedBenchFile(relativePath: string): string {
  const path = join(SHARED_BENCH_DIR, relativePath);
  if (!existsSync(path)) throw new Error(`${path} not found: put the shared folder beside the repository or set PROMPTDUEL_SHARED_DIR`);
  return readFileSync(path, "utf8");
}

/**
 * The shared scenario files by name (file name without .json), sorted; only `selected` ones when given.
 * Throws naming any selected scenario that does not exist.
 */
export function scenarioFiles(selected?: readonly string[]): Map<string, string> {
  const directory = join(SHARED_BENCH_DIR, "scenarios");
  const files = new Map(
    readdirSync(directory)
      .filter((file) => file.endsWith(".json"))
      .sort()
      .map((file) => [basename(file, ".json"), join(directory, file)] as const),
  );
  if (!selected) return files;
  for (const name of selected) if (!files.has(name)) throw new Error(`--scenarios: no scenario named ${name} in ${directory}`);
  return new Map(selected.map((name) => [name, files.get(name)!] as const));
}
