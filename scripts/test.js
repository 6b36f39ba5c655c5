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
// Named again at the very end: CI shows only the tail of the output, and a failure must be readable there.
const failures = [];
for (const step of steps) {
  console.log(`\n▶ ${step.name}`);
  const result = spawnSync(step.command[0], step.command.slice(1), { stdio: "inherit" });
  if (result.status === 0) passed++;
  else {
    failed++;
    failures.push(`${step.name} (exit ${result.status})`);
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
    for (const suite of report.testResults) {
      const file = path.relative(process.cwd(), suite.name);
      if (suite.status === "failed" && suite.assertionResults.length === 0) {
        failed++;
        failures.push(`${file}: ${firstLine(suite.message) || "failed to load"}`);
      }
      for (const test of suite.assertionResults) {
        if (test.status === "failed") failures.push(`${file} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
      }
    }
  } catch {
    failures.push(`vitest --project ${project} wrote no report`);
    console.log(`✗ vitest --project ${project} wrote no report`);
  }
  // Vitest also fails on unhandled errors between tests: a non-zero exit always counts.
  if (vitest.status !== 0 && failed === failedBefore) {
    failed++;
    failures.push(`vitest --project ${project} exited ${vitest.status} with no failed test (an unhandled error?)`);
  }
}

function firstLine(text) {
  return (
    String(text ?? "")
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim()
      .slice(0, 300) ?? ""
  );
}

for (const failure of failures) console.log(`✗ ${failure}`);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
