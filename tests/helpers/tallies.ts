import { voteDuel } from "../../app/models/vote-duel";
import type { DB } from "../../db/client";
import type { VoteChoice } from "../../db/schema";

// The vote tallies recomputed from the votes, and as stored (db/tallies.test.ts, the import tests):
// they must always be equal.

export interface Tallies {
  prompts: Record<number, { wins: number; losses: number; ties: number; bothBad: number }>;
  pairs: Record<string, { lowWins: number; highWins: number; draws: number }>;
  annotators: Record<string, { votes: number; skips: number; latencySumMs: number; latencyCount: number }>;
}

/** Votes an import has published (ADR 0036); every vote on a schema from before imports wrote in chunks (migrations/0016). */
function published(db: DB): string {
  const chunked = db.$client.prepare("select 1 from pragma_table_info('votes') where name = 'import_job_id'").get();
  return chunked ? "(v.import_job_id is null or v.import_job_id not in (select job_id from pending_imports))" : "true";
}

/** Whether an assignment's vote enters the prompt and pair tallies: audits do not (ADR 0034); every one before migrations/0017. */
function countedAssignment(db: DB): string {
  const audits = db.$client.prepare("select 1 from pragma_table_info('assignments') where name = 'purpose'").get();
  return audits ? "a.purpose <> 'audit'" : "1";
}

/** The tallies recomputed from the (published) votes with the app's own rule (voteDuel); audits count only for their annotator. */
export function recount(db: DB): Tallies {
  const rows = db.$client
    .prepare(
      `select v.study_id as studyId, v.annotator_id as annotatorId, v.choice, v.latency_ms as latencyMs, a.prompt_a_id as promptAId, a.prompt_b_id as promptBId, a.left_is_a as leftIsA,
         ${countedAssignment(db)} as counted,
         exists (select 1 from sqlite_master where type = 'table' and name = 'study_annotators')
           and exists (select 1 from pragma_table_info('study_annotators') where name = 'excluded_at') as exclusionKnown
       from votes v join assignments a on a.id = v.assignment_id
       where ${published(db)}`,
    )
    .all() as {
    studyId: number;
    annotatorId: number;
    choice: VoteChoice;
    latencyMs: number | null;
    promptAId: number;
    promptBId: number;
    leftIsA: number;
    counted: number;
    exclusionKnown: number;
  }[];
  const excluded = new Set(
    rows[0]?.exclusionKnown
      ? (
          db.$client.prepare("select study_id as studyId, annotator_id as annotatorId from study_annotators where excluded_at is not null").all() as {
            studyId: number;
            annotatorId: number;
          }[]
        ).map((row) => `${row.studyId}:${row.annotatorId}`)
      : [],
  );
  const tallies: Tallies = { prompts: {}, pairs: {}, annotators: {} };
  for (const row of rows) {
    const annotator = (tallies.annotators[`${row.studyId}:${row.annotatorId}`] ??= { votes: 0, skips: 0, latencySumMs: 0, latencyCount: 0 });
    annotator.votes++;
    if (row.choice === "skip") annotator.skips++;
    if (row.latencyMs !== null) {
      annotator.latencySumMs += row.latencyMs;
      annotator.latencyCount++;
    }
    const duel = voteDuel({ ...row, leftIsA: row.leftIsA === 1 });
    if (!duel || !row.counted || excluded.has(`${row.studyId}:${row.annotatorId}`)) continue;
    for (const [promptId, score] of [
      [duel.left, duel.outcome],
      [duel.right, 1 - duel.outcome],
    ] as const) {
      const prompt = (tallies.prompts[promptId] ??= { wins: 0, losses: 0, ties: 0, bothBad: 0 });
      if (row.choice === "tie") prompt.ties++;
      else if (row.choice === "both_bad") prompt.bothBad++;
      else if (score === 1) prompt.wins++;
      else prompt.losses++;
    }
    const [low, high] = duel.left < duel.right ? [duel.left, duel.right] : [duel.right, duel.left];
    const pair = (tallies.pairs[`${low}:${high}`] ??= { lowWins: 0, highWins: 0, draws: 0 });
    if (duel.outcome === 0.5) pair.draws++;
    else if ((duel.outcome === 1) === (duel.left === low)) pair.lowWins++;
    else pair.highWins++;
  }
  return tallies;
}

/** The tallies as stored, rows that count nothing left out. */
export function stored(db: DB): Tallies {
  const tallies: Tallies = { prompts: {}, pairs: {}, annotators: {} };
  // An unpublished import's tallies are its staging study's (ADR 0036): no visible study's.
  const staging = new Set(
    db.$client.prepare("select 1 from sqlite_master where type = 'table' and name = 'pending_imports'").get()
      ? (db.$client.prepare("select staging_study_id from pending_imports").pluck().all() as number[])
      : [],
  );
  const stagedPrompts = new Set(
    staging.size === 0
      ? []
      : (db.$client
          .prepare(`select id from prompts where study_id in (${[...staging].join(",")})`)
          .pluck()
          .all() as number[]),
  );
  for (const row of db.$client.prepare("select prompt_id as promptId, wins, losses, ties, both_bad as bothBad from prompt_tallies").all() as {
    promptId: number;
    wins: number;
    losses: number;
    ties: number;
    bothBad: number;
  }[]) {
    const { promptId, ...counts } = row;
    if (stagedPrompts.has(promptId)) continue;
    if (Object.values(counts).some((n) => n !== 0)) tallies.prompts[promptId] = counts;
  }
  for (const row of db.$client
    .prepare("select low_prompt_id as low, high_prompt_id as high, low_wins as lowWins, high_wins as highWins, draws from pair_tallies")
    .all() as {
    low: number;
    high: number;
    lowWins: number;
    highWins: number;
    draws: number;
  }[]) {
    const { low, high, ...counts } = row;
    if (stagedPrompts.has(low) || stagedPrompts.has(high)) continue;
    if (Object.values(counts).some((n) => n !== 0)) tallies.pairs[`${low}:${high}`] = counts;
  }
  for (const row of db.$client
    .prepare(
      "select study_id as studyId, annotator_id as annotatorId, votes, skips, latency_sum_ms as latencySumMs, latency_count as latencyCount from annotator_tallies",
    )
    .all() as { studyId: number; annotatorId: number; votes: number; skips: number; latencySumMs: number; latencyCount: number }[]) {
    const { studyId, annotatorId, ...counts } = row;
    if (staging.has(studyId)) continue;
    if (counts.votes !== 0) tallies.annotators[`${studyId}:${annotatorId}`] = counts;
  }
  return tallies;
}
