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
import { seenArms } from "../bandit/pairs";
import type { Duel } from "../bandit/policy";
import { createPolicy } from "../bandit/policy";
import { deriveSeed, mulberry32 } from "../bandit/random";
import type { SimulatedPolicy } from "../bandit/simulate";
import { REGRET_CHECKPOINTS, SIMULATED_POLICIES, simulateTrial } from "../bandit/simulate";
import { commaList, parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { loadScenario, scenarioFiles } from "./lib-sim/scenario-file";

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

const perScenario = new Map<string, Map<string, Reading[][]>>(); // source -> scenario -> trial -> checkpoint
for (const [name, path] of scenarioFiles(args.scenarios)) {
  const scenario = loadScenario(path);
  const utility = scenario.utility;
  const max = Math.max(...utility);
  const mean = utility.reduce((sum, value) => sum + value, 0) / utility.length;
  const regretOf = (arm: number) => (max - utility[arm]!) / (max - mean);
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
            const duels: readonly Duel[] = history.slice();
            const fresh = (kind: "duet" | "linear") => {
              const reader = createPolicy(kind, { features: scenario.features, random: mulberry32(deriveSeed(args.seed, 7, trial, votes)) });
              reader.fit(duels);
              return regretOf(reader.recommend());
            };
            const duelCounts = new Uint32Array(utility.length);
            for (const duel of duels) {
              duelCounts[duel.a]! += 1;
              duelCounts[duel.b]! += 1;
            }
            const scores = fitBradleyTerry(utility.length, duels);
            const seen = seenArms(duels, utility.length);
            readings.push({
              regret: {
                own: regret,
                duet: fresh("duet"),
                linear: fresh("linear"),
                bt: regretOf(btLeader(scores, duelCounts, 1)),
                bt2: regretOf(btLeader(scores, duelCounts, 2)),
              },
              ownDuels: duelCounts[policy.recommend()]!,
              armsDueled: seen.reduce((sum, value) => sum + (value ? 1 : 0), 0),
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
        `${recommender} ${REGRET_CHECKPOINTS.map((_, k) => (trials.reduce((sum, readings) => sum + readings[k]!.regret[recommender], 0) / trials.length).toFixed(3)).join("/")}`,
    );
    console.log(`${name} ${source}: ${line.join("  ")}`);
  }
}

const meanAndError = (values: number[]) => {
  const m = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((sum, value) => sum + (value - m) ** 2, 0) / (values.length - 1) : NaN;
  return { mean: m, error: Math.sqrt(variance / values.length) };
};
/** Mean over scenarios of the per-scenario trial means, ± the standard error over scenarios. */
const overScenarios = (cells: Map<string, Reading[][]>, pick: (reading: Reading) => number, checkpoint: number) =>
  meanAndError([...cells.values()].map((trials) => trials.reduce((sum, readings) => sum + pick(readings[checkpoint]!), 0) / trials.length));

const budgets = REGRET_CHECKPOINTS.join(" / ");
const lines = [
  `# Reading the same votes: recommenders on the histories of \`${args.sources.join("`, `")}\`, annotator scale ${args.scale}`,
  "",
  `Generated by \`npm run bench:recommenders -- --scale ${args.scale} --trials ${args.trials} --sources ${args.sources.join(",")}\` (seed ${args.seed}, ${VOTES} votes; the histories are bench:engine's trials, same seeds). Regret at ${budgets} votes, mean over the ${[...(perScenario.values().next().value ?? new Map()).keys()].length} scenarios ± the standard error over scenarios.`,
  "",
  "- `own`: the source policy's recommendation; `duet` and `linear`: fresh default policies fitted on the same history; `bt`: the Bradley–Terry leader of the raw votes among arms in a duel; `bt2`: among arms with at least two duels.",
  "- Read down a column to compare histories (the data), across a row to compare readings of the same data.",
  "",
  `| source | ${RECOMMENDERS.join(" | ")} | duels of own's pick | arms in a duel |`,
  `|---|${RECOMMENDERS.map(() => "---").join("|")}|---|---|`,
];
for (const [source, cells] of perScenario) {
  const cell = (pick: (reading: Reading) => number, digits: number) =>
    REGRET_CHECKPOINTS.map((_, k) => {
      const { mean: m, error } = overScenarios(cells, pick, k);
      return digits === 3 ? `${m.toFixed(3)} ± ${error.toFixed(3)}` : m.toFixed(digits);
    }).join(" / ");
  lines.push(
    `| ${source} | ${RECOMMENDERS.map((recommender) => cell((reading) => reading.regret[recommender], 3)).join(" | ")} | ${cell((reading) => reading.ownDuels, 1)} | ${cell((reading) => reading.armsDueled, 0)} |`,
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
      `| ${name} | ${source} | ${RECOMMENDERS.map((recommender) => (trials.reduce((sum, readings) => sum + readings[last]!.regret[recommender], 0) / trials.length).toFixed(3)).join(" | ")} |`,
    );
  }
}
lines.push("");
const markdown = lines.join("\n");
console.log(markdown);
if (args.out) writeFileSync(args.out, markdown);
