// Fails when db/schema.ts has changes that no committed migration captures: drizzle-kit generates
// into a scratch copy of migrations/, and any new file there means `npm run db:generate` was forgotten.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

// drizzle-kit only accepts an --out relative to the working directory.
const scratch = path.join(".cache", `migrations-check-${process.pid}`);
fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(path.dirname(scratch), { recursive: true });
fs.cpSync("migrations", scratch, { recursive: true });
const before = new Set(fs.readdirSync(scratch));
const result = spawnSync(
  "npx",
  ["drizzle-kit", "generate", "--dialect", "sqlite", "--schema", "./db/schema.ts", "--out", scratch, "--name", "pending_check"],
  { encoding: "utf8" },
);
const created = fs.readdirSync(scratch).filter((file) => !before.has(file));
fs.rmSync(scratch, { recursive: true, force: true });

if (created.length > 0) {
  console.error(
    `check-migrations: db/schema.ts has changes without a migration (would create ${created.join(", ")}). Run npm run db:generate and commit migrations/.`,
  );
  process.exit(1);
}
// drizzle-kit can exit 0 after an error; only its explicit "nothing to do" counts as a pass.
if (result.status !== 0 || !/No schema changes/i.test(result.stdout + result.stderr)) {
  console.error(result.stdout, result.stderr);
  console.error("check-migrations: drizzle-kit generate did not confirm that the schema is unchanged");
  process.exit(1);
}
console.log("check-migrations: migrations/ matches db/schema.ts");
