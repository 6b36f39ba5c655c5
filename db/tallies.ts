import { sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";

// Adds imported votes to the vote tallies (db/schema.ts) in bulk: the insert trigger skips votes with
// an origin (migrations/0008), and an import adds its votes here with one upsert per prompt, prompt
// pair and annotator instead of three per vote. Same rule as the trigger: a vote's side resolves to
// its prompts through the assignment's left_is_a, skips count only for the annotator, and the votes of
// an annotator the owner excluded count for the annotator only (migrations/0011).

const NOT_EXCLUDED = sql.raw(
  "not exists (select 1 from study_annotators x where x.study_id = v.study_id and x.annotator_id = v.annotator_id and x.excluded_at is not null)",
);

type Database = BaseSQLiteDatabase<"sync", unknown, Record<string, unknown>>;

/** Adds the study's imported votes with ids above `afterVoteId` to its tallies. Run it in the transaction that inserted them. */
export function tallyImportedVotes(db: Database, studyId: number, afterVoteId: number): void {
  db.run(sql`
    insert into prompt_tallies (prompt_id, study_id, wins, losses, ties, both_bad)
    select side.prompt_id, ${studyId}, sum(side.choice = side.shown), sum(side.choice in ('left', 'right') and side.choice <> side.shown),
      sum(side.choice = 'tie'), sum(side.choice = 'both_bad')
    from (
      select a.prompt_a_id as prompt_id, v.choice, case when a.left_is_a then 'left' else 'right' end as shown
        from votes v join assignments a on a.id = v.assignment_id
        where v.study_id = ${studyId} and v.id > ${afterVoteId} and v.origin is not null and v.choice <> 'skip' and ${NOT_EXCLUDED}
      union all
      select a.prompt_b_id, v.choice, case when a.left_is_a then 'right' else 'left' end
        from votes v join assignments a on a.id = v.assignment_id
        where v.study_id = ${studyId} and v.id > ${afterVoteId} and v.origin is not null and v.choice <> 'skip' and ${NOT_EXCLUDED}
    ) as side
    group by side.prompt_id
    on conflict (prompt_id) do update set wins = wins + excluded.wins, losses = losses + excluded.losses,
      ties = ties + excluded.ties, both_bad = both_bad + excluded.both_bad`);
  db.run(sql`
    insert into pair_tallies (low_prompt_id, high_prompt_id, low_wins, high_wins, draws)
    select min(a.prompt_a_id, a.prompt_b_id) as low, max(a.prompt_a_id, a.prompt_b_id) as high,
      sum(v.choice = case when (a.prompt_a_id < a.prompt_b_id) = (a.left_is_a = 1) then 'left' else 'right' end),
      sum(v.choice = case when (a.prompt_a_id < a.prompt_b_id) = (a.left_is_a = 1) then 'right' else 'left' end),
      sum(v.choice in ('tie', 'both_bad'))
    from votes v join assignments a on a.id = v.assignment_id
    where v.study_id = ${studyId} and v.id > ${afterVoteId} and v.origin is not null and v.choice <> 'skip' and ${NOT_EXCLUDED}
    group by low, high
    on conflict (low_prompt_id, high_prompt_id) do update set low_wins = low_wins + excluded.low_wins,
      high_wins = high_wins + excluded.high_wins, draws = draws + excluded.draws`);
  db.run(sql`
    insert into annotator_tallies (study_id, annotator_id, votes, skips, latency_sum_ms, latency_count)
    select ${studyId}, annotator_id, count(*), sum(choice = 'skip'), coalesce(sum(latency_ms), 0), count(latency_ms)
    from votes where study_id = ${studyId} and id > ${afterVoteId} and origin is not null
    group by annotator_id
    on conflict (study_id, annotator_id) do update set votes = votes + excluded.votes, skips = skips + excluded.skips,
      latency_sum_ms = latency_sum_ms + excluded.latency_sum_ms, latency_count = latency_count + excluded.latency_count`);
}
