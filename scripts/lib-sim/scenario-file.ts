import { readFileSync } from "node:fs";
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
