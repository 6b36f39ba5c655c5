import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project root (the folder with package.json), from app/**\/*.ts (tests, tsx) and from the bundled
 * build/index.js alike: worker threads load their TypeScript entry files from there.
 */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("repoRoot: cannot find the project root (package.json)");
    dir = parent;
  }
  return dir;
}
