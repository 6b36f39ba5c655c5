/**
 * Where a policy's regret comes from: the pairs it asks (the data) or how it reads the votes (the recommendation).
 * For every shared scenario, a source policy (`app`, what a study serves, or a baseline) gathers 150 votes exactly as in
 * `bench:engine` (same seeds, warm-up pairs and annotator draws); at 25/50/100/150 votes the same history is read by
 * several recommenders, each scored with the normalised simple regret of shared/bench/README.md:
 *   own     the source policy's own recommendation (what bench:engine scores)
 *   duet    a fresh default `duet` fitted on the history (warm-started in a study; here from its initialisation)
 *   linear  a fresh APOHF `linear` fitted on the history (argmax theta . x over the arms in a duel)
 *   bt      the Bradley–Terry leader of the raw votes (one virtual tie per arm) among the arms in a duel
 *   bt2     the same among the arms with at least two duels
 * It also reports the duels of `own`'s recommended arm and the arms in a duel, to show how concentrated the data are.
 * Fresh recommenders draw their initialisation from deriveSeed(seed, 7, trial, votes).
 *
 *   npm run bench:recommenders -- [--scale 1] [--trials 10] [--sources app,linear] [--scenarios a,b] [--seed 1]
 *                                 [--out bench/results/recommenders-scale1.md]
 * Cost: trials x scenarios x (a simulated trial + 4 x (linear fit of 1000 steps + duet fit)). Prints figures only.
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { fitBradleyTerry } from "../bandit/bradley-terry";
import type { Duel } from "../bandit/policy";
import { createPolicy } from "../bandit/policy";
import { deriveSeed, mulberry32 } from "../bandit/random";
import type { SimulatedPolicy } from "../bandit/simulate";
import { REGRET_CHECKPOINTS, SIMULATED_POLICIES, simulateTrial } from "../bandit/simulate";
import { commaList, parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { meanAndStdErr } from "./lib-sim/paired";
import { loadScenario, regretScorer, scenarioFiles } from "./lib-sim/scenario-file";

const USAGE =
  "npm run bench:recommenders -- [--scale 1] [--trials 10] [--sources app,linear] [--scenarios a,b] [--seed 1] [--out bench/results/recommenders-scale1.md]";
const RECOMMENDERS = ["own", "duet", "linear", "bt", "bt2"] as const;
type Recommender = (typeof RECOMMENDERS)[number];
const VOTES = 150;

const args = validateFlags(
  z.strictObject({
    scale: positiveNumber("--scale").default(1),
    trials: positiveInteger("--trials").default(10),
    sources: commaList.pipe(z.array(z.enum(SIMULATED_POLICIES as [SimulatedPolicy, ...SimulatedPolicy[]]))).default(["app", "linear"]),
    scenarios: commaList.optional(),
    seed: z.coerce.number().int().default(1),
    out: z.string().optional(),
  }),
  parseFlags(process.argv.slice(2)),
  USAGE,
);

interface Reading {
  regret: Record<Recommender, number>;
  ownDuels: number;
  armsDueled: number;
}

/** Bradley–Terry leader among the arms with at least `minDuels` duels (any arm in a duel when none has that many). */
function btLeader(scores: Float64Array, duelCounts: Uint32Array, minDuels: number): number {
  let best = -1;
  let fallback = -1;
  for (let i = 0; i < scores.length; i++) {
    if (duelCounts[i]! === 0) continue;
    if (fallback < 0 || scores[i]! > scores[fallback]!) fallback = i;
    if (duelCounts[i]! >= minDuels && (best < 0 || scores[i]! > scores[best]!)) best = i;
  }
  return best < 0 ? fallback : best;
}

/** Mean over a cell's trials of `pick` at checkpoint index `checkpoint`. */
const trialMean = (trials: Reading[][], pick: (reading: Reading) => number, checkpoint: number) =>
  trials.reduce((sum, readings) => sum + pick(readings[checkpoint]!), 0) / trials.length;

const perScenario = new Map<string, Map<string, Reading[][]>>(); // source -> scenario -> trial -> checkpoint
for (const [name, path] of scenarioFiles(args.scenarios)) {
  const scenario = loadScenario(path);
  const armCount = scenario.utility.length;
  const regretOf = regretScorer(scenario.utility);
  for (const source of args.sources) {
    const trials: Reading[][] = [];
    for (let trial = 0; trial < args.trials; trial++) {
      const readings: Reading[] = [];
      simulateTrial(
        scenario,
        {
          policy: source,
          trials: args.trials,
          votes: VOTES,
          scale: args.scale,
          seed: args.seed,
          onVote: ({ votes, regret, policy, history }) => {
            if (!(REGRET_CHECKPOINTS as readonly number[]).includes(votes)) return;
            // Read synchronously, before the simulator appends the next vote to `history`.
            const duels: readonly Duel[] = history;
            const fresh = (kind: "duet" | "linear") => {
              const reader = createPolicy(kind, { features: scenario.features, random: mulberry32(deriveSeed(args.seed, 7, trial, votes)) });
              reader.fit(duels);
              return regretOf(reader.recommend());
            };
            const duelCounts = new Uint32Array(armCount);
            for (const duel of duels) {
              duelCounts[duel.a]! += 1;
              duelCounts[duel.b]! += 1;
            }
            const scores = fitBradleyTerry(armCount, duels);
            readings.push({
              regret: {
                own: regret,
                duet: fresh("duet"),
                linear: fresh("linear"),
                bt: regretOf(btLeader(scores, duelCounts, 1)),
                bt2: regretOf(btLeader(scores, duelCounts, 2)),
              },
              ownDuels: duelCounts[policy.recommend()]!,
              armsDueled: duelCounts.reduce((sum, count) => sum + (count > 0 ? 1 : 0), 0),
            });
          },
        },
        trial,
      );
      trials.push(readings);
    }
    const bySource = perScenario.get(source) ?? new Map<string, Reading[][]>();
    bySource.set(name, trials);
    perScenario.set(source, bySource);
    const line = RECOMMENDERS.map(
      (recommender) =>
        `${recommender} ${REGRET_CHECKPOINTS.map((_, k) => trialMean(trials, (reading) => reading.regret[recommender], k).toFixed(3)).join("/")}`,
    );
    console.log(`${name} ${source}: ${line.join("  ")}`);
  }
}

/** Mean over scenarios of the per-scenario trial means, and its standard error over scenarios. */
const overScenarios = (cells: Map<string, Reading[][]>, pick: (reading: Reading) => number, checkpoint: number) =>
  meanAndStdErr([...cells.values()].map((trials) => trialMean(trials, pick, checkpoint)));
const scenarioCount = Math.max(0, ...[...perScenario.values()].map((cells) => cells.size));

const budgets = REGRET_CHECKPOINTS.join(" / ");
const lines = [
  `# Reading the same votes: recommenders on the histories of \`${args.sources.join("`, `")}\`, annotator scale ${args.scale}`,
  "",
  `Generated by \`npm run bench:recommenders -- --scale ${args.scale} --trials ${args.trials} --sources ${args.sources.join(",")}\` (seed ${args.seed}, ${VOTES} votes; the histories are bench:engine's trials, same seeds). Regret at ${budgets} votes, mean over the ${scenarioCount} scenarios ± the standard error over scenarios.`,
  "",
  "- `own`: the source policy's recommendation; `duet` and `linear`: fresh default policies fitted on the same history; `bt`: the Bradley–Terry leader of the raw votes among arms in a duel; `bt2`: among arms with at least two duels.",
  "- Read down a column to compare histories (the data), across a row to compare readings of the same data.",
  "",
  `| source | ${RECOMMENDERS.join(" | ")} | duels of own's pick | arms in a duel |`,
  `|---|${RECOMMENDERS.map(() => "---").join("|")}|---|---|`,
];
for (const [source, cells] of perScenario) {
  const curve = (pick: (reading: Reading) => number, format: (mean: number, stdErr: number | null) => string) =>
    REGRET_CHECKPOINTS.map((_, k) => {
      const { mean, stdErr } = overScenarios(cells, pick, k);
      return format(mean, stdErr);
    }).join(" / ");
  const withError = (mean: number, stdErr: number | null) => `${mean.toFixed(3)} ± ${stdErr === null ? "–" : stdErr.toFixed(3)}`;
  lines.push(
    `| ${source} | ${RECOMMENDERS.map((recommender) => curve((reading) => reading.regret[recommender], withError)).join(" | ")} | ${curve(
      (reading) => reading.ownDuels,
      (mean) => mean.toFixed(1),
    )} | ${curve(
      (reading) => reading.armsDueled,
      (mean) => mean.toFixed(0),
    )} |`,
  );
}
lines.push(
  "",
  "Per scenario, 150-vote regret:",
  "",
  `| scenario | source | ${RECOMMENDERS.join(" | ")} |`,
  `|---|---|${RECOMMENDERS.map(() => "---").join("|")}|`,
);
for (const [source, cells] of perScenario) {
  for (const [name, trials] of cells) {
    const last = REGRET_CHECKPOINTS.length - 1;
    lines.push(
      `| ${name} | ${source} | ${RECOMMENDERS.map((recommender) => trialMean(trials, (reading) => reading.regret[recommender], last).toFixed(3)).join(" | ")} |`,
    );
  }
}
lines.push("");
const markdown = lines.join("\n");
console.log(markdown);
if (args.out) writeFileSync(args.out, markdown);
