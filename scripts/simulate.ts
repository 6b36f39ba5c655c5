/**
 * Simulator CLI (issue 3, shared/bench/README.md protocol):
 *   npm run simulate -- --scenario <file.json> --policy <name> [--trials 10] [--votes 150] [--scale 10] [--seed 1]
 *                       [--annotator bernoulli|deterministic] [--annotators 1] [--json <out.json>]
 * `--policy app` is what a study serves (coverage + the default policy + batches + the assignment rules);
 * `--policy default` is the bare default policy. File reading lives here; the loop is bandit/simulate.ts.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import type { SimulatedPolicy } from "../bandit/simulate";
import { simulate, SIMULATED_POLICIES } from "../bandit/simulate";
import { parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { loadScenario } from "./lib-sim/scenario-file";
import { runReplayCli } from "./lib-sim/replay";

const USAGE =
  "npm run simulate -- --scenario <file.json> --policy <name> [--trials 10] [--votes 150] [--scale 10] [--seed 1] [--annotator bernoulli|deterministic] [--annotators 1] [--json <out.json>]";

const policyOption = z
  .string({ error: "is required" })
  .refine((name): name is SimulatedPolicy | "default" => name === "default" || (SIMULATED_POLICIES as readonly string[]).includes(name), {
    message: `must be one of ${SIMULATED_POLICIES.join(", ")}, default`,
  });

export const simulateArgsSchema = z.strictObject({
  scenario: z.string({ error: "is required (path to a scenario JSON file)" }),
  policy: policyOption,
  trials: positiveInteger("--trials").default(10),
  votes: positiveInteger("--votes").default(150),
  scale: positiveNumber("--scale").default(10),
  seed: z.coerce.number({ error: "--seed must be a number" }).int("--seed must be an integer").default(1),
  annotator: z.enum(["bernoulli", "deterministic"]).default("bernoulli"),
  annotators: positiveInteger("--annotators").default(1),
  json: z.string({ error: "needs a file path" }).optional(),
});

function format(value: number | null): string {
  return value === null ? "–" : value.toFixed(3);
}

function main(argv: readonly string[]): void {
  if (argv.includes("--replay")) return runReplayCli(argv);
  const args = validateFlags(simulateArgsSchema, parseFlags(argv), USAGE);
  const scenario = loadScenario(args.scenario);
  const summary = simulate(scenario, {
    policy: args.policy,
    trials: args.trials,
    votes: args.votes,
    scale: args.scale,
    seed: args.seed,
    annotator: args.annotator,
    annotators: args.annotators,
  });
  const annotator = args.annotator === "deterministic" ? "deterministic annotator" : `scale ${summary.scale}`;
  console.log(
    `${summary.scenario} · policy ${summary.policy} · ${summary.trials} trials · ${summary.votes} votes · ${annotator} · ${summary.annotators} annotator(s)`,
  );
  console.log("votes   mean regret   std err");
  for (const key of ["25", "50", "100", "150"] as const) {
    if (summary.regretAt[key] === null) continue;
    console.log(`${key.padStart(5)}   ${format(summary.regretAt[key]).padStart(11)}   ${format(summary.regretStdErr[key]).padStart(7)}`);
  }
  console.log(`seconds per vote: median ${summary.secondsPerVote.median.toFixed(4)}, p90 ${summary.secondsPerVote.p90.toFixed(4)}`);
  console.log(`arms in a duel: ${summary.armsDueled.toFixed(1)} (mean), pairs chosen by the policy: ${(100 * summary.chosenShare).toFixed(1)}%`);
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    const { regretStdErr: _stdErr, ...required } = summary;
    writeFileSync(args.json, `${JSON.stringify({ ...required, regretStdErr: summary.regretStdErr }, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
