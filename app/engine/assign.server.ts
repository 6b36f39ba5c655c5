import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import {
  assignmentIsAnswered,
  assignmentIsOpen,
  assignments,
  promptInSelection,
  prompts,
  queries,
  responseIsReady,
  responses,
} from "../../db/schema";
import { claimProposal } from "../../bandit/served";
import { chooseCheck, pickUniform } from "../../quality/checks";
import { generationSettingsHash } from "../../db/text";
import { db, prepared } from "~/db.server";
import { issueAssignment } from "~/models/assignment.server";
import { getStudy } from "~/models/study.server";
import { getStudyEngine, loadedStudyEngine } from "./engine.server";
import type { ProposedPair } from "./study-engine.server";

interface AssignOptions {
  now?: Date;
  random?: () => number;
}

type Transaction = Parameters<Parameters<ReturnType<typeof db>["transaction"]>[0]>[0];

/**
 * The assignment this annotator should answer next in this study: their open, unexpired one if
 * any, else a new one. Returns null when the study is not running or has no pair whose two
 * responses are ready.
 *
 * The pair is the engine's: the first of its proposed pairs (computed in the worker, with the
 * pairs already handed out counted as pending) not handed out yet, that no other annotator holds
 * right now, that is not the duel this annotator just answered, whose prompts are enabled, and that
 * has a query this annotator has not answered on it yet (fresh pairs first). No LLM call and no
 * training happens here; before the engine's first fit, or when no proposal is usable, the pair is
 * uniform random over the pairs with a fresh ready query (recorded with policy "random"), by
 * rejection sampling, or by a full scan on sparse studies. Only when this annotator has answered
 * every usable combination does a (query, pair) come back to them. The query is the least-annotated
 * of the pair's fresh ready queries (ties at random), so coverage spreads over the queries.
 */
export function assignNextPair(studyId: number, annotatorId: number, options: AssignOptions = {}) {
  const assignment = withProposalRollback(studyId, () => db().transaction(() => issueNextAssignment(studyId, annotatorId, options)));
  // After the commit: a new pending pair changes what the policy should propose to the next annotator.
  if (assignment?.created) getStudyEngine(studyId).requestUpdate();
  return assignment?.row ?? null;
}

/**
 * Runs `operation`, a transaction that may claim the engine's proposals; when it throws (and so rolls back), the
 * proposals it claimed are put back, so the engine's selection state never diverges from SQLite.
 */
export function withProposalRollback<T>(studyId: number, operation: () => T): T {
  // An engine not loaded yet has no proposals to claim: one started inside `operation` proposes only later.
  const engine = loadedStudyEngine(studyId);
  const mark = engine?.proposalMark() ?? 0;
  try {
    return operation();
  } catch (error) {
    engine?.restoreProposals(mark);
    throw error;
  }
}

/**
 * assignNextPair's work inside the caller's transaction (run it through withProposalRollback): the open or new
 * assignment, `created` when it is new, in which case the caller tells the engine after its commit.
 */
export function issueNextAssignment(studyId: number, annotatorId: number, options: AssignOptions = {}) {
  const now = options.now ?? new Date();
  const random = options.random ?? Math.random;
  const statements = hotStatements();
  const study = getStudy(studyId);
  if (!study || study.status !== "running") return null;
  const engine = getStudyEngine(studyId);
  return db().transaction((tx) => {
    statements.expire.run({ studyId, now: now.getTime() });
    // An annotator holds at most one open assignment per study, and it is their latest one.
    const latest = statements.latestOf.get({ studyId, annotatorId });
    if (latest?.status === "open") return { row: latest, created: false };

    const settingsHash = generationSettingsHash(study);
    // Quality checks first (ADR 0034, 0042): with the study's rates, an audit (a pair this annotator decided, sides
    // swapped), a gold item or a served overlap; no random draw is taken when every rate is 0.
    if (study.auditRate > 0 || study.goldRate > 0 || study.overlapRate > 0) {
      const counts = statements.checkCounts.get({ studyId, annotatorId });
      const state = { answered: counts?.answered ?? 0, audits: counts?.audits ?? 0, lastWasAudit: latest?.purpose === "audit" };
      const check = chooseCheck(study, state, random);
      const served =
        check === "audit"
          ? serveAudit(studyId, annotatorId, settingsHash, latest?.id ?? 0, random, now, engine.round())
          : check === "gold"
            ? serveGold(studyId, annotatorId, settingsHash, random, now, engine.round())
            : check === "overlap"
              ? serveOverlap(studyId, annotatorId, settingsHash, latest, random, now, engine.round())
              : null;
      if (served) return { row: served, created: true };
    }
    let usable = usableItems(studyId);
    // A prompt newer than the cached list (added within the last second) is read again, not taken for disabled.
    const promptEnabled = (promptId: number) => {
      if (usable.activePrompts.has(promptId)) return true;
      if (promptId <= usable.newestActivePrompt) return false;
      forgetUsableItems(studyId);
      usable = usableItems(studyId);
      return usable.activePrompts.has(promptId);
    };
    const lastPair = latest ? pairKey(latest.promptAId, latest.promptBId) : null;
    const isLastPair = (pair: ProposedPair) => pairKey(pair.promptAId, pair.promptBId) === lastPair;
    const isHeld = (pair: ProposedPair) => statements.heldPair.get({ studyId, a: pair.promptAId, b: pair.promptBId }) !== undefined;
    const readyFor = (pair: ProposedPair) => commonReadyQueries(pair, settingsHash).filter((queryId) => !usable.inactiveQueries.has(queryId));
    let chosen: { pair: ProposedPair; query: QueryChoice; engine: boolean } | null = null;
    // The engine's pair whose every query this annotator has answered: served only if nothing fresh exists.
    // (Typed by assertion: the claim rules below assign it from callbacks, which narrowing does not follow.)
    let staleProposal = null as { pair: ProposedPair; query: QueryChoice } | null;
    // The serving rule shared with the simulator (bandit/served.ts): the first open proposal that is not this
    // annotator's last duel, usable (enabled prompts, not held, a ready query on both sides) and fresh to them.
    // Unusable ones are retired for everyone; one this annotator has answered on every query stays for others.
    let proposalReady: number[] = [];
    let freshQuery = null as QueryChoice | null;
    const claimed = claimProposal(engine.openProposals(), {
      isOwnLastPair: isLastPair,
      isUsable: (pair) => {
        const usableForAll = promptEnabled(pair.promptAId) && promptEnabled(pair.promptBId) && !isHeld(pair);
        proposalReady = usableForAll ? readyFor(pair) : [];
        return proposalReady.length > 0;
      },
      isAnsweredBy: (pair) => {
        const query = chooseQuery(pair, proposalReady, annotatorId, random);
        if (query.fresh) {
          freshQuery = query;
          return false;
        }
        staleProposal ??= { pair, query };
        return true;
      },
      retire: (index) => engine.retireProposal(index),
    });
    if (claimed && freshQuery) chosen = { pair: claimed.pair, query: freshQuery, engine: true };
    if (!chosen) {
      const avoid = (candidate: ProposedPair) => isLastPair(candidate) || isHeld(candidate);
      const sampled = sampleFreshPair(studyId, usable, random, avoid, (pair) => {
        const ready = readyFor(pair);
        return ready.length > 0 ? chooseQuery(pair, ready, annotatorId, random) : null;
      });
      if (sampled) chosen = { ...sampled, engine: false };
    }
    if (!chosen) {
      const avoid = new Set(statements.held.all({ studyId }).map(({ a, b }) => pairKey(a, b)));
      if (lastPair) avoid.add(lastPair);
      const decided = new Set(statements.decidedBy.all({ studyId, annotatorId }).map((row) => decidedKey(row.a, row.b, row.queryId)));
      const pair = randomReadyPair(readyQueriesByPrompt(tx, studyId, settingsHash), random, avoid, decided);
      if (pair && (pair.fresh || !staleProposal)) {
        chosen = { pair: pair.pair, query: chooseQuery(pair.pair, readyFor(pair.pair), annotatorId, random), engine: false };
      } else if (staleProposal) {
        chosen = { ...staleProposal, engine: true };
      }
    }
    if (!chosen) return null;
    const row = issueAssignment({
      studyId,
      annotatorId,
      promptAId: chosen.pair.promptAId,
      promptBId: chosen.pair.promptBId,
      queryId: chosen.query.queryId,
      leftIsA: random() < 0.5,
      issuedAt: now,
      policy: chosen.engine ? engine.policy : "random",
      engineRound: engine.round(),
    });
    return { row, created: true };
  });
}

/**
 * An audit: one of this annotator's answered, non-skip work assignments (not their latest, not audited before,
 * its prompts in selection, its query enabled, both responses ready), uniformly at random, served again with
 * the sides swapped. Null when none is left. Cost: O(their answered assignments).
 */
function serveAudit(studyId: number, annotatorId: number, settingsHash: string, latestId: number, random: () => number, now: Date, round: number) {
  const original = pickUniform(hotStatements().auditCandidates.all({ studyId, annotatorId, settingsHash, latestId }), random);
  if (!original) return null;
  return issueAssignment({
    studyId,
    annotatorId,
    promptAId: original.promptAId,
    promptBId: original.promptBId,
    queryId: original.queryId,
    leftIsA: original.leftIsA !== 1,
    issuedAt: now,
    policy: original.policy,
    engineRound: round,
    purpose: "audit",
    auditOf: original.id,
  });
}

/**
 * A gold item this annotator has not answered (prompts in selection, query enabled, both responses ready),
 * uniformly at random, sides at random. Null when none is left. Cost: O(gold items x their answers on each).
 */
function serveGold(studyId: number, annotatorId: number, settingsHash: string, random: () => number, now: Date, round: number) {
  const item = pickUniform(hotStatements().goldCandidates.all({ studyId, annotatorId, settingsHash }), random);
  if (!item) return null;
  return issueAssignment({
    studyId,
    annotatorId,
    promptAId: item.lowPromptId,
    promptBId: item.highPromptId,
    queryId: item.queryId,
    leftIsA: random() < 0.5,
    issuedAt: now,
    policy: "random",
    engineRound: round,
    purpose: "gold",
    auditOf: null,
  });
}

/** Served overlaps look among the study's latest votes only (recent items first; bounded work per request). */
const OVERLAP_WINDOW_VOTES = 2_000;
/**
 * …and pick uniformly among the most recent items that qualify, so concurrent annotators do not all get the same one
 * (the statement stops after 4x as many votes: an item may repeat, and the last duel is left out afterwards).
 */
const OVERLAP_RECENT_ITEMS = 8;

/**
 * A served overlap (issue 18 §4, ADR 0042): a (query, prompt pair) that exactly one other annotator decided (a
 * non-skip, non-audit vote of a counted human) and nobody else, that this annotator has neither answered nor holds
 * and nobody holds now, not this annotator's last duel, its prompts in selection, its query enabled and both
 * responses ready; uniformly among the OVERLAP_RECENT_ITEMS most recently decided such items, sides at random,
 * `purpose = 'overlap'`. Its vote counts like work. Null when none is left in the window.
 * Cost: O(OVERLAP_WINDOW_VOTES) indexed lookups at most, on the requests that draw an overlap only.
 */
function serveOverlap(
  studyId: number,
  annotatorId: number,
  settingsHash: string,
  latest: { promptAId: number; promptBId: number } | undefined,
  random: () => number,
  now: Date,
  round: number,
) {
  const lastPair = latest ? pairKey(latest.promptAId, latest.promptBId) : null;
  const rows = hotStatements()
    .overlapCandidates.all({ studyId, annotatorId, settingsHash, window: OVERLAP_WINDOW_VOTES })
    .filter((row) => pairKey(row.promptAId, row.promptBId) !== lastPair);
  // The other annotator may have answered an item more than once: one candidate per item.
  const items = [...new Map(rows.map((row) => [decidedKey(row.promptAId, row.promptBId, row.queryId), row])).values()];
  const item = pickUniform(items.slice(0, OVERLAP_RECENT_ITEMS), random);
  if (!item) return null;
  return issueAssignment({
    studyId,
    annotatorId,
    promptAId: item.promptAId,
    promptBId: item.promptBId,
    queryId: item.queryId,
    leftIsA: random() < 0.5,
    issuedAt: now,
    policy: "random",
    engineRound: round,
    purpose: "overlap",
    auditOf: null,
  });
}

interface QueryChoice {
  queryId: number;
  /** False when this annotator has already answered this query on this pair (a repeat). */
  fresh: boolean;
}

/**
 * The query to show with a pair, among its ready ones: those this annotator has not answered on the
 * pair first, and among them the least answered by anyone (ties at random), so coverage spreads.
 * One lookup on assignments_answered_pair_idx: O(answers on this pair). `ready` must not be empty.
 */
function chooseQuery(pair: ProposedPair, ready: number[], annotatorId: number, random: () => number): QueryChoice {
  const answers = hotStatements().answersOnPair.all({ a: pair.promptAId, b: pair.promptBId });
  const answered = new Map<number, number>();
  const mine = new Set<number>();
  for (const { queryId, annotatorId: by } of answers) {
    answered.set(queryId, (answered.get(queryId) ?? 0) + 1);
    if (by === annotatorId) mine.add(queryId);
  }
  const fresh = ready.filter((queryId) => !mine.has(queryId));
  const pool = fresh.length > 0 ? fresh : ready;
  let fewest = Infinity;
  let least: number[] = [];
  for (const queryId of pool) {
    const times = answered.get(queryId) ?? 0;
    if (times < fewest) {
      fewest = times;
      least = [queryId];
    } else if (times === fewest) least.push(queryId);
  }
  return { queryId: least[Math.floor(random() * least.length)]!, fresh: fresh.length > 0 };
}

function decidedKey(a: number, b: number, queryId: number): string {
  return `${pairKey(a, b)}|${queryId}`;
}

/** The annotator's open, unexpired assignment in this study, if any (read-only). */
export function getOpenAssignment(studyId: number, annotatorId: number, now: Date = new Date()) {
  const latest = hotStatements().latestOf.get({ studyId, annotatorId });
  return latest?.status === "open" && latest.expiresAt > now ? latest : undefined;
}

function pairKey(a: number, b: number): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** prompt id → ids of the enabled queries for which that enabled prompt has a ready response (current settings). */
function readyQueriesByPrompt(tx: Transaction, studyId: number, settingsHash: string): Map<number, Set<number>> {
  const rows = tx
    .select({ promptId: responses.promptId, queryId: responses.queryId })
    .from(responses)
    .innerJoin(prompts, eq(prompts.id, responses.promptId))
    .innerJoin(queries, eq(queries.id, responses.queryId))
    .where(and(eq(prompts.studyId, studyId), promptInSelection, eq(queries.active, true), responseIsReady, eq(responses.settingsHash, settingsHash)))
    .orderBy(responses.promptId, responses.queryId)
    .all();
  const byPrompt = new Map<number, Set<number>>();
  for (const { promptId, queryId } of rows) {
    let set = byPrompt.get(promptId);
    if (!set) byPrompt.set(promptId, (set = new Set()));
    set.add(queryId);
  }
  return byPrompt;
}

/**
 * Queries for which both prompts of the pair have a ready response: two index-only lookups on
 * responses_ready_idx (a join would check each row's status, stored behind the response text).
 */
function commonReadyQueries(pair: ProposedPair, settingsHash: string): number[] {
  const { readyQueries } = hotStatements();
  const ofB = new Set(readyQueries.all({ promptId: pair.promptBId, settingsHash }).map((row) => row.queryId));
  return readyQueries
    .all({ promptId: pair.promptAId, settingsHash })
    .map((row) => row.queryId)
    .filter((queryId) => ofB.has(queryId));
}

/** The statements every pair request runs, prepared once per connection. */
// Both responses of an assignment-like row `x` ready with the current settings (@settingsHash).
const bothReadySql = (alias: string, a: string, b: string) => `
  exists (select 1 from responses r where r.prompt_id = ${alias}.${a} and r.query_id = ${alias}.query_id and r.status = 'ready' and r.settings_hash = @settingsHash)
  and exists (select 1 from responses r where r.prompt_id = ${alias}.${b} and r.query_id = ${alias}.query_id and r.status = 'ready' and r.settings_hash = @settingsHash)`;
const inSelectionSql = (alias: string, column: string) =>
  `exists (select 1 from prompts p where p.id = ${alias}.${column} and p.active = 1 and p.retired_at is null)`;

function hotStatements() {
  return prepared("assign", (database) => ({
    checkCounts: database.$client.prepare<[{ studyId: number; annotatorId: number }], { answered: number; audits: number }>(`
      select count(*) as answered, coalesce(sum(purpose = 'audit'), 0) as audits from assignments
      where annotator_id = @annotatorId and study_id = @studyId and status = 'answered'`),
    auditCandidates: database.$client.prepare<
      [{ studyId: number; annotatorId: number; settingsHash: string; latestId: number }],
      { id: number; promptAId: number; promptBId: number; queryId: number; leftIsA: number; policy: string }
    >(`
      select a.id, a.prompt_a_id as promptAId, a.prompt_b_id as promptBId, a.query_id as queryId, a.left_is_a as leftIsA, a.policy
      from assignments a join votes v on v.assignment_id = a.id
      where a.annotator_id = @annotatorId and a.study_id = @studyId and a.status = 'answered' and a.purpose <> 'audit'
        and a.id <> @latestId and v.choice <> 'skip'
        and not exists (select 1 from assignments x where x.audit_of = a.id)
        and ${inSelectionSql("a", "prompt_a_id")} and ${inSelectionSql("a", "prompt_b_id")}
        and exists (select 1 from queries q where q.id = a.query_id and q.active = 1)
        and ${bothReadySql("a", "prompt_a_id", "prompt_b_id")}
      order by a.id`),
    goldCandidates: database.$client.prepare<
      [{ studyId: number; annotatorId: number; settingsHash: string }],
      { queryId: number; lowPromptId: number; highPromptId: number }
    >(`
      select g.query_id as queryId, g.low_prompt_id as lowPromptId, g.high_prompt_id as highPromptId from gold_items g
      where g.study_id = @studyId
        and not exists (select 1 from assignments x where x.annotator_id = @annotatorId and x.study_id = @studyId and x.query_id = g.query_id
          and x.status in ('answered', 'open') and min(x.prompt_a_id, x.prompt_b_id) = g.low_prompt_id and max(x.prompt_a_id, x.prompt_b_id) = g.high_prompt_id)
        and ${inSelectionSql("g", "low_prompt_id")} and ${inSelectionSql("g", "high_prompt_id")}
        and exists (select 1 from queries q where q.id = g.query_id and q.active = 1)
        and ${bothReadySql("g", "low_prompt_id", "high_prompt_id")}
      order by g.id`),
    // Items (query, pair) of the study's latest @window votes decided by exactly one other annotator, newest first (serveOverlap).
    overlapCandidates: database.$client.prepare<
      [{ studyId: number; annotatorId: number; settingsHash: string; window: number }],
      { queryId: number; promptAId: number; promptBId: number }
    >(`
      select a.query_id as queryId, a.prompt_a_id as promptAId, a.prompt_b_id as promptBId
      from (select id, assignment_id, annotator_id, choice, import_job_id from votes where study_id = @studyId order by id desc limit @window) v
      join assignments a on a.id = v.assignment_id
      where v.annotator_id <> @annotatorId and v.choice <> 'skip' and a.purpose <> 'audit'
        and (v.import_job_id is null or v.import_job_id not in (select job_id from pending_imports))
        and exists (select 1 from annotators u where u.id = v.annotator_id and u.kind = 'human')
        and not exists (select 1 from study_annotators x where x.study_id = @studyId and x.annotator_id = v.annotator_id and x.excluded_at is not null)
        -- nobody else decided it (either orientation, on assignments_answered_pair_idx)
        and not exists (select 1 from assignments x join votes xv on xv.assignment_id = x.id
          where x.status = 'answered' and x.prompt_a_id in (a.prompt_a_id, a.prompt_b_id) and x.prompt_b_id in (a.prompt_a_id, a.prompt_b_id)
            and x.query_id = a.query_id and x.annotator_id <> v.annotator_id and x.purpose <> 'audit' and xv.choice <> 'skip')
        -- this annotator has not answered it (a skip included) and does not hold it; nobody holds it now
        and not exists (select 1 from assignments x where x.annotator_id = @annotatorId and x.study_id = @studyId and x.query_id = a.query_id
          and x.status in ('answered', 'open') and x.prompt_a_id in (a.prompt_a_id, a.prompt_b_id) and x.prompt_b_id in (a.prompt_a_id, a.prompt_b_id))
        and not exists (select 1 from assignments x where x.study_id = @studyId and x.status = 'open' and x.query_id = a.query_id
          and x.prompt_a_id in (a.prompt_a_id, a.prompt_b_id) and x.prompt_b_id in (a.prompt_a_id, a.prompt_b_id))
        and ${inSelectionSql("a", "prompt_a_id")} and ${inSelectionSql("a", "prompt_b_id")}
        and exists (select 1 from queries q where q.id = a.query_id and q.active = 1)
        and ${bothReadySql("a", "prompt_a_id", "prompt_b_id")}
      order by v.id desc limit ${4 * OVERLAP_RECENT_ITEMS}`),
    expire: database
      .update(assignments)
      .set({ status: "expired" })
      .where(and(eq(assignments.studyId, sql.placeholder("studyId")), assignmentIsOpen, lt(assignments.expiresAt, sql.placeholder("now"))))
      .prepare(),
    latestOf: database
      .select()
      .from(assignments)
      .where(and(eq(assignments.studyId, sql.placeholder("studyId")), eq(assignments.annotatorId, sql.placeholder("annotatorId"))))
      .orderBy(desc(assignments.id))
      .limit(1)
      .prepare(),
    activePromptIds: database
      .select({ id: prompts.id })
      .from(prompts)
      .where(and(eq(prompts.studyId, sql.placeholder("studyId")), promptInSelection))
      .prepare(),
    heldPair: database
      .select({ id: assignments.id })
      .from(assignments)
      .where(
        and(
          eq(assignments.studyId, sql.placeholder("studyId")),
          assignmentIsOpen,
          // Either orientation; (a, a) and (b, b) cannot exist. IN keeps it four seeks on the index.
          inArray(assignments.promptAId, [sql.placeholder("a"), sql.placeholder("b")]),
          inArray(assignments.promptBId, [sql.placeholder("a"), sql.placeholder("b")]),
        ),
      )
      .limit(1)
      .prepare(),
    held: database
      .select({ a: assignments.promptAId, b: assignments.promptBId })
      .from(assignments)
      .where(and(eq(assignments.studyId, sql.placeholder("studyId")), assignmentIsOpen))
      .prepare(),
    // Who answered which query of a pair, either orientation (index-only on assignments_answered_pair_idx).
    answersOnPair: database
      .select({ queryId: assignments.queryId, annotatorId: assignments.annotatorId })
      .from(assignments)
      .where(
        and(
          assignmentIsAnswered,
          inArray(assignments.promptAId, [sql.placeholder("a"), sql.placeholder("b")]),
          inArray(assignments.promptBId, [sql.placeholder("a"), sql.placeholder("b")]),
        ),
      )
      .prepare(),
    // Every (pair, query) this annotator answered in the study: only for the full scan of sparse studies.
    decidedBy: database
      .select({ a: assignments.promptAId, b: assignments.promptBId, queryId: assignments.queryId })
      .from(assignments)
      .where(
        and(eq(assignments.annotatorId, sql.placeholder("annotatorId")), eq(assignments.studyId, sql.placeholder("studyId")), assignmentIsAnswered),
      )
      .prepare(),
    inactiveQueryIds: database
      .select({ id: queries.id })
      .from(queries)
      .where(and(eq(queries.studyId, sql.placeholder("studyId")), eq(queries.active, false)))
      .prepare(),
    readyQueries: database
      .select({ queryId: responses.queryId })
      .from(responses)
      .where(and(eq(responses.promptId, sql.placeholder("promptId")), eq(responses.settingsHash, sql.placeholder("settingsHash")), responseIsReady))
      .orderBy(responses.queryId)
      .prepare(),
  }));
}

function commonQueries(readyQueries: Map<number, Set<number>>, pair: ProposedPair): number[] {
  const a = readyQueries.get(pair.promptAId);
  const b = readyQueries.get(pair.promptBId);
  if (!a || !b) return [];
  return [...a].filter((queryId) => b.has(queryId));
}

/**
 * Rejection sampling of a uniformly random pair of enabled prompts that has a fresh ready query for
 * this annotator (`queryFor` answers the pair's best query, or null without a ready one) and is not to
 * `avoid` (held by someone, or just answered), with a few indexed lookups per draw: O(1) expected when
 * most responses are ready and most combinations are fresh. Null after 32 misses, where the caller
 * falls back to the full scan.
 */
function sampleFreshPair(
  studyId: number,
  usable: UsableItems,
  random: () => number,
  avoid: (pair: ProposedPair) => boolean,
  queryFor: (pair: ProposedPair) => QueryChoice | null,
): { pair: ProposedPair; query: QueryChoice } | null {
  const ids = usable.activePromptList;
  if (ids.length < 2) return null;
  for (let attempt = 0; attempt < 32; attempt++) {
    const i = Math.floor(random() * ids.length);
    let j = Math.floor(random() * (ids.length - 1));
    if (j >= i) j++;
    const pair = { promptAId: ids[i]!, promptBId: ids[j]! };
    if (avoid(pair)) continue;
    const query = queryFor(pair);
    if (query?.fresh) return { pair, query };
  }
  return null;
}

// Enabled prompt ids and disabled query ids per study, re-read at most once a second: the random
// fallback runs on every request while the engine's proposals are taken, and re-reading a
// 1,000-prompt pool each time dominated the request (bench:server profile). An owner's change counts
// at once through forgetUsableItems, any other within a second.
const USABLE_ITEMS_TTL_MS = 1_000;

interface UsableItems {
  activePromptList: number[];
  activePrompts: Set<number>;
  /** The highest enabled prompt id when read: an id above it is a prompt added since. */
  newestActivePrompt: number;
  inactiveQueries: Set<number>;
  readAt: number;
}

const usableItemsCache = new Map<number, UsableItems>();

function usableItems(studyId: number): UsableItems {
  const cached = usableItemsCache.get(studyId);
  if (cached && Date.now() - cached.readAt < USABLE_ITEMS_TTL_MS) return cached;
  const statements = hotStatements();
  const activePromptList = statements.activePromptIds.all({ studyId }).map((row) => row.id);
  const items = {
    activePromptList,
    activePrompts: new Set(activePromptList),
    newestActivePrompt: activePromptList.reduce((newest, id) => Math.max(newest, id), 0),
    inactiveQueries: new Set(statements.inactiveQueryIds.all({ studyId }).map((row) => row.id)),
    readAt: Date.now(),
  };
  usableItemsCache.set(studyId, items);
  return items;
}

/** Forgets the study's cached enabled prompts and queries: the next pair request reads them again. */
export function forgetUsableItems(studyId: number): void {
  usableItemsCache.delete(studyId);
}

/**
 * Uniform over all pairs that share a ready query, by enumeration (only for sparse studies, or when
 * sampling found nothing fresh): O(n^2 q). Pairs with a query this annotator has not answered
 * (`decided` holds the answered ones) come first; pairs in `avoid` only when nothing else is left.
 */
function randomReadyPair(
  readyQueries: Map<number, Set<number>>,
  random: () => number,
  avoid: ReadonlySet<string>,
  decided: ReadonlySet<string>,
): { pair: ProposedPair; fresh: boolean } | null {
  const ids = [...readyQueries.keys()];
  const tiers: ProposedPair[][] = [[], [], [], []];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const pair = { promptAId: ids[i]!, promptBId: ids[j]! };
      const common = commonQueries(readyQueries, pair);
      if (common.length === 0) continue;
      const fresh = common.some((queryId) => !decided.has(decidedKey(pair.promptAId, pair.promptBId, queryId)));
      const avoided = avoid.has(pairKey(pair.promptAId, pair.promptBId));
      // Best first: fresh and free, fresh but avoided, stale and free, stale and avoided.
      tiers[(fresh ? 0 : 2) + (avoided ? 1 : 0)]!.push(pair);
    }
  }
  const tier = tiers.findIndex((pairs) => pairs.length > 0);
  if (tier < 0) return null;
  const pool = tiers[tier]!;
  return { pair: pool[Math.floor(random() * pool.length)]!, fresh: tier < 2 };
}
