import { sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";

// Human–judge agreement (issue 17 §4; ADR 0032): the items both judged, as SQL aggregates. An item is a (query,
// unordered prompt pair), labelled as in db/annotator-quality.ts: 0 = the lower-id prompt won, 1 = the higher-id
// prompt won, 2 = a draw (tie or both bad). The judge's label is its verdict (a = the lower id, as judge_verdicts
// stores it); a human's is their latest non-skip vote on the item. Only humans whose votes count (not excluded) are
// compared, each once per item: one observation per (human, item).

type Database = BaseSQLiteDatabase<"sync", unknown, Record<string, unknown>>;

export interface JudgeAgreementCell {
  queryId: number;
  low: number;
  high: number;
  judgeLabel: number;
  humanLabel: number;
  /** Humans who gave humanLabel on this item. */
  humans: number;
}

/** Per item both judged: how many counted humans gave each label, next to the judge's. Cost: one pass over the study's votes. */
export function judgeAgreementCells(db: Database, studyId: number): JudgeAgreementCell[] {
  return db.all<JudgeAgreementCell>(sql`
    with labelled as (
      select v.annotator_id, a.query_id, min(a.prompt_a_id, a.prompt_b_id) as low, max(a.prompt_a_id, a.prompt_b_id) as high,
        case when v.choice in ('tie', 'both_bad') then 2
          when (v.choice = 'left') = ((a.left_is_a = 1) = (a.prompt_a_id < a.prompt_b_id)) then 0 else 1 end as label,
        row_number() over (partition by v.annotator_id, a.query_id, min(a.prompt_a_id, a.prompt_b_id), max(a.prompt_a_id, a.prompt_b_id) order by v.id desc) as recency
      from votes v
      join assignments a on a.id = v.assignment_id
      join annotators u on u.id = v.annotator_id and u.kind = 'human'
      where v.study_id = ${studyId} and v.choice <> 'skip'
        and not exists (select 1 from study_annotators x where x.study_id = ${studyId} and x.annotator_id = v.annotator_id and x.excluded_at is not null)
    )
    select l.query_id as queryId, l.low as low, l.high as high,
      case j.winner when 'a' then 0 when 'b' then 1 else 2 end as judgeLabel, l.label as humanLabel, count(*) as humans
    from labelled l
    join judge_verdicts j on j.study_id = ${studyId} and j.query_id = l.query_id and j.prompt_a_id = l.low and j.prompt_b_id = l.high
    where l.recency = 1
    group by l.query_id, l.low, l.high, l.label
    order by l.query_id, l.low, l.high, l.label`);
}

/** The judge's verdicts in the study: how many, how many with the orders disagreeing; and what its batches cost (unreadable answers included). */
export function judgeVerdictTotals(db: Database, studyId: number): { verdicts: number; positionBias: number; costUsd: number } {
  return (
    db.get<{ verdicts: number; positionBias: number; costUsd: number }>(sql`
      select count(*) as verdicts, coalesce(sum(position_bias), 0) as positionBias,
        (select coalesce(sum(cost_usd), 0) from judge_batches where study_id = ${studyId}) as costUsd
      from judge_verdicts where study_id = ${studyId}`) ?? { verdicts: 0, positionBias: 0, costUsd: 0 }
  );
}
