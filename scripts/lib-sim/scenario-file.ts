import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
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

/** The shared benchmark folder beside the repository (../shared/bench), wherever the command runs from. */
export const SHARED_BENCH_DIR = fileURLToPath(new URL("../../../shared/bench", import.meta.url));

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
