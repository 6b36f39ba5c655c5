// Calibrates the stopping rule (bandit/stopping-rule.ts) in the simulator: for every shared scenario
// and annotator scale, runs the default policy under the bench protocol and records the first vote at
// which the rule fires, and the normalised regret of the recommendation at that moment. The rule is
// right when that regret is <= epsilon. Prints a table and the overall share of right firings.
//
//   npm run calibrate:stopping -- [--trials 6] [--arms 20] [--votes 300] [--epsilon 0.05] [--confidence 2.5]
//
// --arms N draws a seeded random subset of N arms per trial (studies in the app have tens of prompts,
// not hundreds); --arms 0 uses whole scenarios.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { COVERAGE_DEFAULTS, withCoverage } from "../bandit/coverage";
import { deriveSeed, mulberry32 } from "../bandit/random";
import type { Scenario } from "../bandit/scenario";
import { simulateTrial } from "../bandit/simulate";
import { evaluateStoppingRule, STOPPING_RULE_DEFAULTS } from "../bandit/stopping-rule";
import { commaList, parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { loadScenario } from "./lib-sim/scenario-file";

const USAGE =
  "npm run calibrate:stopping -- [--trials 6] [--arms 20] [--votes 300] [--epsilon 0.05] [--confidence 2.5] [--indifference 0.25] [--coverage 1] [--every 5] [--scales 10,3,1] [--scenarios a,b] [--json out.json]";

const OptionsSchema = z.strictObject({
  trials: positiveInteger("--trials").default(6),
  arms: z.coerce.number().int().min(0).default(20),
  votes: positiveInteger("--votes").default(300),
  epsilon: positiveNumber("--epsilon").default(0.05),
  confidence: positiveNumber("--confidence").default(STOPPING_RULE_DEFAULTS.confidence),
  indifference: z.coerce.number().min(0).default(STOPPING_RULE_DEFAULTS.indifference),
  coverage: z.coerce.number().int().min(0).default(COVERAGE_DEFAULTS.minDuelsPerArm),
  every: positiveInteger("--every").default(5),
  scales: commaList.default(["10", "3", "1"]),
  scenarios: commaList.optional(),
  json: z.string().optional(),
});

function subsetScenario(scenario: Scenario, arms: number, seed: number): Scenario {
  if (arms === 0 || arms >= scenario.utility.length) return scenario;
  const random = mulberry32(seed);
  const indices = Array.from(scenario.utility, (_, i) => i);
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  const chosen = indices.slice(0, arms);
  return {
    ...scenario,
    name: `${scenario.name}[${arms}]`,
    utility: Float64Array.from(chosen, (i) => scenario.utility[i]!),
    features: chosen.map((i) => scenario.features[i]!),
  };
}

interface Firing {
  votes: number;
  regret: number;
}

function main() {
  const options = validateFlags(OptionsSchema, parseFlags(process.argv.slice(2)), USAGE);
  const directory = path.resolve("../shared/bench/scenarios");
  const files = fs
    .readdirSync(directory)
    .filter((file) => file.endsWith(".json"))
    .filter((file) => !options.scenarios || options.scenarios.includes(file.replace(/\.json$/, "")))
    .sort();
  const ruleOptions = { ...STOPPING_RULE_DEFAULTS, confidence: options.confidence, indifference: options.indifference };
  const rows: { scenario: string; scale: number; trials: number; fired: number; right: number; votesAtFiring: number[] }[] = [];
  console.log(`scenario                                   scale  fired  right  median votes at firing`);
  for (const file of files) {
    const full = loadScenario(path.join(directory, file));
    for (const scaleText of options.scales) {
      const scale = Number(scaleText);
      const firings: (Firing | null)[] = [];
      for (let trial = 0; trial < options.trials; trial++) {
        const scenario = subsetScenario(full, options.arms, deriveSeed(trial, 17));
        let firing: Firing | null = null;
        simulateTrial(
          scenario,
          {
            policy: "default",
            decorate: (policy) => withCoverage(policy, { minDuelsPerArm: options.coverage }),
            trials: options.trials,
            votes: options.votes,
            scale,
            seed: 1,
            onVote: ({ votes, regret, policy, history }) => {
              if (firing || votes % options.every !== 0) return;
              const decision = evaluateStoppingRule(scenario.utility.length, history, policy.recommend(), ruleOptions);
              if (decision.converged) firing = { votes, regret };
            },
          },
          trial,
        );
        firings.push(firing);
      }
      const fired = firings.filter((f): f is Firing => f !== null);
      const right = fired.filter((f) => f.regret <= options.epsilon).length;
      const votesAtFiring = fired.map((f) => f.votes).sort((a, b) => a - b);
      rows.push({ scenario: full.name, scale, trials: options.trials, fired: fired.length, right, votesAtFiring });
      const median = votesAtFiring.length > 0 ? votesAtFiring[Math.floor(votesAtFiring.length / 2)] : "–";
      console.log(`${full.name.padEnd(42)} ${String(scale).padStart(5)} ${`${fired.length}/${options.trials}`.padStart(6)} ${`${right}/${fired.length}`.padStart(6)}  ${median}`);
    }
  }
  const totalFired = rows.reduce((sum, row) => sum + row.fired, 0);
  const totalRight = rows.reduce((sum, row) => sum + row.right, 0);
  const totalTrials = rows.reduce((sum, row) => sum + row.trials, 0);
  const allVotes = rows.flatMap((row) => row.votesAtFiring).sort((a, b) => a - b);
  const summary = {
    epsilon: options.epsilon,
    confidence: options.confidence,
    indifference: options.indifference,
    coverage: options.coverage,
    arms: options.arms,
    maxVotes: options.votes,
    trials: totalTrials,
    fired: totalFired,
    rightWhenFired: totalFired > 0 ? totalRight / totalFired : null,
    medianVotesAtFiring: allVotes.length > 0 ? allVotes[Math.floor(allVotes.length / 2)] : null,
  };
  console.log(
    `\nfired in ${totalFired}/${totalTrials} trials; right (regret <= ${options.epsilon}) in ${totalRight}/${totalFired} firings` +
      (summary.rightWhenFired !== null ? ` = ${(100 * summary.rightWhenFired).toFixed(1)}%` : "") +
      `; median votes at firing ${summary.medianVotesAtFiring ?? "–"}`,
  );
  if (options.json) fs.writeFileSync(options.json, JSON.stringify({ summary, rows }, null, 2));
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
