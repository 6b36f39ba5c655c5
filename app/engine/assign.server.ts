import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { assignmentIsOpen, assignments, prompts, queries, responseIsReady, responses } from "../../db/schema";
import { claimProposal } from "../../bandit/served";
import { generationSettingsHash } from "../../db/text";
import { db, prepared } from "~/db.server";
import { env } from "~/env.server";
import { getStudy } from "~/models/study.server";
import { getStudyEngine, type ProposedPair } from "./engine.server";

interface AssignOptions {
  now?: Date;
  random?: () => number;
}

type Transaction = Parameters<Parameters<ReturnType<typeof db>["transaction"]>[0]>[0];

/**
 * The assignment this annotator should answer next in this study: their open, unexpired one if
 * any, else a new one. Returns null when the study has no pair whose two responses are ready.
 *
 * The pair is the engine's: the first of its proposed pairs (computed in the worker, with the
 * pairs already handed out counted as pending) not handed out yet, that no other annotator holds
 * right now and that is not the duel this annotator just answered. No LLM call and no training
 * happens here; before the engine's first fit, or when every proposal is taken, the pair is uniform
 * random over the pairs whose responses are ready (recorded with policy "random"), by rejection
 * sampling, or by a full scan on sparse studies. The query is drawn uniformly among those where
 * both prompts' responses are ready.
 */
export function assignNextPair(studyId: number, annotatorId: number, options: AssignOptions = {}) {
  const now = options.now ?? new Date();
  const random = options.random ?? Math.random;
  const statements = hotStatements();
  const study = getStudy(studyId);
  if (!study) return null;
  const engine = getStudyEngine(studyId);
  const assignment = db().transaction((tx) => {
    statements.expire.run({ studyId, now: now.getTime() });
    // An annotator holds at most one open assignment per study, and it is their latest one.
    const latest = statements.latestOf.get({ studyId, annotatorId });
    if (latest?.status === "open") return { row: latest, created: false };

    const settingsHash = generationSettingsHash(study);
    const lastPair = latest ? pairKey(latest.promptAId, latest.promptBId) : null;
    const isLastPair = (pair: ProposedPair) => pairKey(pair.promptAId, pair.promptBId) === lastPair;
    const isHeld = (pair: ProposedPair) => statements.heldPair.get({ studyId, a: pair.promptAId, b: pair.promptBId }) !== undefined;
    let choices: number[] = [];
    // The serving rule shared with the simulator (bandit/served.ts): the first open proposal that is not this
    // annotator's last duel, not held and with a common ready query; those looked at are retired for everyone.
    const proposal =
      claimProposal(engine.openProposals(), {
        isOwnLastPair: isLastPair,
        isUsable: (candidate) => {
          if (isHeld(candidate)) return false;
          choices = commonReadyQueries(candidate, settingsHash);
          return choices.length > 0;
        },
        retire: (index) => engine.retireProposal(index),
      })?.pair ?? null;
    let pair = proposal;
    if (!pair) {
      const sampled = sampleReadyPair(studyId, settingsHash, random, (candidate) => isLastPair(candidate) || isHeld(candidate));
      if (sampled) {
        pair = sampled.pair;
        choices = sampled.queries;
      } else {
        const avoid = new Set(statements.held.all({ studyId }).map(({ a, b }) => pairKey(a, b)));
        if (lastPair) avoid.add(lastPair);
        pair = randomReadyPair(readyQueriesByPrompt(tx, studyId, settingsHash), random, avoid);
        if (!pair) return null;
        choices = commonReadyQueries(pair, settingsHash);
      }
    }
    const queryId = choices[Math.floor(random() * choices.length)]!;
    const row = statements.insert.get({
      studyId,
      annotatorId,
      promptAId: pair.promptAId,
      promptBId: pair.promptBId,
      queryId,
      leftIsA: random() < 0.5,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + env().ASSIGNMENT_TTL_MINUTES * 60_000),
      policy: proposal ? engine.policy : "random",
      engineRound: engine.round(),
    });
    return { row, created: true };
  });
  if (!assignment) return null;
  // A new pending pair changes what the policy should propose to the next annotator.
  if (assignment.created) engine.requestUpdate();
  return assignment.row;
}

/** The annotator's open, unexpired assignment in this study, if any (read-only). */
export function getOpenAssignment(studyId: number, annotatorId: number, now: Date = new Date()) {
  const latest = hotStatements().latestOf.get({ studyId, annotatorId });
  return latest?.status === "open" && latest.expiresAt > now ? latest : undefined;
}

function pairKey(a: number, b: number): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** prompt id → ids of the queries for which that active prompt has a ready response (current settings). */
function readyQueriesByPrompt(tx: Transaction, studyId: number, settingsHash: string): Map<number, Set<number>> {
  const rows = tx
    .select({ promptId: responses.promptId, queryId: responses.queryId })
    .from(responses)
    .innerJoin(prompts, eq(prompts.id, responses.promptId))
    .innerJoin(queries, eq(queries.id, responses.queryId))
    .where(and(eq(prompts.studyId, studyId), eq(prompts.active, true), responseIsReady, eq(responses.settingsHash, settingsHash)))
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
function hotStatements() {
  return prepared("assign", (database) => ({
    insert: database
      .insert(assignments)
      .values({
        studyId: sql.placeholder("studyId"),
        annotatorId: sql.placeholder("annotatorId"),
        promptAId: sql.placeholder("promptAId"),
        promptBId: sql.placeholder("promptBId"),
        queryId: sql.placeholder("queryId"),
        leftIsA: sql.placeholder("leftIsA"),
        issuedAt: sql.placeholder("issuedAt"),
        expiresAt: sql.placeholder("expiresAt"),
        policy: sql.placeholder("policy"),
        engineRound: sql.placeholder("engineRound"),
      })
      .returning()
      .prepare(),
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
      .where(and(eq(prompts.studyId, sql.placeholder("studyId")), eq(prompts.active, true)))
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
 * Rejection sampling of a uniformly random pair of active prompts that share a ready query and is
 * not to `avoid` (held by someone, or just answered), with a few indexed lookups per draw: O(1) expected
 * when most responses are ready. Null after 32 misses, where the caller falls back to the full scan.
 */
function sampleReadyPair(studyId: number, settingsHash: string, random: () => number, avoid: (pair: ProposedPair) => boolean) {
  const ids = activePromptIds(studyId);
  if (ids.length < 2) return null;
  for (let attempt = 0; attempt < 32; attempt++) {
    const i = Math.floor(random() * ids.length);
    let j = Math.floor(random() * (ids.length - 1));
    if (j >= i) j++;
    const pair = { promptAId: ids[i]!, promptBId: ids[j]! };
    if (avoid(pair)) continue;
    const queries = commonReadyQueries(pair, settingsHash);
    if (queries.length > 0) return { pair, queries };
  }
  return null;
}

// Active prompt ids per study, re-read at most once a second: the random fallback runs on every
// request while the engine's proposals are taken, and re-reading a 1,000-prompt pool each time
// dominated the request (bench:server profile). A prompt added or deactivated counts within a second.
const ACTIVE_PROMPTS_TTL_MS = 1_000;
const activePromptCache = new Map<number, { ids: number[]; readAt: number }>();

function activePromptIds(studyId: number): number[] {
  const cached = activePromptCache.get(studyId);
  if (cached && Date.now() - cached.readAt < ACTIVE_PROMPTS_TTL_MS) return cached.ids;
  const ids = hotStatements()
    .activePromptIds.all({ studyId })
    .map((row) => row.id);
  activePromptCache.set(studyId, { ids, readAt: Date.now() });
  return ids;
}

/**
 * Uniform over all pairs that share a ready query, by enumeration (only for sparse studies, or when
 * sampling found only avoided pairs): O(n^2). Pairs in `avoid` are used only when nothing else is left.
 */
function randomReadyPair(readyQueries: Map<number, Set<number>>, random: () => number, avoid: ReadonlySet<string>): ProposedPair | null {
  const ids = [...readyQueries.keys()];
  const candidates: ProposedPair[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const pair = { promptAId: ids[i]!, promptBId: ids[j]! };
      if (commonQueries(readyQueries, pair).length > 0) candidates.push(pair);
    }
  }
  const preferred = candidates.filter((pair) => !avoid.has(pairKey(pair.promptAId, pair.promptBId)));
  const pool = preferred.length > 0 ? preferred : candidates;
  return pool.length > 0 ? pool[Math.floor(random() * pool.length)]! : null;
}
