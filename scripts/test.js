// `npm test`: typecheck, lint, format check, migrations-match-schema check, build, then every vitest project (unit and
// browser). Prints one closing line "N passed, N failed" counting each check and each test.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const steps = [
  { name: "typecheck", command: ["npx", "tsc", "--noEmit"] },
  { name: "lint", command: ["npx", "eslint", "."] },
  { name: "format", command: ["npx", "prettier", "--check", "."] },
  { name: "migrations match db/schema.ts", command: ["npx", "tsx", "scripts/check-migrations.ts"] },
  { name: "remix build", command: ["npx", "remix", "build"] },
];

let passed = 0;
let failed = 0;
for (const step of steps) {
  console.log(`\n▶ ${step.name}`);
  const result = spawnSync(step.command[0], step.command.slice(1), { stdio: "inherit" });
  if (result.status === 0) passed++;
  else {
    failed++;
    console.log(`✗ ${step.name} failed (exit ${result.status})`);
  }
}

// Unit and browser tests run one after the other: browser tests time real servers and pages, and on
// two cores they must not compete with the CPU-heavy engine tests.
for (const project of ["unit", "e2e"]) {
  const reportFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "promptduel-vitest-")), "report.json");
  console.log(`\n▶ vitest --project ${project}`);
  const vitest = spawnSync(
    "npx",
    ["vitest", "run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${reportFile}`, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  const failedBefore = failed;
  try {
    const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    // A file that fails to load has no failed test but must still fail the run.
    failed += report.testResults.filter((suite) => suite.status === "failed" && suite.assertionResults.length === 0).length;
  } catch {
    console.log(`✗ vitest --project ${project} wrote no report`);
  }
  // Vitest also fails on unhandled errors between tests: a non-zero exit always counts.
  if (vitest.status !== 0 && failed === failedBefore) failed++;
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
