import { sql } from "drizzle-orm";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { votePublishedAs } from "./schema";

// The aggregates behind the owner's annotator quality page (issue 18), each one SQL statement that
// returns O(annotators), O(overlap items) or O(annotator pairs x 9) rows, never a row per vote. SQLite
// SQL (window functions, two-argument min/max) lives here in db/, like the tally triggers (migrations/0007, 0011, 0016).
//
// An agreement item is a (query, unordered prompt pair); an annotator's label for it is the outcome
// for the pair itself, whichever side each prompt was shown on: 0 = the lower-id prompt won, 1 = the
// higher-id prompt won, 2 = a draw (tie or both bad: the engine's 0.5). Skips carry no judgement and
// are left out; when an annotator judged an item more than once, their latest vote is their label.

// Votes an unpublished import is still writing are left out (ADR 0036).
const PUBLISHED = votePublishedAs("v");

type Database = BaseSQLiteDatabase<"sync", unknown, Record<string, unknown>>;

export const PAIR_LABELS = ["lower-id prompt won", "higher-id prompt won", "draw"] as const;

export interface AnnotatorVoteAggregate {
  annotatorId: number;
  displayName: string;
  kind: "human" | "judge";
  /** SQLite booleans: a study member voting as themselves (not blind); removed from the study. */
  member: number;
  removed: number;
  excludedAt: number | null;
  votes: number;
  skips: number;
  /** Decisive votes (left or right) and how many went to the left response. */
  decisive: number;
  leftWins: number;
  /** Median latency of the non-skip votes that were timed; null when none was. */
  medianLatencyMs: number | null;
  /** Non-skip votes with a latency and both responses known, and how many of them were faster than the reading rule. */
  timedVotes: number;
  tooFastVotes: number;
  /** Median of what the reading rule asked of their timed votes. */
  medianRequiredMs: number | null;
}

export interface ReadingRule {
  /** Characters per second a careful reader can at most skim (both responses together). */
  charsPerSecond: number;
  /** The least time any vote needs, however short the responses. */
  floorMs: number;
}

/**
 * Per annotator of the study (joined or with votes): counts, left-side wins, median latency, and the
 * votes faster than `rule` asks for (latency < max(floorMs, 1000 * (chars(left) + chars(right)) / charsPerSecond)).
 * A response's length is that of the ready response generated with `settingsHash` (what the annotate
 * page shows), else the longest ready one. Cost: one pass over the study's votes and its ready responses.
 */
export function annotatorVoteAggregates(db: Database, studyId: number, settingsHash: string, rule: ReadingRule): AnnotatorVoteAggregate[] {
  return db.all<AnnotatorVoteAggregate>(sql`
    with lengths as materialized (
      select r.prompt_id, r.query_id,
        coalesce(max(case when r.settings_hash = ${settingsHash} then length(r.content) end), max(length(r.content))) as chars
      from responses r join prompts p on p.id = r.prompt_id
      where p.study_id = ${studyId} and r.status = 'ready'
      group by r.prompt_id, r.query_id
    ),
    timed as (
      select v.annotator_id, v.latency_ms,
        max(${rule.floorMs}, 1000.0 * (la.chars + lb.chars) / ${rule.charsPerSecond}) as required_ms
      from votes v join assignments a on a.id = v.assignment_id
      join lengths la on la.prompt_id = a.prompt_a_id and la.query_id = a.query_id
      join lengths lb on lb.prompt_id = a.prompt_b_id and lb.query_id = a.query_id
      where v.study_id = ${studyId} and ${PUBLISHED} and v.choice <> 'skip' and v.latency_ms is not null
    ),
    ranked as (
      select annotator_id, latency_ms, required_ms,
        row_number() over (partition by annotator_id order by latency_ms) as latency_rank,
        row_number() over (partition by annotator_id order by required_ms) as required_rank,
        count(*) over (partition by annotator_id) as n
      from timed
    ),
    speed as (
      select annotator_id, max(n) as timed_votes, sum(latency_ms < required_ms) as too_fast,
        avg(case when latency_rank in ((n + 1) / 2, (n + 2) / 2) then latency_ms end) as median_latency,
        avg(case when required_rank in ((n + 1) / 2, (n + 2) / 2) then required_ms end) as median_required
      from ranked group by annotator_id
    ),
    counts as (
      select v.annotator_id, count(*) as votes, sum(v.choice = 'skip') as skips,
        sum(v.choice in ('left', 'right')) as decisive, sum(v.choice = 'left') as left_wins
      from votes v where v.study_id = ${studyId} and ${PUBLISHED} group by v.annotator_id
    ),
    people as (
      select annotator_id from study_annotators where study_id = ${studyId}
      union select annotator_id from counts
    )
    select people.annotator_id as annotatorId, u.display_name as displayName, u.kind as kind, u.user_id is not null as member,
      sa.removed_at is not null as removed, sa.excluded_at as excludedAt,
      coalesce(c.votes, 0) as votes, coalesce(c.skips, 0) as skips, coalesce(c.decisive, 0) as decisive, coalesce(c.left_wins, 0) as leftWins,
      s.median_latency as medianLatencyMs, coalesce(s.timed_votes, 0) as timedVotes, coalesce(s.too_fast, 0) as tooFastVotes,
      s.median_required as medianRequiredMs
    from people
    join annotators u on u.id = people.annotator_id
    left join study_annotators sa on sa.study_id = ${studyId} and sa.annotator_id = people.annotator_id
    left join counts c on c.annotator_id = people.annotator_id
    left join speed s on s.annotator_id = people.annotator_id
    order by coalesce(c.votes, 0) desc, people.annotator_id`);
}

// Each annotator's latest non-skip label per item, with whether the owner excluded them.
const labelsSql = (studyId: number) => sql`
  labelled as (
    select v.annotator_id, a.query_id, min(a.prompt_a_id, a.prompt_b_id) as low, max(a.prompt_a_id, a.prompt_b_id) as high,
      case when v.choice in ('tie', 'both_bad') then 2
        when (v.choice = 'left') = ((a.left_is_a = 1) = (a.prompt_a_id < a.prompt_b_id)) then 0 else 1 end as label,
      a.purpose = 'overlap' as served,
      row_number() over (partition by v.annotator_id, a.query_id, min(a.prompt_a_id, a.prompt_b_id), max(a.prompt_a_id, a.prompt_b_id) order by v.id desc) as recency
    from votes v join assignments a on a.id = v.assignment_id
    where v.study_id = ${studyId} and ${PUBLISHED} and v.choice <> 'skip' and a.purpose <> 'audit'
  ),
  labels as (
    select l.annotator_id, l.query_id, l.low, l.high, l.label, l.served,
      exists (select 1 from study_annotators x where x.study_id = ${studyId} and x.annotator_id = l.annotator_id and x.excluded_at is not null) as excluded
    from labelled l where l.recency = 1
  )`;

/** Per item judged by at least two counted (not excluded) annotators: how many gave each label. */
export interface OverlapItem {
  low: number;
  high: number;
  draws: number;
  /** SQLite boolean: one of the labels came from a served overlap (issue 18 §4, ADR 0042), not an accidental repeat. */
  served: number;
}

/** The overlap items of the study among counted annotators, as label counts. Cost: one pass over the study's votes. */
export function overlapItems(db: Database, studyId: number): OverlapItem[] {
  return db.all<OverlapItem>(sql`
    with ${labelsSql(studyId)}
    select sum(label = 0) as low, sum(label = 1) as high, sum(label = 2) as draws, max(served) as served
    from labels where not excluded
    group by query_id, low, high
    having count(*) >= 2
    order by query_id, low, high`);
}

/** One cell of an annotator pair's contingency table over the items both judged. */
export interface PairAgreementCell {
  first: number;
  second: number;
  firstLabel: number;
  secondLabel: number;
  items: number;
}

/**
 * For every pair of annotators (first < second) who judged the same items: their contingency table,
 * cell by cell (at most 9 rows a pair). Excluded annotators are in it: an owner looks at whom they agree with.
 * Cost: one pass over the study's votes plus sum over items of (annotators per item)^2.
 */
export function pairAgreementCells(db: Database, studyId: number): PairAgreementCell[] {
  return db.all<PairAgreementCell>(sql`
    with ${labelsSql(studyId)}
    select x.annotator_id as first, y.annotator_id as second, x.label as firstLabel, y.label as secondLabel, count(*) as items
    from labels x join labels y on y.query_id = x.query_id and y.low = x.low and y.high = x.high and y.annotator_id > x.annotator_id
    group by x.annotator_id, y.annotator_id, x.label, y.label
    order by x.annotator_id, y.annotator_id, x.label, y.label`);
}

/** Which annotators of the study are excluded (their annotator ids). */
export function excludedAnnotatorIds(db: Database, studyId: number): Set<number> {
  const rows = db.all<{ annotatorId: number }>(
    sql`select annotator_id as annotatorId from study_annotators where study_id = ${studyId} and excluded_at is not null`,
  );
  return new Set(rows.map((row) => row.annotatorId));
}

/** Per annotator: the items they judged that at least one counted (not excluded) other annotator judged too. Cost: one pass over the study's votes. */
export function sharedItemCounts(db: Database, studyId: number): Map<number, number> {
  const rows = db.all<{ annotatorId: number; items: number }>(sql`
    with ${labelsSql(studyId)}
    select l.annotator_id as annotatorId, count(*) as items from labels l
    where exists (select 1 from labels o where o.query_id = l.query_id and o.low = l.low and o.high = l.high
      and o.annotator_id <> l.annotator_id and not o.excluded)
    group by l.annotator_id`);
  return new Map(rows.map((row) => [row.annotatorId, row.items]));
}

// What a vote said about its pair: the winning prompt's id, or 0 for a draw (tie or both bad). Skips are never passed.
const winnerSql = (vote: string, assignment: string) =>
  sql.raw(`case when ${vote}.choice in ('tie', 'both_bad') then 0 when (${vote}.choice = 'left') = (${assignment}.left_is_a = 1)
    then ${assignment}.prompt_a_id else ${assignment}.prompt_b_id end`);

export interface CheckCounts {
  annotatorId: number;
  /** Audits (or gold answers) with a judgement, and how many matched (the earlier decision, or the owner's answer). */
  judged: number;
  matched: number;
}

/**
 * Per annotator: their answered audits whose original vote still stands, both not skips, and how many
 * said the same about the pair as the original (the same winner, or a draw both times), whichever side
 * each prompt was shown on. Cost: one pass over the study's audit assignments.
 */
export function auditConsistency(db: Database, studyId: number): CheckCounts[] {
  return db.all<CheckCounts>(sql`
    select a.annotator_id as annotatorId, count(*) as judged, sum(${winnerSql("v", "a")} = ${winnerSql("ov", "o")}) as matched
    from assignments a join votes v on v.assignment_id = a.id
    join assignments o on o.id = a.audit_of join votes ov on ov.assignment_id = o.id
    where a.study_id = ${studyId} and a.purpose = 'audit' and v.choice <> 'skip' and ov.choice <> 'skip'
    group by a.annotator_id`);
}

/**
 * Per annotator: their non-skip, non-audit votes on the study's gold items, and how many chose the owner's
 * preferred prompt (a draw is not the answer). Cost: one pass over the votes on gold items.
 */
export function goldAccuracy(db: Database, studyId: number): CheckCounts[] {
  return db.all<CheckCounts>(sql`
    select v.annotator_id as annotatorId, count(*) as judged, sum(${winnerSql("v", "a")} = g.preferred_prompt_id) as matched
    from gold_items g
    join assignments a on a.study_id = g.study_id and a.query_id = g.query_id
      and min(a.prompt_a_id, a.prompt_b_id) = g.low_prompt_id and max(a.prompt_a_id, a.prompt_b_id) = g.high_prompt_id
    join votes v on v.assignment_id = a.id
    where g.study_id = ${studyId} and a.purpose <> 'audit' and v.choice <> 'skip'
    group by v.annotator_id`);
}
