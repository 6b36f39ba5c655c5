import { sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";

type Database = BaseSQLiteDatabase<"sync", unknown, Record<string, unknown>>;

/** One vote as the reliability fit reads it: who cast it, the prompts shown left and right, and the outcome for the left. */
export interface ShownVote {
  annotatorId: number;
  leftPromptId: number;
  rightPromptId: number;
  /** 1 = the left response won, 0 = the right one, 0.5 = a tie or both bad. */
  leftOutcome: 1 | 0 | 0.5;
}

/**
 * The latest `limit` decided votes of the study (not skips), oriented as they were shown (left prompt first), newest
 * first, whether the annotator is excluded or not (the fit shows the reliability of an excluded annotator too). One row
 * per vote: O(limit). The quality page fits quality/crowd-bt.ts on them.
 */
export function shownVotes(db: Database, studyId: number, limit: number): ShownVote[] {
  return db.all<ShownVote>(sql`
    select v.annotator_id as annotatorId,
      case when a.left_is_a = 1 then a.prompt_a_id else a.prompt_b_id end as leftPromptId,
      case when a.left_is_a = 1 then a.prompt_b_id else a.prompt_a_id end as rightPromptId,
      case v.choice when 'left' then 1 when 'right' then 0 else 0.5 end as leftOutcome
    from votes v join assignments a on a.id = v.assignment_id
    where v.study_id = ${studyId} and v.choice <> 'skip'
    order by v.id desc limit ${limit}`);
}
