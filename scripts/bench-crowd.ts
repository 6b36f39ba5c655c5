/**
 * Mixed-crowd benchmark (issue 18, "Measured in the simulator"): the served configuration `app` under the bench
 * protocol (150 votes, scale-10 utilities, 5 random warm-up pairs), each vote cast by a member drawn at random from a
 * crowd (bandit/crowd.ts: good, mixed, adversarial, left). Per trial it records the 150-vote regret of the
 * recommendation with reliability modelling off (the engine's own, and plain Bradley–Terry) and on (the engine refitted
 * without flagged annotators, and Bradley–Terry with reliabilities and the side term, quality/crowd-bt.ts), which
 * members are flagged, the fitted side term, and the Kendall tau of the fitted scores with the true utilities.
 *
 *   npm run bench:crowd -- [--trials 3] [--scenarios a,b] [--crowds good,mixed,adversarial,left] [--seed 1]
 *                          [--cache bench/cache/crowd] [--out bench/results/crowd.md] [--note text] [--report-only]
 *                          [--with-scales]
 *
 * --with-scales also runs, per trial, the served engine with the crowd fit's vote model in its likelihood (docs/decisions/
 * 0044, 0047, 0048: the crowd fit after every vote, each duel of a flagged member at its scale and every duel with the
 * side term when its interval excludes 0; simulateTrial's voteModel) on
 * the same draws, cached in --cache/scales, and adds its 150-vote regret against the engine's without (paired) to the report.
 *
 * Each finished trial is one JSON file in --cache, so runs resume and several processes (each with its own
 * --scenarios) can share the work; the report is rendered from the cache. It prints figures and never fails on them.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CROWDS, createCrowdAnnotator, crowdRecommendations, kendallTau } from "../bandit/crowd";
import { simulateTrial } from "../bandit/simulate";
import { commaList, parseFlags, positiveInteger, validateFlags } from "./lib-sim/args";
import { meanAndStdErr } from "./lib-sim/paired";
import { loadScenario, regretScorer, scenarioFiles } from "./lib-sim/scenario-file";

const repoRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));
const VOTES = 150;
const SCALE = 10;
const REAL = (name: string) => name.startsWith("apohf_") || name.startsWith("slab_");
const USAGE =
  "npm run bench:crowd -- [--trials 3] [--scenarios a,b] [--crowds good,mixed,adversarial,left] [--seed 1] [--cache bench/cache/crowd] [--out bench/results/crowd.md] [--note text] [--report-only] [--with-scales]";

const argsSchema = z.strictObject({
  trials: positiveInteger("--trials").default(3),
  scenarios: commaList.optional(),
  crowds: commaList
    .default(Object.keys(CROWDS))
    .refine((names) => names.every((name) => name in CROWDS), { message: `lists an unknown crowd (known: ${Object.keys(CROWDS).join(", ")})` }),
  seed: z.coerce.number().int().default(1),
  cache: z.string().default(join(repoRoot, "bench/cache/crowd")),
  out: z.string().default(join(repoRoot, "bench/results/crowd.md")),
  note: z.string().optional(),
  "report-only": z.literal(true).optional(),
  "with-scales": z.literal(true).optional(),
});
type Args = z.infer<typeof argsSchema>;

const RECOMMENDERS = ["engine", "engineReliable", "bradleyTerry", "crowdBradleyTerry", "oracleBradleyTerry"] as const;
type Recommender = (typeof RECOMMENDERS)[number];
const LABEL: Record<Recommender, string> = {
  engine: "engine (off)",
  engineReliable: "engine, flagged dropped (on)",
  bradleyTerry: "BT (off)",
  crowdBradleyTerry: "crowd BT (on)",
  oracleBradleyTerry: "oracle BT",
};

interface TrialFile {
  crowd: string;
  scenario: string;
  trial: number;
  seed: number;
  regret: Record<Recommender, number>;
  recommended: Record<Recommender, number>;
  /** Members with votes, by kind (scale), and how many of them were flagged / reversed. */
  members: { scale: number; side: number; votes: number; reliability: number; flagged: boolean; reversed: boolean }[];
  side: number;
  sideStdErr: number;
  /** Kendall tau with the true utilities over the arms with at least 2 votes: plain BT and crowd BT. */
  tau: { plain: number; crowd: number };
  /** The served engine's regret after each vote (1..150): the good crowd's curve gives the clean-votes bound (absent in old caches). */
  regretCurve?: number[];
  seconds: number;
}

const trialPath = (args: Args, crowd: string, scenario: string, trial: number) =>
  join(args.cache, `${crowd}__${scenario}__${args.seed}__${trial}.json`);

function runTrial(args: Args, crowdName: string, scenarioName: string, path: string, trial: number): TrialFile {
  const scenario = loadScenario(path);
  const crowd = CROWDS[crowdName]!;
  const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, args.seed, trial);
  const utility = scenario.utility;
  const regretOf = regretScorer(utility);
  const started = Date.now();
  let file: TrialFile | undefined;
  const regretCurve: number[] = [];
  simulateTrial(
    scenario,
    {
      policy: "app",
      trials: 1,
      votes: VOTES,
      scale: SCALE,
      seed: args.seed,
      annotators: 1,
      annotate,
      // At the last vote (nothing is handed out after it): the recommendations, which refit the policy.
      onVote: ({ votes, regret, policy, history }) => {
        regretCurve.push(regret);
        if (votes < VOTES) return;
        // With one annotator at a time, vote v answers the pair handed out in round v.
        const result = crowdRecommendations(
          policy,
          utility.length,
          crowd.members.length,
          history.map((duel, v) => shownVote(duel, v)),
          crowd.members,
        );
        const voteCount = new Int32Array(utility.length);
        for (const { a, b } of history) {
          voteCount[a] = voteCount[a]! + 1;
          voteCount[b] = voteCount[b]! + 1;
        }
        const seen = Array.from({ length: utility.length }, (_, i) => i).filter((i) => voteCount[i]! >= 2);
        const recommended = Object.fromEntries(RECOMMENDERS.map((name) => [name, result[name]!])) as Record<Recommender, number>;
        file = {
          crowd: crowdName,
          scenario: scenarioName,
          trial,
          seed: args.seed,
          recommended,
          regret: Object.fromEntries(RECOMMENDERS.map((name) => [name, regretOf(recommended[name])])) as Record<Recommender, number>,
          members: crowd.members.map((member, k) => ({
            ...member,
            votes: result.flags[k]!.votes,
            reliability: result.flags[k]!.reliability,
            flagged: result.flags[k]!.flagged,
            reversed: result.flags[k]!.reversed,
          })),
          side: result.side,
          sideStdErr: result.sideStdErr,
          tau: { plain: kendallTau(result.scores.plain, utility, seen), crowd: kendallTau(result.scores.crowd, utility, seen) },
          regretCurve,
          seconds: 0,
        };
      },
    },
    trial,
  );
  if (!file) throw new Error("bench-crowd: the trial ended before its last vote");
  file.seconds = (Date.now() - started) / 1000;
  return file;
}

function simulateAll(args: Args): void {
  mkdirSync(args.cache, { recursive: true });
  const files = [...scenarioFiles(args.scenarios)].filter(([name]) => args.scenarios !== undefined || REAL(name));
  // Trial-major, so a run cut short has every crowd and scenario at the same number of trials.
  for (let trial = 0; trial < args.trials; trial++)
    for (const [name, path] of files)
      for (const crowd of args.crowds) {
        const out = trialPath(args, crowd, name, trial);
        if (!existsSync(out)) {
          const result = runTrial(args, crowd, name, path, trial);
          writeFileSync(out, JSON.stringify(result) + "\n");
          console.log(
            `${crowd} ${name} #${trial}: ${result.seconds.toFixed(0)} s, regret ` +
              RECOMMENDERS.map((r) => `${r} ${result.regret[r].toFixed(3)}`).join(", ") +
              `, side ${result.side.toFixed(2)}, flagged ${result.members.filter((m) => m.flagged).length}, load ${loadavg()[0]!.toFixed(1)}`,
          );
        }
        if (args["with-scales"]) runScaledArm(args, crowd, name, path, trial);
      }
}

const f3 = (value: number) => value.toFixed(3);
const pm = (values: number[]) => {
  const { mean, stdErr } = meanAndStdErr(values);
  return stdErr === null ? f3(mean) : `${f3(mean)} ± ${f3(stdErr)}`;
};

function report(args: Args): void {
  const records: TrialFile[] = existsSync(args.cache)
    ? readdirSync(args.cache)
        .filter((file) => file.endsWith(".json"))
        .map((file) => JSON.parse(readFileSync(join(args.cache, file), "utf8")) as TrialFile)
        .filter((record) => record.seed === args.seed)
    : [];
  const scenarios = [...new Set(records.map((r) => r.scenario))].sort();
  const crowds = Object.keys(CROWDS).filter((crowd) => records.some((r) => r.crowd === crowd));
  const get = (crowd: string, scenario: string) =>
    records.filter((r) => r.crowd === crowd && r.scenario === scenario).sort((x, y) => x.trial - y.trial);
  // Trials every crowd has, per scenario: paired comparisons use only those.
  const common = (scenario: string) => {
    const sets = crowds.map((crowd) => new Set(get(crowd, scenario).map((r) => r.trial)));
    return sets.length === 0 ? [] : [...sets[0]!].filter((t) => sets.every((set) => set.has(t))).sort((x, y) => x - y);
  };
  const regretOf = (crowd: string, scenario: string, recommender: Recommender, trials: number[]) =>
    // Trials cached before a recommender existed lack it (NaN: the mean says so).
    trials.map((t) => get(crowd, scenario).find((r) => r.trial === t)!.regret[recommender] ?? NaN);
  const lines: string[] = [];
  lines.push("# Mixed-crowd benchmark (issue 18): reliability modelling on and off", "");
  lines.push(
    `Generated by \`npm run bench:crowd\` (seed ${args.seed}, ${VOTES} votes, scale ${SCALE}, the served configuration \`app\`; Node ${process.version}, ${cpus().length} cores). Rendered at load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" / ")}.`,
    "",
  );
  lines.push("## Protocol actually run", "");
  lines.push(
    "- Bench protocol (shared/bench/README.md): standardised utilities times 10, 5 random warm-up pairs, then what a study serves (`app`, bandit/served.ts), one assignment open at a time, 150 votes.",
    "- Each vote is cast by a member drawn uniformly from a crowd of 10, on sides drawn at random as the app does (bandit/crowd.ts): " +
      Object.values(CROWDS)
        .map((crowd) => `**${crowd.name}**: ${crowd.description}`)
        .join("; ") +
      ".",
    "- Common random numbers: the member of round r and the win draw of (round, pair) depend only on (seed, trial, round, pair), so the `good` crowd is exactly the bench protocol's annotator and the crowds of a trial see the same draws (their paths differ once their answers do).",
    "- In the tables up to the oracles, reliability modelling is applied to the **recommendation only**, on the pairs the engine without it served (the section on the engine's likelihood, with --with-scales, puts it in the loop). At vote 150: **engine (off)** = the served engine's recommendation; **engine, flagged dropped (on)** = the same policy refitted on the votes with flagged annotators' votes left out and reversed annotators' votes flipped; **BT (off)** = argmax of plain Bradley–Terry (fitBradleyTerry's model and prior); **crowd BT (on)** = argmax of Bradley–Terry with a reliability per annotator and a side term (quality/crowd-bt.ts, docs/decisions/0037). Flagged = reliability's 95 % upper bound below 0.25 × the crowd's median; reversed = below 0.",
    "- Regret = (max u − u_rec) / (max u − mean u) at 150 votes. τ = Kendall's tau-a of fitted Bradley–Terry scores with the true utilities, over prompts with at least 2 votes.",
  );
  const counts = crowds.map((crowd) => `${crowd}: ${records.filter((r) => r.crowd === crowd).length} trials`).join(", ");
  lines.push(`- Trials found in the cache: ${counts}, over ${scenarios.length} scenarios (${scenarios.join(", ")}).`);
  const seconds = records.map((r) => r.seconds).sort((x, y) => x - y);
  if (seconds.length > 0)
    lines.push(
      `- Wall time per trial (nice -n 19, shared machine): median ${seconds[Math.floor(seconds.length / 2)]!.toFixed(0)} s, max ${seconds.at(-1)!.toFixed(0)} s.`,
    );
  if (args.note) lines.push(`- ${args.note}`);
  lines.push("");

  lines.push("## 150-vote regret per scenario", "", "Mean ± SE over the trials every crowd has on that scenario.", "");
  lines.push(
    `| scenario | trials | crowd | ${RECOMMENDERS.map((r) => LABEL[r]).join(" | ")} |`,
    `|---|---|---|${RECOMMENDERS.map(() => "---").join("|")}|`,
  );
  for (const scenario of scenarios) {
    const trials = common(scenario);
    if (trials.length === 0) continue;
    for (const crowd of crowds)
      lines.push(`| ${scenario} | ${trials.length} | ${crowd} | ${RECOMMENDERS.map((r) => pm(regretOf(crowd, scenario, r, trials))).join(" | ")} |`);
  }
  lines.push("");

  lines.push("## Mean over scenarios", "", "Per scenario the mean over its common trials, then the mean over scenarios.", "");
  const usable = scenarios.filter((scenario) => common(scenario).length > 0);
  const overScenarios = (crowd: string, recommender: Recommender) => {
    const means = usable.map((scenario) => {
      const values = regretOf(crowd, scenario, recommender, common(scenario));
      return values.reduce((sum, v) => sum + v, 0) / values.length;
    });
    return means.length === 0 ? NaN : means.reduce((sum, v) => sum + v, 0) / means.length;
  };
  lines.push(`| crowd | ${RECOMMENDERS.map((r) => LABEL[r]).join(" | ")} |`, `|---|${RECOMMENDERS.map(() => "---").join("|")}|`);
  for (const crowd of crowds) lines.push(`| ${crowd} | ${RECOMMENDERS.map((r) => f3(overScenarios(crowd, r))).join(" | ")} |`);
  lines.push("");

  lines.push("## Targets (issue 18)", "");
  const good = overScenarios("good", "engine");
  const targetLines: string[] = [];
  for (const crowd of ["mixed", "adversarial"].filter((c) => crowds.includes(c))) {
    const stated = new Set<Recommender>();
    for (const [on, off] of [
      ["crowdBradleyTerry", "engine"],
      ["engineReliable", "engine"],
      ["crowdBradleyTerry", "bradleyTerry"],
    ] as [Recommender, Recommender][]) {
      const within = overScenarios(crowd, on) <= 1.2 * good;
      const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
      const difference = (scenario: string) => {
        const t = common(scenario);
        return mean(regretOf(crowd, scenario, on, t)) - mean(regretOf(crowd, scenario, off, t));
      };
      const lowerEverywhere = usable.filter((scenario) => difference(scenario) < 0).length;
      const notHigher = usable.filter((scenario) => difference(scenario) <= 0).length;
      if (!stated.has(on))
        targetLines.push(
          `| ${crowd}: ${LABEL[on]} within 20 % of the good crowd's served regret (${f3(good)}) | ${f3(overScenarios(crowd, on))} (limit ${f3(1.2 * good)}) | ${within ? "met" : "**not met**"} |`,
        );
      stated.add(on);
      targetLines.push(
        `| ${crowd}: ${LABEL[on]} lower than ${LABEL[off]} on every scenario | lower on ${lowerEverywhere}, not higher on ${notHigher} of ${usable.length} (off: ${f3(overScenarios(crowd, off))}) | ${lowerEverywhere === usable.length && usable.length > 0 ? "met" : "**not met**"} |`,
      );
    }
  }
  const adversarialTrials = records.filter((r) => r.crowd === "adversarial");
  const withAdversaries = adversarialTrials.filter((r) => r.members.some((m) => m.scale < 0 && m.votes > 0));
  const allFlagged = withAdversaries.filter((r) => r.members.filter((m) => m.scale < 0 && m.votes > 0).every((m) => m.flagged));
  const adversaries = adversarialTrials.flatMap((r) => r.members.filter((m) => m.scale < 0 && m.votes > 0));
  const goodMembers = records
    .filter((r) => r.crowd === "adversarial" || r.crowd === "good")
    .flatMap((r) => r.members.filter((m) => m.scale === 10 && m.votes > 0));
  targetLines.push(
    `| adversarial annotators flagged in ≥ 95 % of trials by 150 votes | every adversary flagged in ${allFlagged.length} of ${withAdversaries.length} trials; ${adversaries.filter((m) => m.flagged).length} of ${adversaries.length} adversaries flagged (${adversaries.filter((m) => m.reversed).length} as reversed; median ${median(adversaries.map((m) => m.votes))} votes each); false flags among scale-10 members of the good and adversarial crowds: ${goodMembers.filter((m) => m.flagged).length} of ${goodMembers.length} | ${withAdversaries.length > 0 && allFlagged.length >= 0.95 * withAdversaries.length ? "met" : "**not met**"} |`,
  );
  if (crowds.includes("left") && crowds.includes("good")) {
    let matchEngine = 0;
    let matchCrowd = 0;
    let pairs = 0;
    for (const scenario of usable)
      for (const t of common(scenario)) {
        const left = get("left", scenario).find((r) => r.trial === t)!;
        const unbiased = get("good", scenario).find((r) => r.trial === t)!;
        pairs += 1;
        if (left.recommended.engine === unbiased.recommended.engine) matchEngine += 1;
        if (left.recommended.crowdBradleyTerry === unbiased.recommended.crowdBradleyTerry) matchCrowd += 1;
      }
    targetLines.push(
      `| the left-biased crowd's ranking matches the unbiased one's | recommendation equal to the good crowd's in the same trial: engine ${matchEngine} of ${pairs}, crowd BT ${matchCrowd} of ${pairs}; 150-vote regret left vs good: engine ${f3(overScenarios("left", "engine"))} vs ${f3(good)}, crowd BT ${f3(overScenarios("left", "crowdBradleyTerry"))} vs ${f3(overScenarios("good", "crowdBradleyTerry"))} | ${pairs > 0 && matchCrowd === pairs ? "met" : "**not met**"} |`,
    );
  }
  lines.push("| target | measured | |", "|---|---|---|", ...targetLines, "");

  if (crowds.includes("mixed") && crowds.includes("good")) {
    // Is the mixed-crowd target attainable at all? Two oracles that know each member's true scale.
    lines.push("## Is the mixed-crowd target attainable? (oracles)", "");
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
    // The clean-votes bound: an engine that sees only the scale-10 members' votes is the good crowd's engine after
    // as many votes as the mixed crowd's scale-10 members cast in the same trial (the member of each round is common).
    const cleanBound = (scenario: string) =>
      common(scenario).map((t) => {
        const mixed = get("mixed", scenario).find((r) => r.trial === t)!;
        const curve = get("good", scenario).find((r) => r.trial === t)!.regretCurve ?? [];
        const reliable = mixed.members.filter((m) => m.scale === SCALE).reduce((sum, m) => sum + m.votes, 0);
        return { regret: curve[reliable - 1] ?? NaN, reliable };
      });
    lines.push(
      "- **oracle BT** (recommendation only, on the votes the served engine collected): Bradley–Terry with each member's reliability fixed at its true scale / 10 (a random clicker's votes dropped, a careless member's weighed 0.1) and no side term (`oracleBradleyTerry`, bandit/crowd.ts).",
      "- **clean-votes bound** (in the loop): the served engine fed only the scale-10 members' votes, from the first vote; it equals the good crowd's engine after as many votes as the mixed crowd's scale-10 members cast in that trial (the member of each round is common to the crowds), i.e. its regret curve read at that vote.",
      "",
      "| scenario | trials | good: engine (off) | mixed: oracle BT | mixed: scale-10 votes (mean) | mixed: clean-votes bound |",
      "|---|---|---|---|---|---|",
    );
    for (const scenario of usable) {
      const trials = common(scenario);
      const bound = cleanBound(scenario);
      lines.push(
        `| ${scenario} | ${trials.length} | ${pm(regretOf("good", scenario, "engine", trials))} | ${pm(regretOf("mixed", scenario, "oracleBradleyTerry", trials))} | ${mean(bound.map((b) => b.reliable)).toFixed(1)} | ${pm(bound.map((b) => b.regret))} |`,
      );
    }
    const boundMean = mean(usable.map((scenario) => mean(cleanBound(scenario).map((b) => b.regret))));
    const oracleMean = overScenarios("mixed", "oracleBradleyTerry");
    lines.push(
      `| **mean over scenarios** | | ${f3(good)} | ${f3(oracleMean)} (${(oracleMean / good).toFixed(1)}× good) | | ${f3(boundMean)} (${(boundMean / good).toFixed(1)}× good) |`,
      "",
      `Limit of the target: 1.2 × ${f3(good)} = ${f3(1.2 * good)}. The oracle BT is ${oracleMean <= 1.2 * good ? "within" : "**above**"} it, the clean-votes bound ${boundMean <= 1.2 * good ? "within" : "**above**"} it.`,
      "",
    );
  }

  lines.push("## Reliability and side term", "");
  lines.push(
    "| crowd | member kind | members with votes | median votes | median fitted reliability | flagged | reversed |",
    "|---|---|---|---|---|---|---|",
  );
  for (const crowd of crowds) {
    const members = records.filter((r) => r.crowd === crowd).flatMap((r) => r.members.filter((m) => m.votes > 0));
    const kinds = [...new Set(members.map((m) => `${m.scale}/${m.side}`))];
    for (const kind of kinds) {
      const group = members.filter((m) => `${m.scale}/${m.side}` === kind);
      const [scale, side] = kind.split("/");
      lines.push(
        `| ${crowd} | scale ${scale}${side !== "0" ? `, side ${side}` : ""} | ${group.length} | ${median(group.map((m) => m.votes))} | ${median(group.map((m) => m.reliability)).toFixed(2)} | ${group.filter((m) => m.flagged).length} | ${group.filter((m) => m.reversed).length} |`,
      );
    }
  }
  lines.push("");
  lines.push("| crowd | fitted side term γ (mean ± SE over trials) | τ plain BT | τ crowd BT |", "|---|---|---|---|");
  for (const crowd of crowds) {
    const group = records.filter((r) => r.crowd === crowd);
    lines.push(`| ${crowd} | ${pm(group.map((r) => r.side))} | ${pm(group.map((r) => r.tau.plain))} | ${pm(group.map((r) => r.tau.crowd))} |`);
  }
  lines.push("");
  lines.push(...scalesSection(args, records));
  mkdirSync(resolve(args.out, ".."), { recursive: true });
  writeFileSync(args.out, lines.join("\n"));
  console.log(`wrote ${args.out} (${records.length} trials)`);
}

// ---- The engine with reliability scales (docs/decisions/0044, 0047): its own arm, cache folder and report section. ----

interface ScaledTrialFile {
  crowd: string;
  scenario: string;
  trial: number;
  seed: number;
  /** The served engine's 150-vote regret with the scales in its likelihood. */
  regret: number;
  regretCurve: number[];
  /** Each member's true scale and votes, and the scale the engine applied after the last vote. */
  members: { scale: number; side: number; votes: number; duelScale: number }[];
  /** The side term the engine applied after the last vote (ADR 0048; 0 when gamma's interval held 0). */
  sideTerm: number;
  seconds: number;
}

const scaledTrialPath = (args: Args, crowd: string, scenario: string, trial: number) =>
  join(args.cache, "scales", `${crowd}__${scenario}__${args.seed}__${trial}.json`);

/** Runs (unless cached) the trial of runTrial with the crowd fit's scales in the engine: the same draws, its own path. */
function runScaledArm(args: Args, crowdName: string, scenarioName: string, path: string, trial: number): void {
  const out = scaledTrialPath(args, crowdName, scenarioName, trial);
  if (existsSync(out)) return;
  mkdirSync(join(args.cache, "scales"), { recursive: true });
  const scenario = loadScenario(path);
  const crowd = CROWDS[crowdName]!;
  const { annotate, shownVote } = createCrowdAnnotator(scenario, crowd, args.seed, trial);
  const started = Date.now();
  const result = simulateTrial(
    scenario,
    {
      policy: "app",
      trials: 1,
      votes: VOTES,
      scale: SCALE,
      seed: args.seed,
      annotators: 1,
      annotate,
      voteModel: { annotatorCount: crowd.members.length, shownVote },
    },
    trial,
  );
  const votes = new Int32Array(crowd.members.length);
  result.history.forEach((duel, round) => {
    const member = shownVote(duel, round).annotator;
    votes[member] = votes[member]! + 1;
  });
  const file: ScaledTrialFile = {
    crowd: crowdName,
    scenario: scenarioName,
    trial,
    seed: args.seed,
    regret: result.regret[VOTES - 1]!,
    regretCurve: Array.from(result.regret),
    members: crowd.members.map((member, k) => ({ ...member, votes: votes[k]!, duelScale: result.annotatorScales![k]! })),
    sideTerm: result.sideTerm!,
    seconds: (Date.now() - started) / 1000,
  };
  writeFileSync(out, JSON.stringify(file) + "\n");
  console.log(
    `${crowdName} ${scenarioName} #${trial} with scales: ${file.seconds.toFixed(0)} s, regret ${file.regret.toFixed(3)}, load ${loadavg()[0]!.toFixed(1)}`,
  );
}

/** The report's section on the scaled arm: per crowd the paired 150-vote regret off and on, per scenario and overall. */
function scalesSection(args: Args, records: readonly TrialFile[]): string[] {
  const folder = join(args.cache, "scales");
  const scaled: ScaledTrialFile[] = existsSync(folder)
    ? readdirSync(folder)
        .filter((file) => file.endsWith(".json"))
        .map((file) => JSON.parse(readFileSync(join(folder, file), "utf8")) as ScaledTrialFile)
        .filter((record) => record.seed === args.seed)
    : [];
  if (scaled.length === 0) return [];
  const pairs = scaled.flatMap((on) => {
    const off = records.find((r) => r.crowd === on.crowd && r.scenario === on.scenario && r.trial === on.trial);
    return off ? [{ on, off }] : [];
  });
  const crowds = Object.keys(CROWDS).filter((crowd) => pairs.some((pair) => pair.on.crowd === crowd));
  const scenarios = [...new Set(pairs.map((pair) => pair.on.scenario))].sort();
  const lines = [
    "## The crowd fit's vote model in the engine's likelihood (docs/decisions/0044, 0047, 0048)",
    "",
    "- **served, scales off** = the served engine as above (engine (off)); **served, scales on** = the same trial (same draws) with the crowd model fitted after every vote as the app fits it (quality/duel-scales.ts `fitVoteModel`: the mirrored restart, the flags on joint standard errors) and every duel of member k with a shown on side s (+1 left, −1 right) entering the engine's likelihood as P(a beats b) = σ(c_k (u_a − u_b) + s γ), c_k = 1 unless k is flagged, else clamp(β_k / median positive β, −1, 1) (ADR 0047), γ = the fitted side term when its 95 % interval excludes 0, else 0 (ADR 0048), past duels included, before the refit: what the app's engine does at its next refit after each stored fit, with the engine caught up. The pairs served differ once the scales do.",
    "- Paired difference = on − off per trial (same scenario, same trial index); per crowd the mean over all its paired trials ± the SE of that mean (sample deviation / √n). Negative = the scales help. Scenarios lower / not higher: per scenario the mean difference over its trials.",
    `- Paired trials: ${crowds.map((crowd) => `${crowd} ${pairs.filter((pair) => pair.on.crowd === crowd).length}`).join(", ")}, over ${scenarios.length} scenarios.`,
    "",
    "| crowd | scenarios | trials | served, scales off | served, scales on | on − off (± SE) | scenarios lower / not higher |",
    "|---|---|---|---|---|---|---|",
  ];
  const perScenario: string[] = ["| scenario | crowd | trials | scales off | scales on | on − off |", "|---|---|---|---|---|---|"];
  for (const crowd of crowds) {
    let scenarioCount = 0;
    let lower = 0;
    let notHigher = 0;
    for (const scenario of scenarios) {
      const cell = pairs.filter((pair) => pair.on.crowd === crowd && pair.on.scenario === scenario).sort((x, y) => x.on.trial - y.on.trial);
      if (cell.length === 0) continue;
      scenarioCount += 1;
      const on = cell.map((pair) => pair.on.regret);
      const off = cell.map((pair) => pair.off.regret.engine);
      const difference = meanAndStdErr(on.map((value, t) => value - off[t]!));
      if (difference.mean < 0) lower += 1;
      if (difference.mean <= 0) notHigher += 1;
      perScenario.push(`| ${scenario} | ${crowd} | ${cell.length} | ${pm(off)} | ${pm(on)} | ${pm(on.map((value, t) => value - off[t]!))} |`);
    }
    const all = pairs.filter((pair) => pair.on.crowd === crowd);
    const on = all.map((pair) => pair.on.regret);
    const off = all.map((pair) => pair.off.regret.engine);
    lines.push(
      `| ${crowd} | ${scenarioCount} | ${all.length} | ${pm(off)} | ${pm(on)} | ${pm(on.map((value, t) => value - off[t]!))} | ${lower} / ${notHigher} of ${scenarioCount} |`,
    );
  }
  lines.push("", "Per scenario (mean ± SE over its paired trials):", "", ...perScenario, "");
  lines.push(
    "| crowd | member kind | members with votes | median votes | median scale applied after vote 150 | with scale < 0.9 | with scale < 0 |",
    "|---|---|---|---|---|---|---|",
  );
  for (const crowd of crowds) {
    const members = scaled.filter((r) => r.crowd === crowd).flatMap((r) => r.members.filter((m) => m.votes > 0));
    for (const kind of [...new Set(members.map((m) => `${m.scale}/${m.side}`))]) {
      const group = members.filter((m) => `${m.scale}/${m.side}` === kind);
      const [scale, side] = kind.split("/");
      lines.push(
        `| ${crowd} | scale ${scale}${side !== "0" ? `, side ${side}` : ""} | ${group.length} | ${median(group.map((m) => m.votes))} | ${median(group.map((m) => m.duelScale)).toFixed(2)} | ${group.filter((m) => m.duelScale < 0.9).length} of ${group.length} | ${group.filter((m) => m.duelScale < 0).length} of ${group.length} |`,
      );
    }
  }
  lines.push("", "| crowd | trials | side term applied after vote 150 (mean ± SE) | trials with a side term |", "|---|---|---|---|");
  for (const crowd of crowds) {
    const sideTerms = scaled.filter((r) => r.crowd === crowd && r.sideTerm !== undefined).map((r) => r.sideTerm);
    if (sideTerms.length === 0) continue;
    lines.push(`| ${crowd} | ${sideTerms.length} | ${pm(sideTerms)} | ${sideTerms.filter((value) => value !== 0).length} of ${sideTerms.length} |`);
  }
  const seconds = scaled.map((r) => r.seconds).sort((x, y) => x - y);
  lines.push(
    "",
    `Wall time per scaled trial: median ${seconds[Math.floor(seconds.length / 2)]!.toFixed(0)} s, max ${seconds.at(-1)!.toFixed(0)} s.`,
    "",
  );
  return lines;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function main(): void {
  const args = validateFlags(argsSchema, parseFlags(process.argv.slice(2)), USAGE);
  if (!args["report-only"]) simulateAll(args);
  report(args);
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
