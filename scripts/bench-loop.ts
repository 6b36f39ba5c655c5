/**
 * The optimisation loop in the simulator (issue 17 §5; docs/decisions/0031), written to bench/results/optimisation-loop.md:
 *   npm run bench:loop -- --part growth [--trials 10] [--scenarios a,b] [--scale 10] [--noise 0.5] [--parents 5]
 *   npm run bench:loop -- --part judge [--judge-trials 4] [--judge-scenarios a,b] [--pool 50] [--judge-votes 100]
 *                         [--agreements 0.6,0.7,0.8,0.9] [--position-bias 0.2] [--shortlist 10]
 *   npm run bench:loop -- --part report        (re-renders the Markdown from the saved JSON of both parts)
 * Each part saves its per-trial figures to bench/results/optimisation-loop-<part>.json and re-renders the Markdown
 * from whichever parts are saved, so the two parts can run at different times. Run it under `nice -n 19`.
 * Scenarios: the real ones (files with `texts`) by default. The loop lives in bandit/optimisation-loop.ts.
 */
import { execSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import { GROWTH_DEFAULTS, simulateGrowingPoolTrial, simulateScreeningTrial, votesToReach } from "../bandit/optimisation-loop";
import { deriveSeed, mulberry32 } from "../bandit/random";
import { randomSubset } from "../bandit/scenario";
import { commaList, parseFlags, positiveInteger, positiveNumber, validateFlags } from "./lib-sim/args";
import { meanAndStdErr, pairedDifference } from "./lib-sim/paired";
import { loadScenario, scenarioFiles } from "./lib-sim/scenario-file";

const USAGE = "npm run bench:loop -- --part growth|judge|report [options, see scripts/bench-loop.ts]";
const RESULTS = "bench/results";
const REPORT = `${RESULTS}/optimisation-loop.md`;
const REACH_THRESHOLD = 0.05;

const fraction = z.coerce.number().min(0).max(1);
const argsSchema = z.strictObject({
  part: z.enum(["growth", "judge", "report"]),
  trials: positiveInteger("--trials").default(10),
  scenarios: commaList.optional(),
  scale: positiveNumber("--scale").default(10),
  seed: z.coerce.number().int().default(1),
  votes: positiveInteger("--votes").default(150),
  initial: positiveInteger("--initial").default(10),
  noise: z.coerce.number().min(0).default(GROWTH_DEFAULTS.noise),
  parents: positiveInteger("--parents").default(GROWTH_DEFAULTS.parents),
  "judge-trials": positiveInteger("--judge-trials").default(4),
  "judge-scenarios": commaList.optional(),
  pool: positiveInteger("--pool").default(50),
  "judge-votes": positiveInteger("--judge-votes").default(100),
  agreements: z
    .string()
    .default("0.6,0.7,0.8,0.9")
    .transform((value) => value.split(",").map((part) => Number(part.trim())))
    .pipe(z.array(z.number({ error: "--agreements must be numbers" }).min(0).max(1))),
  "position-bias": fraction.default(0.2),
  shortlist: positiveInteger("--shortlist").default(10),
  /** A growth run with this label is saved beside the main one (optimisation-loop-growth-<label>.json) as a variant. */
  label: z
    .string()
    .regex(/^[a-z0-9-]+$/, "--label must be lower-case letters, digits and dashes")
    .optional(),
});
type Args = z.infer<typeof argsSchema>;

/** The real scenarios (files that carry prompt texts), or the named ones. */
function scenarios(selected: readonly string[] | undefined) {
  const files = scenarioFiles(selected);
  return [...files].filter(
    ([, path]) => selected !== undefined || Array.isArray((JSON.parse(readFileSync(path, "utf8")) as { texts?: unknown }).texts),
  );
}

/** The commit the code was loaded from (read at start: a run outlives commits made while it runs). */
const COMMIT = (() => {
  try {
    return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
})();

interface GrowthRow {
  scenario: string;
  arms: number;
  growth: number[];
  fixed: number[];
  initialBest: number[];
  visibleBest: number[];
  growthAt50: number[];
  growthAt100: number[];
  fixedAt50: number[];
  revealed: number;
}

interface JudgeConfig {
  agreement: number;
  counted: number[][];
  shortlist: number[][];
  shortlistBest: number[];
  judgeFinal: number[];
  tieShare: number[];
  agreementSeen: number[];
}
interface JudgeRow {
  scenario: string;
  humansOnly: number[][];
  configs: JudgeConfig[];
}

interface Saved<Row> {
  commit: string;
  command: string;
  args: Partial<Args>;
  seconds: number;
  rows: Row[];
}

function save<Row>(part: string, args: Args, rows: Row[], started: number): void {
  mkdirSync(RESULTS, { recursive: true });
  const saved: Saved<Row> = {
    commit: COMMIT,
    command: `npm run bench:loop -- ${process.argv.slice(2).join(" ")}`,
    args,
    seconds: (performance.now() - started) / 1000,
    rows,
  };
  writeFileSync(`${RESULTS}/optimisation-loop-${part}.json`, `${JSON.stringify(saved)}\n`);
}

function load<Row>(part: string): Saved<Row> | null {
  const path = `${RESULTS}/optimisation-loop-${part}.json`;
  return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Saved<Row>) : null;
}

function runGrowth(args: Args): void {
  const started = performance.now();
  const rows: GrowthRow[] = [];
  const growth = { ...GROWTH_DEFAULTS, noise: args.noise, parents: args.parents };
  for (const [name, path] of scenarios(args.scenarios)) {
    const scenario = loadScenario(path);
    const row: GrowthRow = {
      scenario: name,
      arms: scenario.utility.length,
      growth: [],
      fixed: [],
      initialBest: [],
      visibleBest: [],
      growthAt50: [],
      growthAt100: [],
      fixedAt50: [],
      revealed: 0,
    };
    for (let trial = 0; trial < args.trials; trial++) {
      const base = { initialArms: args.initial, votes: args.votes, scale: args.scale, seed: args.seed };
      const grown = simulateGrowingPoolTrial(scenario, { ...base, growth }, trial);
      const fixed = simulateGrowingPoolTrial(scenario, { ...base, growth: null }, trial);
      row.growth.push(grown.regret[args.votes - 1]!);
      row.fixed.push(fixed.regret[args.votes - 1]!);
      row.initialBest.push(grown.initialBestRegret);
      row.visibleBest.push(grown.visibleBestRegret);
      row.growthAt50.push(grown.regret[Math.min(50, args.votes) - 1]!);
      row.growthAt100.push(grown.regret[Math.min(100, args.votes) - 1]!);
      row.fixedAt50.push(fixed.regret[Math.min(50, args.votes) - 1]!);
      row.revealed += grown.rounds.reduce((sum, round) => sum + round.children.length, 0) / args.trials;
      process.stderr.write(
        `${name} trial ${trial}: growth ${row.growth.at(-1)!.toFixed(3)} fixed ${row.fixed.at(-1)!.toFixed(3)} initial best ${grown.initialBestRegret.toFixed(3)}\n`,
      );
    }
    rows.push(row);
    save(args.label ? `growth-${args.label}` : "growth", args, rows, started);
  }
}

function runJudge(args: Args): void {
  const started = performance.now();
  const rows: JudgeRow[] = [];
  for (const [name, path] of scenarios(args["judge-scenarios"] ?? args.scenarios)) {
    const full = loadScenario(path);
    const row: JudgeRow = {
      scenario: name,
      humansOnly: [],
      configs: args.agreements.map((agreement) => ({
        agreement,
        counted: [],
        shortlist: [],
        shortlistBest: [],
        judgeFinal: [],
        tieShare: [],
        agreementSeen: [],
      })),
    };
    for (let trial = 0; trial < args["judge-trials"]; trial++) {
      // The study's pool: a seeded random subset, the same for every configuration of the trial.
      const pool = randomSubset(full, args.pool, mulberry32(deriveSeed(args.seed, trial, 16)));
      const base = {
        positionBias: args["position-bias"],
        shortlistSize: Math.min(args.shortlist, pool.utility.length),
        humanVotes: args.votes,
        scale: args.scale,
        seed: args.seed,
      };
      row.humansOnly.push(Array.from(simulateScreeningTrial(pool, { ...base, judgeVotes: 0, agreement: 1 }, trial).countedRegret));
      for (const config of row.configs) {
        const result = simulateScreeningTrial(pool, { ...base, judgeVotes: args["judge-votes"], agreement: config.agreement }, trial);
        config.counted.push(Array.from(result.countedRegret));
        config.shortlist.push(Array.from(result.shortlistRegret!));
        config.shortlistBest.push(result.shortlistBestRegret!);
        config.judgeFinal.push(result.judgeRegret[result.judgeRegret.length - 1]!);
        config.tieShare.push(result.judgeTieShare);
        if (result.judgeAgreement !== null) config.agreementSeen.push(result.judgeAgreement);
      }
      process.stderr.write(`${name} judge trial ${trial} done (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
    }
    rows.push(row);
    save("judge", args, rows, started);
  }
}

const fmt = (value: number | null | undefined, digits = 3) =>
  value === null || value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits);
const meanSe = (values: readonly number[]) => {
  const { mean, stdErr } = meanAndStdErr(values);
  return `${fmt(mean)} ± ${fmt(stdErr)}`;
};
const average = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function growthSection(saved: Saved<GrowthRow>, title: string): string[] {
  const a = saved.args;
  const lines = [
    title,
    "",
    `Generated by \`${saved.command}\` on commit ${saved.commit} (${saved.seconds.toFixed(0)} s under \`nice -n 19\` on the shared 2-core machine).`,
    "",
    `Protocol: each trial draws ${a.initial} prompts of the scenario uniformly at random (the study's initial pool). The served engine`,
    "(`app`: coverage + duet + batches + the assignment rules, bandit/served.ts) serves one simulated annotator of the bench",
    `protocol at scale ${a.scale} (prefers a over b with probability σ(s_a − s_b)); 5 random warm-up pairs, ${a.votes} votes. Growth: after every`,
    `${GROWTH_DEFAULTS.everyDecisive} decisive votes (not after the last), the study's prompts are ranked as its leaderboard ranks them`,
    `(the engine's lower confidence bound, then utility), and ${GROWTH_DEFAULTS.perRound} children are revealed, one per leader of the top ${a.parents} in turn:`,
    `each the hidden prompt nearest to the leader's features plus Gaussian noise of norm ≈ ${a.noise} (q = x + ${a.noise}·g, g ~ N(0, I/d);`,
    "bandit/neighbour-reveal.ts), a stand-in for an LLM mutation. The children join the running engine (ServedEngine.addArms), as",
    "in the app. Fixed pool = the same engine on the same initial prompts without growth. Common random numbers: the initial pool,",
    "the warm-up pairs, the engine's seed and the annotator's answer to a given question in a given round are the same in both",
    "configurations of a trial.",
    "",
    "Figures: normalised regret r = (max u − u)/(max u − mean u) against the whole scenario's best, of the prompt the engine",
    `recommends after ${a.votes} votes (mean ± standard error over ${a.trials} trials). "best initial" is an oracle pick of the best of the`,
    'initial prompts (what a perfect selection among them would give); "best visible" the same among every prompt visible at',
    "the end (what the growth revealed at best).",
    "",
    `| scenario | arms | growth r@${a.votes} | fixed pool r@${a.votes} | best initial r | best visible r | growth − best initial (z) | growth r@50 | growth r@100 | fixed r@50 |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  let met = true;
  for (const row of saved.rows) {
    const difference = pairedDifference(row.growth, row.initialBest);
    if (!(average(row.growth) < average(row.initialBest))) met = false;
    lines.push(
      `| ${row.scenario} | ${row.arms} | ${meanSe(row.growth)} | ${meanSe(row.fixed)} | ${meanSe(row.initialBest)} | ${meanSe(row.visibleBest)} | ${fmt(difference.mean)} (${fmt(difference.z, 1)}) | ${meanSe(row.growthAt50)} | ${meanSe(row.growthAt100)} | ${meanSe(row.fixedAt50)} |`,
    );
  }
  const growthMean = average(saved.rows.map((row) => average(row.growth)));
  const fixedMean = average(saved.rows.map((row) => average(row.fixed)));
  const initialMean = average(saved.rows.map((row) => average(row.initialBest)));
  const ratio = growthMean / initialMean;
  const better = saved.rows.filter((row) => average(row.growth) < average(row.initialBest)).length;
  lines.push(
    `| **mean over scenarios** | | **${fmt(growthMean)}** | ${fmt(fixedMean)} | **${fmt(initialMean)}** | | | | | |`,
    "",
    `Target (issue 17 §5): growth's mean final regret below the best initial prompt's on every real scenario at scale 10 — ` +
      `${better}/${saved.rows.length} scenarios (${met ? "met" : "not met"}); and at least halved on average — growth / best initial = ` +
      `${fmt(growthMean)} / ${fmt(initialMean)} = ${fmt(ratio, 2)} (${ratio <= 0.5 ? "met" : "not met"}: ${ratio <= 0.5 ? `${fmt((1 - ratio) * 100, 0)}% lower` : `needs ≤ 0.50`}).`,
    "",
  );
  return lines;
}

function judgeSection(saved: Saved<JudgeRow>): string[] {
  const a = saved.args;
  const votes = a.votes ?? 150;
  const judgeVotes = a["judge-votes"] ?? 100;
  const header = `| scenario | judge | p | r@25 | r@50 | r@${votes} | reached | human votes | + judge | ties | decisive agreement | best shortlisted r |`;
  const divider = "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";
  const lines = [
    "## 2. Judge pre-screening",
    "",
    `Generated by \`${saved.command}\` on commit ${saved.commit} (${saved.seconds.toFixed(0)} s under \`nice -n 19\`).`,
    "",
    `Protocol: each trial's study pool is a seeded random subset of ${a.pool} prompts of the scenario (regret is against the pool's best).`,
    `The simulated judge (bandit/judge.ts): its considered verdict equals a simulated human's vote on the question with probability`,
    `p, and in each of the two orders it judges (both sides shown first) it picks the first-shown response with probability β = ${a["position-bias"]}`,
    "whatever it thinks; the two orders' common verdict is recorded, a tie when they differ (so a β share of the judge's votes",
    `are ties and the decisive ones agree with the human at rate p). Pre-screening: the served engine serves ${judgeVotes} pairs to the judge`,
    `(${2 * judgeVotes} judge calls), then ${votes} to one human at scale ${a.scale}. "counted": the judge's votes stay in the engine and the humans`,
    `continue the same study; "shortlist": the judge's votes only pick the top ${a.shortlist} prompts (leaderboard order), and the humans`,
    `start a new study on them without the judge's votes. "humans only": the same pool and humans, no judge. ${a["judge-trials"]} trials per`,
    "scenario; the humans' answer to a given question in a given round is the same in every configuration.",
    "",
    `Figures: mean regret at 25 / 50 / ${votes} human votes; "reached" = trials whose regret fell to ≤ ${REACH_THRESHOLD} for good within the ${votes}`,
    `human votes; "human votes" = median over trials of the human votes needed for that (unreached trials count as ${votes + 1},`,
    `so a median of ${votes + 1} means most did not reach it); "+ judge" adds the ${judgeVotes} judge votes.`,
    "",
    header,
    divider,
  ];
  const median = (values: number[]) => {
    const sorted = [...values].sort((x, y) => x - y);
    const middle = sorted.length >> 1;
    return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  };
  const summarise = (curves: number[][]) => {
    const reach = curves.map((curve) => votesToReach(Float64Array.from(curve), REACH_THRESHOLD));
    const needed = reach.map((value) => value ?? votes + 1);
    return {
      at: (t: number) => average(curves.map((curve) => curve[Math.min(t, curve.length) - 1]!)),
      reached: reach.filter((value) => value !== null).length,
      medianNeeded: median(needed),
    };
  };
  const pooled = new Map<string, number[][]>();
  const addPooled = (key: string, curves: number[][]) => pooled.set(key, [...(pooled.get(key) ?? []), ...curves]);
  const rowFor = (
    scenario: string,
    label: string,
    p: string,
    curves: number[][],
    extra: { ties?: string; agreement?: string; shortlistBest?: string; judge: boolean },
  ) => {
    const s = summarise(curves);
    const plusJudge = extra.judge ? s.medianNeeded + judgeVotes : s.medianNeeded;
    return `| ${scenario} | ${label} | ${p} | ${fmt(s.at(25))} | ${fmt(s.at(50))} | ${fmt(s.at(votes))} | ${s.reached}/${curves.length} | ${fmt(s.medianNeeded, 0)} | ${extra.judge ? fmt(plusJudge, 0) : "–"} | ${extra.ties ?? "–"} | ${extra.agreement ?? "–"} | ${extra.shortlistBest ?? "–"} |`;
  };
  for (const row of saved.rows) {
    lines.push(rowFor(row.scenario, "humans only", "–", row.humansOnly, { judge: false }));
    addPooled("humans only|–", row.humansOnly);
    for (const config of row.configs) {
      const extra = { ties: fmt(average(config.tieShare), 2), agreement: fmt(average(config.agreementSeen), 2), judge: true };
      lines.push(rowFor(row.scenario, "counted", String(config.agreement), config.counted, extra));
      lines.push(
        rowFor(row.scenario, "shortlist", String(config.agreement), config.shortlist, {
          ...extra,
          shortlistBest: fmt(average(config.shortlistBest)),
        }),
      );
      addPooled(`counted|${config.agreement}`, config.counted);
      addPooled(`shortlist|${config.agreement}`, config.shortlist);
    }
  }
  lines.push("", `All scenarios pooled (${saved.rows.length} scenarios × ${a["judge-trials"]} trials):`, "", header, divider);
  for (const [key, curves] of pooled) {
    const [label, p] = key.split("|") as [string, string];
    lines.push(rowFor("all", label, p, curves, { judge: label !== "humans only" }));
  }
  lines.push("");
  return lines;
}

function render(): void {
  const growth = load<GrowthRow>("growth");
  const variants = readdirSync(RESULTS)
    .map((file) => /^optimisation-loop-growth-([a-z0-9-]+)\.json$/.exec(file)?.[1])
    .filter((label): label is string => label !== undefined)
    .sort();
  const judge = load<JudgeRow>("judge");
  const lines = [
    "# The optimisation loop in the simulator (issue 17 §5)",
    "",
    "Written by `npm run bench:loop` (scripts/bench-loop.ts; the loop is bandit/optimisation-loop.ts, the design in",
    "docs/decisions/0031). Every study below is the served engine, i.e. what a study serves in the app.",
    "",
    ...(growth
      ? growthSection(growth, "## 1. Growing pool")
      : ["## 1. Growing pool", "", "Not run yet (`npm run bench:loop -- --part growth`).", ""]),
    ...variants.flatMap((label) =>
      growthSection(load<GrowthRow>(`growth-${label}`)!, `### Variant \`${label}\` (same protocol, other settings as in its command)`),
    ),
    ...(judge ? judgeSection(judge) : ["## 2. Judge pre-screening", "", "Not run yet (`npm run bench:loop -- --part judge`).", ""]),
  ];
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(REPORT, `${lines.join("\n")}`);
  console.log(`wrote ${REPORT}`);
}

function main(argv: readonly string[]): void {
  const args = validateFlags(argsSchema, parseFlags(argv), USAGE);
  if (args.part === "growth") runGrowth(args);
  if (args.part === "judge") runJudge(args);
  render();
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}
