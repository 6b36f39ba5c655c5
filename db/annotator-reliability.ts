import { sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { votePublishedAs, type ReliabilityFitResult } from "./schema";

type Database = BaseSQLiteDatabase<"sync", unknown, Record<string, unknown>>;

/** One vote as the reliability fit reads it: who cast it, the prompts shown left and right, and the outcome for the left. */
export interface ShownVote {
  id: number;
  annotatorId: number;
  leftPromptId: number;
  rightPromptId: number;
  /** 1 = the left response won, 0 = the right one, 0.5 = a tie or both bad. */
  leftOutcome: 1 | 0 | 0.5;
}

/**
 * The latest `limit` decided votes of the study that count (not skips, not audits, not by an excluded annotator,
 * published: the votes of the leaderboard and the engine, ADR 0025 and 0034), oriented as they were shown (left prompt
 * first), newest first. One row per vote: O(limit). The reliability thread fits quality/crowd-bt.ts on them.
 */
export function shownVotes(db: Database, studyId: number, limit: number): ShownVote[] {
  return db.all<ShownVote>(sql`
    select v.id as id, v.annotator_id as annotatorId,
      case when a.left_is_a = 1 then a.prompt_a_id else a.prompt_b_id end as leftPromptId,
      case when a.left_is_a = 1 then a.prompt_b_id else a.prompt_a_id end as rightPromptId,
      case v.choice when 'left' then 1 when 'right' then 0 else 0.5 end as leftOutcome
    from votes v join assignments a on a.id = v.assignment_id
    where v.study_id = ${studyId} and v.choice <> 'skip' and a.purpose <> 'audit' and ${votePublishedAs("v")}
      and not exists (select 1 from study_annotators x where x.study_id = v.study_id and x.annotator_id = v.annotator_id and x.excluded_at is not null)
    order by v.id desc limit ${limit}`);
}

/**
 * The id of the study's newest vote that the fit would read (as shownVotes filters), or 0: is a cached fit current?
 * Walks the study's votes newest first (votes_study_idx) to the first that counts: O(1) but for trailing skips.
 */
export function latestShownVoteId(db: Database, studyId: number): number {
  return (
    db.get<{ id: number }>(sql`
    select v.id as id from votes v join assignments a on a.id = v.assignment_id
    where v.study_id = ${studyId} and v.choice <> 'skip' and a.purpose <> 'audit' and ${votePublishedAs("v")}
      and not exists (select 1 from study_annotators x where x.study_id = v.study_id and x.annotator_id = v.annotator_id and x.excluded_at is not null)
    order by v.id desc limit 1`)?.id ?? 0
  );
}

/**
 * The study's cached reliability fit (reliability_fits, ADR 0041) as stored, or null: for readers on any connection
 * (the CLI export opens its own). One primary-key read.
 */
export function readReliabilityFit(db: Database, studyId: number): { fit: ReliabilityFitResult; lastVoteId: number; computedAt: number } | null {
  const row = db.get<{ fit: string; lastVoteId: number; createdAt: number } | undefined>(
    sql`select fit, last_vote_id as lastVoteId, created_at as createdAt from reliability_fits where study_id = ${studyId}`,
  );
  return row ? { fit: JSON.parse(row.fit) as ReliabilityFitResult, lastVoteId: row.lastVoteId, computedAt: row.createdAt } : null;
}
