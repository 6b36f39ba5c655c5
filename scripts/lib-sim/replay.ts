/**
 * Replay of a logged study (issue 6):
 *   npm run simulate -- --replay <raw.jsonl> --policy <name> [--seed 1] [--samples 200]
 * Fits a policy on the votes of a raw JSONL log (the export's format) and reports how it ranks the
 * prompts, what it would have recommended after the first 25, 50, 100, … votes, and the
 * policy-independent Bradley–Terry leaderboard of the same votes for comparison.
 *
 * Mapping, the same as the app's engine: one arm per prompt (ordered by prompt id), features from
 * the offline lexical embedder (the log carries texts, not provider embeddings); each vote is a duel
 * with `a` = the prompt shown on the left, outcome 1 / 0 for left / right, 0.5 for tie and both bad;
 * skips carry no preference and are left out.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { computeLeaderboard } from "../../bandit/leaderboard";
import { embedText } from "../../bandit/lexical-embedding";
import { createPolicy, isPolicyName, POLICY_NAMES } from "../../bandit/policy";
import type { Duel, PolicyName } from "../../bandit/policy";
import { deriveSeed, mulberry32 } from "../../bandit/random";
import { capErrors, parseRawLog } from "../../app/export/raw-log-schema.server";
import { voteDuel, type ShownPair } from "../../app/models/vote-duel";
import { parseFlags, positiveInteger, validateFlags } from "./args";

export const REPLAY_USAGE = "npm run simulate -- --replay <raw.jsonl> --policy <name> [--seed 1] [--samples 200]";

export const replayArgsSchema = z.strictObject({
  replay: z.string({ error: "needs the path of a raw JSONL log" }),
  policy: z
    .string({ error: "is required" })
    .refine(isPolicyName, { message: `must be one of ${POLICY_NAMES.join(", ")}, default` })
    .transform((name) => name),
  seed: z.coerce.number({ error: "--seed must be a number" }).int("--seed must be an integer").default(1),
  samples: positiveInteger("--samples").default(200),
});

export interface LoggedPrompt {
  id: number;
  text: string;
}

export interface ReplayData {
  studyName: string;
  /** Arms in order of prompt id; a duel's a/b index into this list. */
  prompts: LoggedPrompt[];
  /** Votes with a preference (skips left out), in the order of the log. */
  duels: Duel[];
  skips: number;
}

/**
 * Parses a raw JSONL log into arms and duels. Throws one error listing every invalid line (by line
 * number), or if the log mixes studies or has fewer than two prompts.
 */
export function parseReplayLog(text: string): ReplayData {
  const parsed = parseRawLog(text);
  const errors = [...parsed.errors];
  const votes: ShownPair[] = [];
  const texts = new Map<number, string>();
  let study: { id: number; name: string } | null = null;
  for (const { line, record } of parsed.records) {
    study ??= { id: record.study_id, name: record.study_name };
    if (record.study_id !== study.id) errors.push(`line ${line}: study_id ${record.study_id} differs from ${study.id}; replay one study at a time`);
    texts.set(record.prompt_a_id, record.prompt_a_text);
    texts.set(record.prompt_b_id, record.prompt_b_text);
    votes.push({ promptAId: record.prompt_a_id, promptBId: record.prompt_b_id, leftIsA: record.prompt_a_side === "left", choice: record.choice });
  }
  if (errors.length > 0) throw new Error(`invalid replay log:\n${capErrors(errors).join("\n")}`);
  if (texts.size < 2) throw new Error("parseReplayLog requires a log with votes on at least two prompts");
  const prompts = [...texts.entries()].sort(([x], [y]) => x - y).map(([id, promptText]) => ({ id, text: promptText }));
  const armOf = new Map(prompts.map((prompt, arm) => [prompt.id, arm]));
  const duels: Duel[] = [];
  let skips = 0;
  for (const vote of votes) {
    const duel = voteDuel(vote);
    if (!duel) {
      skips++;
      continue;
    }
    duels.push({ a: armOf.get(duel.left)!, b: armOf.get(duel.right)!, outcome: duel.outcome });
  }
  return { studyName: study!.name, prompts, duels, skips };
}

export interface ReplayRanking {
  promptId: number;
  text: string;
  utility: number;
  uncertainty: number;
  btScore: number;
  btLower: number;
  btUpper: number;
  probabilityBest: number;
  wins: number;
  losses: number;
  ties: number;
}

export interface ReplayReport {
  studyName: string;
  policy: string;
  votes: number;
  skips: number;
  /** Policy ranking after all votes, best first. */
  ranking: ReplayRanking[];
  /** Recommended prompt id after the first n votes. */
  recommendations: { votes: number; promptId: number }[];
  btBestPromptId: number;
}

const CHECKPOINTS = [25, 50, 100, 200, 500, 1000];

/**
 * Fits `policy` on the logged duels (after the first n of them for each checkpoint, then all) and
 * ranks the prompts by its utility; adds the Bradley–Terry leaderboard with `samples` bootstrap refits.
 * Cost: one policy fit per checkpoint plus the bootstrap. Throws if the log has no duels.
 */
export function replay(data: ReplayData, options: { policy: PolicyName | "default"; seed: number; samples: number }): ReplayReport {
  if (data.duels.length === 0) throw new Error("replay requires at least one vote that is not a skip");
  const features = data.prompts.map((prompt) => embedText(prompt.text));
  const policy = createPolicy(options.policy, { features, random: mulberry32(deriveSeed(options.seed, 0)) });
  const recommendations: ReplayReport["recommendations"] = [];
  for (const votes of [...CHECKPOINTS.filter((n) => n < data.duels.length), data.duels.length]) {
    policy.fit(data.duels.slice(0, votes));
    recommendations.push({ votes, promptId: data.prompts[policy.recommend()]!.id });
  }
  const utilities = policy.utilities();
  const uncertainties = policy.uncertainties();
  const leaderboard = computeLeaderboard(data.prompts.length, data.duels, {
    random: mulberry32(deriveSeed(options.seed, 1)),
    samples: options.samples,
  });
  const btByArm = new Map(leaderboard.rows.map((row) => [row.arm, row]));
  const ranking = data.prompts
    .map((prompt, arm) => {
      const bt = btByArm.get(arm)!;
      return {
        promptId: prompt.id,
        text: prompt.text,
        utility: utilities[arm]!,
        uncertainty: uncertainties[arm]!,
        btScore: bt.score,
        btLower: bt.lower,
        btUpper: bt.upper,
        probabilityBest: bt.probabilityBest,
        wins: bt.wins,
        losses: bt.losses,
        ties: bt.ties,
      };
    })
    .sort((x, y) => y.utility - x.utility || x.promptId - y.promptId);
  return {
    studyName: data.studyName,
    policy: policy.name,
    votes: data.duels.length,
    skips: data.skips,
    ranking,
    recommendations,
    btBestPromptId: data.prompts[leaderboard.rows[0]!.arm]!.id,
  };
}

/** The report as a terminal table. */
export function formatReplayReport(report: ReplayReport): string {
  const shorten = (text: string) => {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > 60 ? `${flat.slice(0, 59)}…` : flat;
  };
  const lines = [
    `${report.studyName} · replay of ${report.votes} votes (${report.skips} skips left out) · policy ${report.policy}`,
    "",
    "rank  prompt  utility ± sigma     BT score [95% interval]   P(best)   W/L/T        text",
  ];
  report.ranking.forEach((row, rank) => {
    lines.push(
      [
        String(rank + 1).padStart(4),
        String(row.promptId).padStart(7),
        `${row.utility.toFixed(3).padStart(8)} ± ${row.uncertainty.toFixed(3).padEnd(6)}`,
        `${row.btScore.toFixed(2).padStart(6)} [${row.btLower.toFixed(2)}, ${row.btUpper.toFixed(2)}]`.padEnd(25),
        `${(row.probabilityBest * 100).toFixed(0).padStart(5)}%`,
        `  ${row.wins}/${row.losses}/${row.ties}`.padEnd(12),
        shorten(row.text),
      ].join("  "),
    );
  });
  lines.push("", `recommended after n votes: ${report.recommendations.map((r) => `${r.votes} → prompt ${r.promptId}`).join(", ")}`);
  const final = report.recommendations.at(-1)!.promptId;
  lines.push(`Bradley–Terry best: prompt ${report.btBestPromptId} (${final === report.btBestPromptId ? "agrees with" : "differs from"} the policy)`);
  return lines.join("\n");
}

/** The `--replay` branch of the simulate CLI: validates flags, reads the log, prints the report. */
export function runReplayCli(argv: readonly string[]): void {
  const args = validateFlags(replayArgsSchema, parseFlags(argv), REPLAY_USAGE);
  let text: string;
  try {
    text = readFileSync(args.replay, "utf8");
  } catch (error) {
    throw new Error(`cannot read replay log ${args.replay}: ${(error as Error).message}`);
  }
  const report = replay(parseReplayLog(text), { policy: args.policy, seed: args.seed, samples: args.samples });
  console.log(formatReplayReport(report));
}
