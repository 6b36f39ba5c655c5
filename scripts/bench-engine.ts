/**
 * Engine benchmark (issue 16): what a study serves (`app`) side by side with the baselines, in one run, with common
 * random numbers, on every shared scenario.
 *
 *   npm run bench:engine -- [--trials 20] [--policy-trials apohf:10,doublets:5] [--scenarios a,b] [--policies app,champion]
 *                           [--settings scale10,scale3,scale1,deterministic,concurrent10,concurrent3,concurrent1]
 *                           [--subsets 10,20] [--subset-trials 200] [--votes 150] [--seed 1] [--jobs 2]
 *                           [--out bench/results] [--cache bench/cache/engine] [--fresh app,duet] [--note text] [--skip-speed] [--report-only]
 *
 * Every (setting, policy, scenario) cell keeps its finished trials in --cache (scripts/lib-sim/cell-cache.ts), so an
 * interrupted run resumes and `--fresh <policies>` recomputes those policies after an engine change. The report
 * (engine.md, engine.svg) is rendered from the cache; --report-only renders it without simulating. It prints figures
 * and never fails on timing. Work is split over --jobs child processes, one cell at a time.
 */
import { fork } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { quantile } from "simple-statistics";
import { z } from "zod";
import { sigmoid } from "../bandit/btl-loss";
import { normaliseInPlace } from "../bandit/features";
import type { Duel } from "../bandit/policy";
import { deriveSeed, hashUniform, mulberry32, standardNormal } from "../bandit/random";
import type { Scenario } from "../bandit/scenario";
import { randomSubset } from "../bandit/scenario";
import { ServedEngine, servedBatchSize } from "../bandit/served";
import type { AnnotatorModel, Checkpoint, SimulatedPolicy } from "../bandit/simulate";
import { REGRET_CHECKPOINTS, SIMULATED_POLICIES, simulateTrial } from "../bandit/simulate";
import { commaList, parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";
import type { CellFile, TrialRecord } from "./lib-sim/cell-cache";
import { cellPath, CURVE_STEP, engineVersion, readCell, removeCell, writeCell } from "./lib-sim/cell-cache";
import type { PairedDifference } from "./lib-sim/paired";
import { averageDifference, independentZ, meanAndStdErr, pairedDifference, shareAtMost, SIGNIFICANT_Z } from "./lib-sim/paired";
import { loadScenario, scenarioFiles, SHARED_BENCH_DIR } from "./lib-sim/scenario-file";
import type { Panel, Series } from "./lib-sim/svg";
import { renderRegretGrid } from "./lib-sim/svg";

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));
const CHECKPOINTS = REGRET_CHECKPOINTS.map(String) as Checkpoint[];
/** The policies `app` is compared with. `duet` (the bare default policy) is shown, not counted as a baseline. */
const BASELINES: readonly SimulatedPolicy[] = ["apohf", "linear", "doublets", "champion", "random", "dts"];
const SYNTHETIC = new Set(["linear", "cosine", "mlp", "square", "clustered"]);

interface Setting {
  label: string;
  annotator: AnnotatorModel;
  scale: number;
  annotators: number;
  /** The policies this setting runs by default (the faithful neural baselines cost 35–200 s a trial: see README). */
  policies: readonly SimulatedPolicy[];
}

const ALL: readonly SimulatedPolicy[] = ["app", "duet", ...BASELINES];
const CHEAP: readonly SimulatedPolicy[] = ["app", "duet", "linear", "champion", "random", "dts"];
const FEATURELESS: readonly SimulatedPolicy[] = ["app", "duet", "champion", "random", "dts"];
const SETTINGS: Record<string, Setting> = {
  scale10: { label: "scale 10", annotator: "bernoulli", scale: 10, annotators: 1, policies: ALL },
  scale3: { label: "scale 3", annotator: "bernoulli", scale: 3, annotators: 1, policies: ALL },
  scale1: { label: "scale 1", annotator: "bernoulli", scale: 1, annotators: 1, policies: ALL },
  deterministic: { label: "deterministic", annotator: "deterministic", scale: 10, annotators: 1, policies: CHEAP },
  concurrent10: { label: "8 annotators, scale 10", annotator: "bernoulli", scale: 10, annotators: 8, policies: FEATURELESS },
  concurrent3: { label: "8 annotators, scale 3", annotator: "bernoulli", scale: 3, annotators: 8, policies: FEATURELESS },
  concurrent1: { label: "8 annotators, scale 1", annotator: "bernoulli", scale: 1, annotators: 8, policies: FEATURELESS },
};
const SCALE_SETTINGS = ["scale10", "scale3", "scale1"] as const;
/** Votes before the last over which the concurrency section also compares mean regret (context, not the target). */
const CONCURRENCY_WINDOW = 20;
const CONCURRENT_OF: Record<string, string> = { scale10: "concurrent10", scale3: "concurrent3", scale1: "concurrent1" };

const USAGE =
  "npm run bench:engine -- [--trials 20] [--policy-trials apohf:10,doublets:5] [--scenarios a,b] [--policies app,champion] [--settings scale10,...] [--subsets 10,20] [--subset-trials 200] [--votes 150] [--seed 1] [--jobs 2] [--out bench/results] [--cache bench/cache/engine] [--fresh app] [--note text] [--skip-speed] [--report-only]";

const policyList = commaList.refine((names) => names.every((name) => (SIMULATED_POLICIES as readonly string[]).includes(name)), {
  message: `lists an unknown policy (known: ${SIMULATED_POLICIES.join(", ")})`,
});

const argsSchema = z.strictObject({
  trials: positiveInteger("--trials").default(20),
  "policy-trials": commaList.default(["apohf:10", "doublets:5"]).transform((entries, context) => {
    const counts: Record<string, number> = {};
    for (const entry of entries) {
      const [policy, count] = entry.split(":");
      if (!policy || !(SIMULATED_POLICIES as readonly string[]).includes(policy) || !Number.isInteger(Number(count)) || Number(count) < 1) {
        context.addIssue({ code: "custom", message: `"${entry}" is not policy:trials` });
        return z.NEVER;
      }
      counts[policy] = Number(count);
    }
    return counts;
  }),
  scenarios: commaList.optional(),
  policies: policyList.optional(),
  settings: commaList
    .default(Object.keys(SETTINGS))
    .refine((names) => names.every((name) => name in SETTINGS), { message: `lists an unknown setting (known: ${Object.keys(SETTINGS).join(", ")})` }),
  subsets: commaList
    .default(["10", "20"])
    .transform((values) => values.map(Number))
    .refine((values) => values.every((v) => Number.isInteger(v) && v >= 2), { message: "must be subset sizes >= 2" }),
  "subset-trials": positiveInteger("--subset-trials").default(200),
  votes: positiveInteger("--votes").default(150),
  seed: z.coerce.number().int().default(1),
  jobs: positiveInteger("--jobs").default(Math.min(2, cpus().length)),
  out: z.string().default(join(repoRoot, "bench/results")),
  cache: z.string().default(join(repoRoot, "bench/cache/engine")),
  fresh: policyList.default([]),
  // Experiments: DuetOptions for `app` and `duet` as JSON (docs/decisions record the variants measured this way).
  "duet-options": z
    .string()
    .transform((text, context) => {
      try {
        return z.record(z.string(), z.unknown()).parse(JSON.parse(text));
      } catch {
        context.addIssue({ code: "custom", message: "must be a JSON object of DuetOptions" });
        return z.NEVER;
      }
    })
    .optional(),
  "coverage-options": z
    .string()
    .transform((text, context) => {
      try {
        return z.record(z.string(), z.unknown()).parse(JSON.parse(text));
      } catch {
        context.addIssue({ code: "custom", message: "must be a JSON object of CoverageOptions" });
        return z.NEVER;
      }
    })
    .optional(),
  // A paragraph printed under "Protocol actually run" (why some cells have fewer trials than --trials).
  note: z.string().optional(),
  "skip-speed": z.literal(true).optional(),
  "report-only": z.literal(true).optional(),
  // Internal: a child process runs one shard of the task list.
  shard: z.coerce.number().int().nonnegative().optional(),
});
type BenchArgs = z.infer<typeof argsSchema>;

/** a − b over the trials both have (trial k of every cell is the same draw; a cell still being filled has fewer). */
function pairedOverCommonTrials(a: readonly number[], b: readonly number[]): PairedDifference {
  const common = Math.min(a.length, b.length);
  return pairedDifference(a.slice(0, common), b.slice(0, common));
}

/** One cell to compute: a setting (or a deterministic subset size) × policy × scenario, `trials` trials. */
interface Task {
  setting: string;
  policy: SimulatedPolicy;
  scenario: string;
  trials: number;
  votes: number;
  /** Deterministic annotator on random subsets of this many arms (one subset per trial), votes = 3 × arms. */
  subsetArms?: number;
}

const subsetSetting = (arms: number) => `subset${arms}`;

function trialsFor(args: BenchArgs, policy: SimulatedPolicy): number {
  return Math.min(args.trials, args["policy-trials"][policy] ?? args.trials);
}

function taskList(args: BenchArgs, files: Map<string, string>): Task[] {
  const tasks: Task[] = [];
  for (const setting of args.settings) {
    for (const policy of SETTINGS[setting]!.policies) {
      if (args.policies && !args.policies.includes(policy)) continue;
      for (const scenario of files.keys()) tasks.push({ setting, policy, scenario, trials: trialsFor(args, policy), votes: args.votes });
    }
  }
  for (const arms of args.subsets) {
    for (const policy of ["app", "champion"] as const) {
      if (args.policies && !args.policies.includes(policy)) continue;
      for (const scenario of files.keys()) {
        tasks.push({ setting: subsetSetting(arms), policy, scenario, trials: args["subset-trials"], votes: 3 * arms, subsetArms: arms });
      }
    }
  }
  return tasks;
}

/** Rough seconds per trial-vote per arm, measured on this machine (for balancing shards only). */
const COST: Record<string, number> = { app: 1, duet: 0.6, apohf: 5, doublets: 20, linear: 0.3, champion: 0.01, random: 0.01, dts: 0.05 };

function shardTasks(tasks: Task[], shards: number): Task[][] {
  const cost = (task: Task) => (COST[task.policy] ?? 1) * task.trials * task.votes * (task.subsetArms ?? 250);
  const ordered = tasks.slice().sort((x, y) => cost(y) - cost(x));
  const loads = new Array<number>(shards).fill(0);
  const assigned = Array.from({ length: shards }, (): Task[] => []);
  for (const task of ordered) {
    const lightest = loads.indexOf(Math.min(...loads));
    assigned[lightest]!.push(task);
    loads[lightest] = loads[lightest]! + cost(task);
  }
  return assigned;
}

function runTask(args: BenchArgs, task: Task, scenario: Scenario, version: string, shard: number): void {
  const path = cellPath(args.cache, task.setting, task.policy, task.scenario);
  const cell: CellFile = readCell(path, task.votes, args.seed) ?? {
    setting: task.setting,
    policy: task.policy,
    scenario: task.scenario,
    votes: task.votes,
    seed: args.seed,
    engineVersion: version,
    trials: {},
  };
  if (cell.engineVersion !== version && Object.keys(cell.trials).length > 0 && Object.keys(cell.trials).length < task.trials) {
    // Adding trials to a cell computed with another engine would mix versions: start the cell again.
    cell.trials = {};
  }
  cell.engineVersion = Object.keys(cell.trials).length === 0 ? version : cell.engineVersion;
  const setting = task.subsetArms ? { annotator: "deterministic" as const, scale: 10, annotators: 1 } : SETTINGS[task.setting]!;
  const started = Date.now();
  let ran = 0;
  for (let trial = 0; trial < task.trials; trial++) {
    if (cell.trials[trial]) continue;
    const trialScenario = task.subsetArms
      ? randomSubset(scenario, task.subsetArms, mulberry32(deriveSeed(args.seed, trial, 17, task.subsetArms)))
      : scenario;
    const result = simulateTrial(
      trialScenario,
      {
        policy: task.policy,
        trials: 1,
        votes: task.votes,
        scale: setting.scale,
        seed: args.seed,
        annotator: setting.annotator,
        annotators: setting.annotators,
        policyOptions: args["duet-options"] ? { duet: args["duet-options"] } : undefined,
        coverage: args["coverage-options"],
      },
      trial,
    );
    const at: Record<string, number> = {};
    for (const checkpoint of [...REGRET_CHECKPOINTS, task.votes])
      if (checkpoint <= task.votes) at[String(checkpoint)] = result.regret[checkpoint - 1]!;
    const record: TrialRecord = {
      trial,
      at,
      curve: task.subsetArms
        ? []
        : Array.from({ length: Math.floor(task.votes / CURVE_STEP) }, (_, k) => round4(result.regret[(k + 1) * CURVE_STEP - 1]!)),
      msPerVote: result.secondsPerVote.length > 0 ? 1000 * quantile(result.secondsPerVote, 0.5) : 0,
      armsDueled: result.armsDueled,
      chosenPairs: result.chosenPairs,
      fallbackPairs: result.fallbackPairs,
    };
    cell.trials[trial] = record;
    writeCell(path, cell);
    ran += 1;
  }
  if (ran > 0) {
    const values = Object.values(cell.trials).map((record) => record.at[String(task.votes)]!);
    console.log(
      `[shard ${shard}] ${task.setting} ${task.policy} ${task.scenario}: ${ran} trial(s) in ${((Date.now() - started) / 1000).toFixed(0)} s, ` +
        `regret@${task.votes} ${meanAndStdErr(values).mean.toFixed(3)}`,
    );
  }
}

const round4 = (value: number) => Math.round(value * 1e4) / 1e4;

function runShard(args: BenchArgs, files: Map<string, string>): void {
  const tasks = shardTasks(taskList(args, files), args.jobs)[args.shard!]!;
  const cache = new Map<string, Scenario>();
  for (const task of tasks) {
    let scenario = cache.get(task.scenario);
    if (!scenario) {
      scenario = loadScenario(files.get(task.scenario)!);
      cache.set(task.scenario, scenario);
    }
    runTask(args, task, scenario, engineVersion(task.policy), args.shard!);
  }
}

async function runShards(argv: string[], jobs: number): Promise<void> {
  const children = Array.from({ length: jobs }, (_, shard) => {
    const child = fork(fileURLToPath(import.meta.url), [...argv, "--shard", String(shard)], { stdio: "inherit" });
    return new Promise<void>((done, fail) => {
      child.on("exit", (code) => (code === 0 ? done() : fail(new Error(`shard ${shard} exited with ${code}`))));
    });
  });
  await Promise.all(children);
}

interface SpeedFigure {
  arms: number;
  dimension: number;
  /** CPU time of the engine per vote (the machine is shared: wall time there measures the other jobs). */
  medianMs: number;
  p90Ms: number;
  meanMs: number;
  medianWallMs: number;
  loadAverage: number;
}

/**
 * Engine time per vote of what a study serves, as the selection worker spends it: refit + a batch of
 * servedBatchSize(0) proposals + the snapshot estimates, on a synthetic study of `arms` unit-norm Gaussian
 * embeddings of `dimension` dims with a linear utility, 150 votes at scale 10.
 */
function speedRun(arms: number, dimension: number, votes: number, seed: number): SpeedFigure {
  const random = mulberry32(seed);
  const features = Array.from({ length: arms }, () => normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random))));
  const direction = normaliseInPlace(Float64Array.from({ length: dimension }, () => standardNormal(random)));
  const utility = features.map((x) => x.reduce((sum, value, k) => sum + value * direction[k]!, 0));
  const spread = Math.sqrt(utility.reduce((sum, u) => sum + u * u, 0) / arms);
  const engine = new ServedEngine(features, { policy: "default", seed });
  const times: number[] = [];
  const wallTimes: number[] = [];
  let pending: Duel[] = [];
  let pair: [number, number] = [0, 1];
  for (let t = 0; t < votes; t++) {
    const aWins = hashUniform(seed, t) < sigmoid((10 * (utility[pair[0]]! - utility[pair[1]]!)) / spread);
    pending = [{ a: pair[0], b: pair[1], outcome: aWins ? 1 : 0 }];
    const started = performance.now();
    const cpu = process.cpuUsage();
    const proposals = engine.update({ newDuels: pending, pending: [], batchSize: servedBatchSize(0) });
    engine.estimates();
    const used = process.cpuUsage(cpu);
    times.push((used.user + used.system) / 1000);
    wallTimes.push(performance.now() - started);
    pair = proposals.pairs[0]!;
  }
  const measured = times.slice(5);
  return {
    arms,
    dimension,
    medianMs: quantile(measured, 0.5),
    p90Ms: quantile(measured, 0.9),
    meanMs: measured.reduce((sum, value) => sum + value, 0) / measured.length,
    medianWallMs: quantile(wallTimes.slice(5), 0.5),
    loadAverage: loadavg()[0]!,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Cell {
  file: CellFile;
  trials: TrialRecord[];
}

const fmt = (value: number | null | undefined, digits = 3) =>
  value === null || value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits);
const fmtZ = (z: number) => (Number.isFinite(z) ? z.toFixed(1) : z > 0 ? "+∞" : "−∞");
const signed = (value: number, digits = 3) => `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(digits)}`;
const mark = (met: boolean) => (met ? "**met**" : "**not met**");

class Results {
  private readonly cells = new Map<string, Cell>();
  constructor(
    private readonly args: BenchArgs,
    readonly scenarios: string[],
  ) {
    for (const task of taskList(args, new Map(scenarios.map((name) => [name, name])))) {
      const file = readCell(cellPath(args.cache, task.setting, task.policy, task.scenario), task.votes, args.seed);
      if (!file) continue;
      const trials = Object.values(file.trials)
        .filter((record) => record.trial < task.trials)
        .sort((x, y) => x.trial - y.trial);
      if (trials.length > 0) this.cells.set(`${task.setting}|${task.policy}|${task.scenario}`, { file, trials });
    }
  }

  get(setting: string, policy: string, scenario: string): Cell | undefined {
    return this.cells.get(`${setting}|${policy}|${scenario}`);
  }

  all(): Cell[] {
    return [...this.cells.values()];
  }

  values(setting: string, policy: string, scenario: string, checkpoint: string): number[] | undefined {
    const cell = this.get(setting, policy, scenario);
    if (!cell || cell.trials.some((record) => record.at[checkpoint] === undefined)) return undefined;
    return cell.trials.map((record) => record.at[checkpoint]!);
  }

  /** Per trial, the mean regret over the curve's points at votes from..to (every CURVE_STEP votes). */
  windowValues(setting: string, policy: string, scenario: string, from: number, to: number): number[] | undefined {
    const cell = this.get(setting, policy, scenario);
    const points: number[] = [];
    for (let k = 0; (k + 1) * CURVE_STEP <= to; k++) if ((k + 1) * CURVE_STEP >= from) points.push(k);
    if (!cell || points.length === 0 || cell.trials.some((record) => record.curve.length <= points.at(-1)!)) return undefined;
    return cell.trials.map((record) => points.reduce((sum, k) => sum + record.curve[k]!, 0) / points.length);
  }

  mean(setting: string, policy: string, scenario: string, checkpoint: string): number | undefined {
    const values = this.values(setting, policy, scenario, checkpoint);
    return values ? meanAndStdErr(values).mean : undefined;
  }

  /** The baseline with the lowest mean in this cell (any trial count). */
  bestBaseline(setting: string, scenario: string, checkpoint: string): { policy: string; mean: number } | undefined {
    let best: { policy: string; mean: number } | undefined;
    for (const policy of BASELINES) {
      const value = this.mean(setting, policy, scenario, checkpoint);
      if (value !== undefined && (!best || value < best.mean)) best = { policy, mean: value };
    }
    return best;
  }

  /** Paired difference app − policy over their common trials. */
  paired(setting: string, ours: string, theirs: string, scenario: string, checkpoint: string): PairedDifference | undefined {
    const a = this.values(setting, ours, scenario, checkpoint);
    const b = this.values(setting, theirs, scenario, checkpoint);
    if (!a || !b) return undefined;
    return Math.min(a.length, b.length) >= 2 ? pairedOverCommonTrials(a, b) : undefined;
  }

  /** Scenarios where every listed policy has this cell. */
  complete(setting: string, policies: readonly string[], checkpoint: string): string[] {
    return this.scenarios.filter((scenario) => policies.every((policy) => this.values(setting, policy, scenario, checkpoint)));
  }

  staleCells(): string[] {
    return this.all()
      .filter((cell) => cell.file.engineVersion !== engineVersion(cell.file.policy))
      .map((cell) => `${cell.file.setting}/${cell.file.policy}/${cell.file.scenario}`);
  }
}

function writeReport(args: BenchArgs, files: Map<string, string>, speed: SpeedFigure[] | undefined): void {
  const scenarios = [...files.keys()];
  const results = new Results(args, scenarios);
  const lines: string[] = [];
  const targets: string[] = [];
  const trialsNote = Object.entries(args["policy-trials"])
    .map(([policy, count]) => `${policy} ${Math.min(count, args.trials)}`)
    .join(", ");
  lines.push(
    "# Engine benchmark: what a study serves (`app`) against the baselines",
    "",
    `Generated by \`npm run bench:engine\` (seed ${args.seed}, ${args.votes} votes, at most ${args.trials} trials per cell` +
      (trialsNote ? `, except ${trialsNote}` : "") +
      `; Node ${process.version}, ${cpus().length} cores). Engine version ${engineVersion("app")} (hash of bandit/).`,
    "",
    "- `app` is exactly what a study serves (bandit/served.ts): coverage + the default policy + batches with the open " +
      "assignments as pending + the assignment rules (first proposal not held and not the annotator's last duel; random " +
      "fallback when none is usable), with the engine caught up before each request. `duet` is the bare default policy, " +
      "shown for reference and not counted as a baseline.",
    "- Baselines: `apohf` (faithful APOHF), `linear` and `doublets` (its linear and Double-Thompson baselines), `champion` " +
      "(featureless king of the hill), `random`, and `dts` (classical Double Thompson Sampling on win counts, Wu & Liu 2016). " +
      "Every neural baseline draws its own initialisation per trial.",
    "- Common random numbers: within a trial every policy gets the same 5 warm-up pairs, the same annotator draw for the " +
      "same (round, pair), and in the concurrent setting the same return order, so differences are paired. " +
      "Δ = app − best baseline (the baseline with the lowest mean in that cell) over their common trials, with its standard " +
      `error and z; "≤0.05" = share of trials with regret ≤ 0.05.`,
    "- Regret = normalised simple regret of the recommendation (0 = best prompt, 1 = an average prompt), shared/bench/README.md.",
  );
  const stale = results.staleCells();
  if (stale.length > 0) {
    lines.push(
      "",
      `Note: ${stale.length} cells were computed with another engine version (${[...new Set(stale.map((s) => s.split("/")[1]))].join(", ")}).`,
    );
  }

  // Target 1: per scale, mean over scenarios ≤ the best baseline's mean over scenarios, at every budget. When a run
  // did not reach every scenario, the means are over the scenarios app has, and the row and the verdict say so.
  const summaryRows: string[] = [];
  let targetOneMet = true;
  let targetOneCells = 0;
  let targetOnePartial = false;
  for (const setting of SCALE_SETTINGS) {
    for (const checkpoint of CHECKPOINTS) {
      // A paired difference needs two trials in common.
      const covered = results.complete(setting, ["app"], checkpoint).filter((scenario) => results.get(setting, "app", scenario)!.trials.length >= 2);
      const baselines = BASELINES.filter((policy) => covered.every((scenario) => results.values(setting, policy, scenario, checkpoint)));
      if (covered.length === 0 || baselines.length === 0) continue;
      const appMean = meanOver(results, setting, "app", covered, checkpoint);
      let best = { policy: "", mean: Infinity };
      for (const policy of baselines) {
        const value = meanOver(results, setting, policy, covered, checkpoint);
        if (value < best.mean) best = { policy, mean: value };
      }
      const difference = averageDifference(covered.map((scenario) => results.paired(setting, "app", best.policy, scenario, checkpoint)!));
      const perCellBest = covered.reduce((sum, scenario) => sum + results.bestBaseline(setting, scenario, checkpoint)!.mean, 0) / covered.length;
      const met = appMean <= best.mean;
      targetOneMet &&= met;
      targetOneCells += 1;
      targetOnePartial ||= covered.length < scenarios.length;
      summaryRows.push(
        `| ${SETTINGS[setting]!.label} | ${checkpoint} | ${covered.length} of ${scenarios.length} | ${fmt(appMean)} | ${fmt(meanOver(results, setting, "duet", covered, checkpoint))} | ` +
          `${fmt(best.mean)} ${best.policy} | ${signed(difference.mean)} ± ${fmt(difference.stdErr)} (z ${fmtZ(difference.z)}) | ${fmt(perCellBest)} | ${met ? "✓" : "✗"} |`,
      );
    }
  }
  if (targetOneCells > 0) {
    const verdict = targetOneMet && targetOnePartial ? "**met on the scenarios run only**" : mark(targetOneMet);
    targets.push(
      `| at each scale, mean over scenarios ≤ the best baseline's, at 25/50/100/150 votes | ${summaryRows.filter((row) => row.endsWith("✓ |")).length} of ${targetOneCells} (scale, budget) pairs${targetOnePartial ? " (some scales over fewer scenarios: see the table)" : ""} | ${verdict} |`,
    );
  }

  // Target 2: no (scenario, scale) worse than the best baseline at 100/150 by more than 2 SE of the paired difference.
  const significant: string[] = [];
  let targetTwoCells = 0;
  for (const setting of SCALE_SETTINGS) {
    for (const scenario of scenarios) {
      for (const checkpoint of ["100", "150"]) {
        const best = results.bestBaseline(setting, scenario, checkpoint);
        const difference = best && results.paired(setting, "app", best.policy, scenario, checkpoint);
        if (!best || !difference) continue;
        targetTwoCells += 1;
        if (difference.z > SIGNIFICANT_Z) {
          significant.push(
            `${scenario} ${SETTINGS[setting]!.label} @${checkpoint}: ${signed(difference.mean)} vs ${best.policy} (z ${fmtZ(difference.z)})`,
          );
        }
      }
    }
  }
  if (targetTwoCells > 0) {
    targets.push(
      `| no (scenario, scale) worse than the best baseline at 100 or 150 votes by > 2 SE of the paired difference | ${significant.length} of ${targetTwoCells} cells worse by > 2 SE${significant.length > 0 ? `: ${significant.join("; ")}` : ""} | ${mark(significant.length === 0)} |`,
    );
  }

  // Target 3: at scale 10, app@50 ≤ apohf@150 per scenario; mean app@50 over the real scenarios ≤ 0.05.
  const apohfMisses: string[] = [];
  let apohfCells = 0;
  for (const scenario of scenarios) {
    const ours = results.mean("scale10", "app", scenario, "50");
    const apohf = results.mean("scale10", "apohf", scenario, "150");
    if (ours === undefined || apohf === undefined) continue;
    apohfCells += 1;
    if (ours > apohf) apohfMisses.push(`${scenario} (${fmt(ours)} vs ${fmt(apohf)})`);
  }
  if (apohfCells > 0) {
    targets.push(
      `| scale 10: app's 50-vote regret ≤ faithful apohf's 150-vote regret, every scenario | ${apohfCells - apohfMisses.length} of ${apohfCells}${apohfMisses.length > 0 ? ` (misses: ${apohfMisses.join(", ")})` : ""} | ${mark(apohfMisses.length === 0)} |`,
    );
  }
  const real = scenarios.filter((scenario) => !SYNTHETIC.has(scenario) && results.values("scale10", "app", scenario, "50"));
  if (real.length > 0) {
    const realMean = real.reduce((sum, scenario) => sum + results.mean("scale10", "app", scenario, "50")!, 0) / real.length;
    const realDuet = real.filter((scenario) => results.values("scale10", "duet", scenario, "50"));
    const duetNote =
      realDuet.length === real.length
        ? ` (bare duet ${fmt(realDuet.reduce((sum, scenario) => sum + results.mean("scale10", "duet", scenario, "50")!, 0) / real.length)})`
        : "";
    targets.push(
      `| scale 10: mean 50-vote regret over the ${real.length} real scenarios ≤ 0.05 | ${fmt(realMean)}${duetNote} | ${mark(realMean <= 0.05)} |`,
    );
  }

  // Target 4: deterministic annotator on random subsets: best prompt after 3n votes in ≥ 99% of trials.
  const subsetRows: string[] = [];
  let subsetWorst = Infinity;
  let subsetCount = 0;
  for (const arms of args.subsets) {
    for (const scenario of scenarios) {
      const appValues = results.values(subsetSetting(arms), "app", scenario, String(3 * arms));
      if (!appValues) continue;
      const championValues = results.values(subsetSetting(arms), "champion", scenario, String(3 * arms));
      const share = shareAtMost(appValues, 0);
      subsetWorst = Math.min(subsetWorst, share);
      subsetCount += 1;
      subsetRows.push(
        `| ${scenario} | ${arms} | ${3 * arms} | ${appValues.length} | ${(100 * share).toFixed(1)}% | ${championValues ? `${(100 * shareAtMost(championValues, 0)).toFixed(1)}%` : "–"} | ${fmt(meanAndStdErr(appValues).mean)} |`,
      );
    }
  }
  if (subsetCount > 0) {
    const below = subsetRows.filter((row) => Number(row.split("|")[5]!.trim().replace("%", "")) < 99).length;
    targets.push(
      `| deterministic annotator, random 10/20-prompt subsets: best prompt after 3n votes in ≥ 99% of trials | worst (scenario, n): ${(100 * subsetWorst).toFixed(1)}%; ${below} of ${subsetCount} below 99% | ${mark(subsetWorst >= 0.99)} |`,
    );
  }

  // Target 5: 8 concurrent annotators within 10% of single at 150 votes.
  const concurrencyRows: string[] = [];
  let concurrencyMet = true;
  let concurrencyCount = 0;
  for (const setting of SCALE_SETTINGS) {
    const concurrent = CONCURRENT_OF[setting]!;
    const last = String(args.votes);
    const both = scenarios.filter((scenario) => results.values(setting, "app", scenario, last) && results.values(concurrent, "app", scenario, last));
    if (both.length === 0) continue;
    const single = meanOver(results, setting, "app", both, last);
    const many = meanOver(results, concurrent, "app", both, last);
    const difference = averageDifference(
      both.map((scenario) =>
        pairedOverCommonTrials(results.values(concurrent, "app", scenario, last)!, results.values(setting, "app", scenario, last)!),
      ),
    );
    const met = many <= 1.1 * single;
    concurrencyMet &&= met;
    concurrencyCount += 1;
    // The same comparison on the mean of the last votes' regret: one vote's recommendation is a noisy draw.
    const windowFrom = args.votes - CONCURRENCY_WINDOW;
    const windowed = both.map((scenario) => ({
      single: results.windowValues(setting, "app", scenario, windowFrom, args.votes),
      many: results.windowValues(concurrent, "app", scenario, windowFrom, args.votes),
    }));
    const windowCell = windowed.every((cell) => cell.single && cell.many)
      ? (() => {
          const late = averageDifference(windowed.map((cell) => pairedOverCommonTrials(cell.many!, cell.single!)));
          const singleLate = windowed.reduce((sum, cell) => sum + meanAndStdErr(cell.single!).mean, 0) / windowed.length;
          return `${fmt(singleLate)} / ${fmt(singleLate + late.mean)} (Δ ${signed(late.mean)} ± ${fmt(late.stdErr)})`;
        })()
      : "–";
    concurrencyRows.push(
      `| ${SETTINGS[setting]!.label} | ${both.length} | ${fmt(single)} | ${fmt(many)} | ${signed(difference.mean)} ± ${fmt(difference.stdErr)} | ${single > 0 ? `${signed((100 * (many - single)) / single, 1)}%` : "–"} | ${met ? "✓" : "✗"} | ${windowCell} |`,
    );
  }
  if (concurrencyCount > 0) {
    targets.push(
      `| 8 concurrent annotators: 150-vote regret within 10% of one annotator (mean over scenarios, per scale) | see "Concurrency" | ${mark(concurrencyMet)} |`,
    );
  }

  if (speed) {
    const at200 = speed.find((figure) => figure.arms === 200);
    const at1000 = speed.find((figure) => figure.arms === 1000);
    if (at200)
      targets.push(
        `| ≤ 20 ms per vote at 200 prompts | ${at200.medianMs.toFixed(1)} ms (median; p90 ${at200.p90Ms.toFixed(1)}) | ${mark(at200.medianMs <= 20)} |`,
      );
    if (at1000) {
      targets.push(
        `| ≤ 40 ms per vote at 1,000 prompts × 1,536 dims | ${at1000.medianMs.toFixed(1)} ms CPU (median; mean ${at1000.meanMs.toFixed(1)}, p90 ${at1000.p90Ms.toFixed(1)}) | ${mark(at1000.medianMs <= 40)} |`,
      );
    }
  }

  lines.push("", "## Protocol actually run", "", ...(args.note ? [args.note, ""] : []), ...protocolTable(results, args));
  lines.push("", "## Targets (issue 16)", "", "| target | measured | |", "|---|---|---|", ...targets);
  lines.push(
    "",
    "## Mean over scenarios, per scale",
    "",
    `"scenarios" = those where app has at least 2 trials (the means are over them); "best baseline" = the baseline with the lowest mean over those scenarios; Δ = app − it (mean of the per-scenario paired differences ± SE); ` +
      `"per-cell best" = the mean over scenarios of each cell's best baseline (a stricter bar: a different baseline may win each cell).`,
    "",
    "| setting | votes | scenarios | app | duet | best baseline | Δ | per-cell best | app ≤ best |",
    "|---|---|---|---|---|---|---|---|---|",
    ...summaryRows,
  );

  // Per (scenario, setting) table.
  for (const setting of Object.keys(SETTINGS)) {
    if (!args.settings.includes(setting)) continue;
    const rows: string[] = [];
    for (const scenario of scenarios) {
      const appCell = results.get(setting, "app", scenario);
      if (!appCell) continue;
      const cells = CHECKPOINTS.map((checkpoint) => {
        const values = results.values(setting, "app", scenario, checkpoint);
        if (!values) return "–";
        const { mean, stdErr } = meanAndStdErr(values);
        const best = results.bestBaseline(setting, scenario, checkpoint);
        const difference = best && results.paired(setting, "app", best.policy, scenario, checkpoint);
        const flag = difference && difference.z > SIGNIFICANT_Z ? " ✗" : "";
        const versus =
          best && difference ? ` · ${best.policy.slice(0, 5)} ${fmt(best.mean)} · Δ ${signed(difference.mean)} (z ${fmtZ(difference.z)})${flag}` : "";
        return `${fmt(mean)} ± ${fmt(stdErr)}, ${Math.round(100 * shareAtMost(values, 0.05))}%${versus}`;
      });
      const ms = quantile(
        appCell.trials.map((record) => record.msPerVote),
        0.5,
      );
      const arms = appCell.trials.reduce((sum, record) => sum + record.armsDueled, 0) / appCell.trials.length;
      rows.push(`| ${scenario} | ${cells.join(" | ")} | ${arms.toFixed(0)} | ${ms.toFixed(1)} |`);
    }
    if (rows.length === 0) continue;
    lines.push(
      "",
      `## ${SETTINGS[setting]!.label}: app per scenario`,
      "",
      "Each cell: app's mean regret ± SE, its share of trials ≤ 0.05, the best baseline there with its mean, and Δ = app − that baseline (z); ✗ = worse by more than 2 SE. arms = arms in a duel by the last vote.",
      "",
      "| scenario | 25 | 50 | 100 | 150 | arms | wall ms/vote |",
      "|---|---|---|---|---|---|---|",
      ...rows,
    );
  }

  // Every policy, every cell.
  const allRows: string[] = [];
  for (const setting of Object.keys(SETTINGS)) {
    for (const scenario of scenarios) {
      for (const policy of ALL) {
        const cell = results.get(setting, policy, scenario);
        if (!cell) continue;
        const figures = CHECKPOINTS.map((checkpoint) => {
          const values = results.values(setting, policy, scenario, checkpoint);
          if (!values) return "–";
          const { mean, stdErr } = meanAndStdErr(values);
          return `${fmt(mean)} ± ${fmt(stdErr)} (${Math.round(100 * shareAtMost(values, 0.05))}%)`;
        });
        const ms = quantile(
          cell.trials.map((record) => record.msPerVote),
          0.5,
        );
        allRows.push(`| ${SETTINGS[setting]!.label} | ${scenario} | ${policy} | ${cell.trials.length} | ${figures.join(" | ")} | ${ms.toFixed(1)} |`);
      }
    }
  }
  lines.push(
    "",
    "## Every policy and cell",
    "",
    "Mean regret ± SE (share of trials ≤ 0.05). wall ms/vote = median wall time of the policy per vote in the simulation (refit + request), on the shared machine under nice 19: a measure of the load as much as of the engine; see Speed for CPU time.",
    "",
    "| setting | scenario | policy | trials | 25 | 50 | 100 | 150 | wall ms/vote |",
    "|---|---|---|---|---|---|---|---|---|",
    ...allRows,
  );

  if (subsetRows.length > 0) {
    lines.push(
      "",
      "## Deterministic annotator on random subsets",
      "",
      "One random subset of n prompts per trial; the annotator always prefers the higher utility; 5 random warm-up pairs, then 3n − 5 chosen pairs. " +
        "best = the recommendation after 3n votes has the highest utility of its subset.",
      "",
      "| scenario | n | votes | trials | app best | champion best | app mean regret |",
      "|---|---|---|---|---|---|---|",
      ...subsetRows,
    );
  }
  if (concurrencyRows.length > 0) {
    lines.push(
      "",
      "## Concurrency",
      "",
      "app with 8 annotators (each holds one assignment; votes return in random order, the others pending) against one annotator, " +
        `regret at ${args.votes} votes, mean over scenarios; Δ = 8 − 1 (paired over trials, ± SE). The target is judged at ${args.votes} votes; ` +
        `the last column, for context, compares the mean regret over the curve's points at votes ${args.votes - CONCURRENCY_WINDOW}–${args.votes} (one annotator / eight), ` +
        "which is less at the mercy of where a single vote leaves the recommendation.",
      "",
      `| scale | scenarios | 1 annotator | 8 annotators | Δ | relative | within 10% | votes ${args.votes - CONCURRENCY_WINDOW}–${args.votes}: 1 / 8 |`,
      "|---|---|---|---|---|---|---|---|",
      ...concurrencyRows,
    );
  }

  // Faithfulness of apohf: against the PyTorch reference re-run with one initialisation per trial.
  const perTrialInit = join(SHARED_BENCH_DIR, "reference/per-trial-init/apohf_neural_per_init.json");
  if (existsSync(perTrialInit)) {
    const reference = z
      .object({
        results: z.array(
          z.object({
            scenario: z.string(),
            scale: z.number(),
            trials: z.number(),
            regretAt: z.record(z.string(), z.number()),
            regretStdErr: z.record(z.string(), z.number()),
          }),
        ),
      })
      .parse(JSON.parse(readFileSync(perTrialInit, "utf8")));
    const rows: string[] = [];
    for (const row of reference.results) {
      const setting = `scale${row.scale}`;
      if (!results.get(setting, "apohf", row.scenario)) continue;
      const figures = CHECKPOINTS.map((checkpoint) => {
        const values = results.values(setting, "apohf", row.scenario, checkpoint)!;
        const ours = meanAndStdErr(values);
        const z = independentZ(ours.mean, ours.stdErr, row.regretAt[checkpoint]!, row.regretStdErr[checkpoint]!);
        return `${fmt(ours.mean)} ± ${fmt(ours.stdErr)} vs ${fmt(row.regretAt[checkpoint])} ± ${fmt(row.regretStdErr[checkpoint])} (z ${z === null ? "–" : z.toFixed(1)})`;
      });
      rows.push(
        `| ${row.scenario} | ${row.scale} | ${results.get(setting, "apohf", row.scenario)!.trials.length} vs ${row.trials} | ${figures.join(" | ")} |`,
      );
    }
    if (rows.length > 0) {
      lines.push(
        "",
        "## Faithfulness of `apohf`",
        "",
        "Our TypeScript `apohf` (one initialisation per trial) against the PyTorch reference of APOHF re-run with one initialisation per trial " +
          "(shared/bench/reference/per-trial-init). z = difference over the standard error of two independent means.",
        "",
        "| scenario | scale | trials (ours vs ref) | 25 | 50 | 100 | 150 |",
        "|---|---|---|---|---|---|---|",
        ...rows,
      );
    }
  }

  if (speed) {
    lines.push(
      "",
      "## Speed",
      "",
      "Engine time per vote of the served configuration as the selection worker spends it (refit + a batch of proposals + the snapshot estimates), " +
        "synthetic studies, 150 votes, median (p90) after the first 5 votes; the machine's 1-minute load average when measured is shown because " +
        "the machine is shared.",
      "",
      "| prompts | dims | ms per vote | p90 | load average |",
      "|---|---|---|---|---|",
      ...speed.map(
        (figure) =>
          `| ${figure.arms} | ${figure.dimension} | ${figure.medianMs.toFixed(1)} | ${figure.p90Ms.toFixed(1)} | ${figure.loadAverage.toFixed(1)} |`,
      ),
    );
  }
  lines.push("", "Plot: `engine.svg` (mean regret curves per scenario and setting).", "");
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, "engine.md"), lines.join("\n"));
  if (speed) {
    mkdirSync(args.cache, { recursive: true });
    writeFileSync(join(args.cache, "speed.json"), JSON.stringify(speed));
  }
  writeFileSync(join(args.out, "engine.svg"), renderPlot(results, args, scenarios));
}

/** What the cache holds per setting and policy: trials per cell (range over scenarios) and how many scenarios have a cell. */
function protocolTable(results: Results, args: BenchArgs): string[] {
  const settings = [...Object.keys(SETTINGS), ...args.subsets.map(subsetSetting)];
  const rows: string[] = [];
  for (const setting of settings) {
    for (const policy of ALL) {
      const counts = results.scenarios.map((scenario) => results.get(setting, policy, scenario)?.trials.length ?? 0).filter((count) => count > 0);
      if (counts.length === 0) continue;
      const low = Math.min(...counts);
      const high = Math.max(...counts);
      const label = SETTINGS[setting]?.label ?? `deterministic, random ${setting.slice("subset".length)}-prompt subsets`;
      rows.push(`| ${label} | ${policy} | ${low === high ? low : `${low}–${high}`} | ${counts.length} of ${results.scenarios.length} |`);
    }
  }
  return [
    "Trials per (scenario) cell as found in the cache; a policy or setting not listed was not run. Paired differences use the trials two policies have in common (trial k of every policy sees the same warm-up pairs and annotator draws).",
    "",
    "| setting | policy | trials per cell | scenarios |",
    "|---|---|---|---|",
    ...rows,
  ];
}

function meanOver(results: Results, setting: string, policy: string, scenarios: readonly string[], checkpoint: string): number {
  return scenarios.reduce((sum, scenario) => sum + results.mean(setting, policy, scenario, checkpoint)!, 0) / scenarios.length;
}

const COLORS: Record<string, { color: string; dashed?: boolean }> = {
  app: { color: "#1f5fbf" },
  duet: { color: "#1f5fbf", dashed: true },
  champion: { color: "#e8a33d" },
  dts: { color: "#2a9d4b" },
  linear: { color: "#8e44ad" },
  apohf: { color: "#888888" },
  doublets: { color: "#888888", dashed: true },
  random: { color: "#c0392b", dashed: true },
};

function renderPlot(results: Results, args: BenchArgs, scenarios: string[]): string {
  const settings = ["scale10", "scale3", "scale1", "deterministic"].filter((setting) => args.settings.includes(setting));
  const panels: Panel[] = [];
  for (const scenario of scenarios) {
    for (const setting of settings) {
      const series: Series[] = [];
      for (const policy of ALL) {
        const cell = results.get(setting, policy, scenario);
        if (!cell || cell.trials[0]!.curve.length === 0) continue;
        const points = cell.trials[0]!.curve.length;
        const values = Array.from({ length: points }, (_, k) => cell.trials.reduce((sum, record) => sum + record.curve[k]!, 0) / cell.trials.length);
        // One point per CURVE_STEP votes; the plot's x axis is votes.
        const perVote = Array.from({ length: points * CURVE_STEP }, (_, vote) => values[Math.min(points - 1, Math.floor(vote / CURVE_STEP))]!).slice(
          CURVE_STEP - 1,
        );
        series.push({ label: policy, color: COLORS[policy]!.color, dashed: COLORS[policy]!.dashed, values: perVote, startX: CURVE_STEP });
      }
      panels.push({ title: `${scenario.slice(0, 28)} · ${SETTINGS[setting]!.label}`, series });
    }
  }
  const legend: Series[] = ALL.map((policy) => ({
    label: policy,
    color: COLORS[policy]!.color,
    dashed: COLORS[policy]!.dashed,
    values: [],
    startX: 1,
  }));
  return renderRegretGrid(panels, Math.max(1, settings.length), args.votes, 1.2, legend);
}

async function main(argv: string[]): Promise<void> {
  const args = validateFlags(argsSchema, parseFlags(argv), USAGE);
  const files = scenarioFiles(args.scenarios);
  if (args.shard !== undefined) {
    runShard(args, files);
    return;
  }
  if (!args["report-only"]) {
    for (const policy of args.fresh) {
      for (const task of taskList(args, files).filter((task) => task.policy === policy))
        removeCell(cellPath(args.cache, task.setting, task.policy, task.scenario));
    }
    const started = Date.now();
    await runShards(argv, args.jobs);
    console.log(`cells done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  let speed: SpeedFigure[] | undefined;
  const speedFile = join(args.cache, "speed.json");
  if (!args["skip-speed"] && !args["report-only"]) {
    console.log("speed: served engine on 200 prompts x 64 dims and 1,000 prompts x 1,536 dims ...");
    speed = [speedRun(200, 64, Math.min(args.votes, 150), args.seed), speedRun(1000, 1536, Math.min(args.votes, 150), args.seed)];
    for (const figure of speed)
      console.log(`speed: ${figure.arms} x ${figure.dimension}: ${figure.medianMs.toFixed(1)} ms/vote (p90 ${figure.p90Ms.toFixed(1)})`);
  } else if (existsSync(speedFile)) {
    speed = JSON.parse(readFileSync(speedFile, "utf8")) as SpeedFigure[];
  }
  writeReport(args, files, speed);
  console.log(`wrote ${join(args.out, "engine.md")} and engine.svg`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
