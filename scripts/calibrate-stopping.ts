// Calibrates the stopping rule (bandit/stopping-rule.ts) in the simulator. For every shared scenario
// and annotator scale, what a study serves (policy `app`: coverage + the default policy + batches + the
// assignment rules, bandit/served.ts) runs under the bench protocol;
// every few votes the rule's evidence is recorded with the regret of the recommendation at that moment.
// Thresholds are then evaluated offline on those trajectories: for each (indifference, confidence),
// the first checkpoint where the rule fires, and whether the recommendation then had normalised
// regret <= epsilon ("right"). Prints a grid and a per-scenario table for the defaults.
//
//   npm run calibrate:stopping -- [--trials 4] [--arms 20] [--votes 250] [--json out.json]
//
// --arms N draws a seeded random subset of N arms per trial (studies in the app have tens of prompts,
// not hundreds); --arms 0 uses whole scenarios.
import fs from "node:fs";
import { quantile } from "simple-statistics";
import { z } from "zod";
import { deriveSeed, mulberry32 } from "../bandit/random";
import { randomSubset } from "../bandit/scenario";
import { simulateTrial } from "../bandit/simulate";
import { decide, STOPPING_RULE_DEFAULTS, stoppingEvidence } from "../bandit/stopping-rule";
import { commaList, parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { loadScenario, scenarioFiles } from "./lib-sim/scenario-file";

const USAGE =
  "npm run calibrate:stopping -- [--trials 4] [--arms 20] [--votes 250] [--epsilon 0.05] [--every 5] [--scales 10,3,1] [--scenarios a,b] [--json out.json]";

const OptionsSchema = z.strictObject({
  trials: positiveInteger("--trials").default(4),
  arms: z.coerce.number().int().min(0).default(20),
  votes: positiveInteger("--votes").default(250),
  epsilon: positiveNumber("--epsilon").default(0.05),
  every: positiveInteger("--every").default(5),
  scales: commaList.default(["10", "3", "1"]),
  scenarios: commaList.optional(),
  json: z.string().optional(),
});

const INDIFFERENCE_GRID = [0, 0.1, 0.25];
const CONFIDENCE_GRID = [2, 2.5, 3, 3.5, 4];

interface Checkpoint {
  votes: number;
  regret: number;
  unseenArms: number;
  agrees: boolean;
  /** margin for each entry of INDIFFERENCE_GRID */
  margins: number[];
}

interface Trajectory {
  scenario: string;
  scale: number;
  trial: number;
  checkpoints: Checkpoint[];
}

function firstFiring(trajectory: Trajectory, indifferenceIndex: number, confidence: number, minVotes: number) {
  return trajectory.checkpoints.find((c) => c.votes >= minVotes && c.unseenArms === 0 && c.agrees && c.margins[indifferenceIndex]! >= confidence);
}

function median(values: number[]): number | null {
  return values.length > 0 ? quantile(values, 0.5) : null;
}

function main() {
  const options = validateFlags(OptionsSchema, parseFlags(process.argv.slice(2)), USAGE);
  const trajectories: Trajectory[] = [];
  for (const file of scenarioFiles(options.scenarios).values()) {
    const full = loadScenario(file);
    for (const scaleText of options.scales) {
      const scale = Number(scaleText);
      for (let trial = 0; trial < options.trials; trial++) {
        const scenario = options.arms === 0 ? full : randomSubset(full, options.arms, mulberry32(deriveSeed(trial, 17)));
        const checkpoints: Checkpoint[] = [];
        simulateTrial(
          scenario,
          {
            policy: "app",
            trials: 1,
            votes: options.votes,
            scale,
            seed: 1,
            onVote: ({ votes, regret, policy, history }) => {
              if (votes % options.every !== 0) return;
              const evidence = stoppingEvidence(scenario.utility.length, history, STOPPING_RULE_DEFAULTS.priorGames);
              const recommended = policy.recommend();
              const decisions = INDIFFERENCE_GRID.map((indifference) =>
                decide(evidence, recommended, { ...STOPPING_RULE_DEFAULTS, indifference, minVotes: 0 }),
              );
              checkpoints.push({
                votes,
                regret,
                unseenArms: evidence.unseenArms,
                agrees: decisions[0]!.leader === recommended,
                margins: decisions.map((d) => d.margin),
              });
            },
          },
          trial,
        );
        trajectories.push({ scenario: full.name, scale, trial, checkpoints });
      }
      process.stderr.write(`  ${full.name} scale ${scale} done\n`);
    }
  }

  const grid = INDIFFERENCE_GRID.flatMap((indifference, indifferenceIndex) =>
    CONFIDENCE_GRID.map((confidence) => {
      const firings = trajectories
        .map((t) => firstFiring(t, indifferenceIndex, confidence, STOPPING_RULE_DEFAULTS.minVotes))
        .filter((c): c is Checkpoint => c !== undefined);
      const right = firings.filter((c) => c.regret <= options.epsilon).length;
      return {
        indifference,
        confidence,
        trials: trajectories.length,
        fired: firings.length,
        right,
        rightShare: firings.length > 0 ? right / firings.length : null,
        medianVotesAtFiring: median(firings.map((c) => c.votes)),
      };
    }),
  );
  console.log(`policy app, ${options.arms || "all"} arms, ${options.votes} votes, epsilon ${options.epsilon}`);
  console.log(`indifference  confidence  fired          right when fired   median votes at firing`);
  for (const row of grid) {
    console.log(
      `${row.indifference.toFixed(2).padStart(12)}  ${row.confidence.toFixed(1).padStart(10)}  ${`${row.fired}/${row.trials}`.padStart(8)}  ` +
        `${`${row.right}/${row.fired}`.padStart(9)} ${row.rightShare === null ? "   –  " : `${(100 * row.rightShare).toFixed(1).padStart(5)}%`}   ${row.medianVotesAtFiring ?? "–"}`,
    );
  }
  const defaultIndex = INDIFFERENCE_GRID.indexOf(STOPPING_RULE_DEFAULTS.indifference);
  if (defaultIndex < 0) throw new Error("calibrate-stopping: the default indifference must be one of INDIFFERENCE_GRID");
  console.log(
    `\nper scenario with the defaults (indifference ${STOPPING_RULE_DEFAULTS.indifference}, confidence ${STOPPING_RULE_DEFAULTS.confidence}):`,
  );
  const keys = [...new Set(trajectories.map((t) => `${t.scenario}|${t.scale}`))];
  for (const key of keys) {
    const group = trajectories.filter((t) => `${t.scenario}|${t.scale}` === key);
    const firings = group
      .map((t) => firstFiring(t, defaultIndex, STOPPING_RULE_DEFAULTS.confidence, STOPPING_RULE_DEFAULTS.minVotes))
      .filter((c): c is Checkpoint => c !== undefined);
    const right = firings.filter((c) => c.regret <= options.epsilon).length;
    const [scenario, scale] = key.split("|");
    console.log(
      `${scenario!.padEnd(40)} ${scale!.padStart(4)}  fired ${firings.length}/${group.length}  right ${right}/${firings.length}  median votes ${median(firings.map((c) => c.votes)) ?? "–"}`,
    );
  }
  if (options.json) fs.writeFileSync(options.json, JSON.stringify({ options, grid, trajectories }, null, 1));
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
