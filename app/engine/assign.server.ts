import { and, desc, eq, gt, lt } from "drizzle-orm";
import { assignments, prompts, queries, responses, studies } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { db } from "~/db.server";
import { env } from "~/env.server";
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
 * pairs already handed out counted as pending) that no other annotator holds right now and that is
 * not the duel this annotator just answered. No LLM call and no training happens here; before the
 * engine's first fit, or when every proposal is taken, the pair is uniform random over the pairs
 * whose responses are ready (recorded with policy "random"). The query is drawn uniformly among
 * those where both prompts' responses are ready.
 */
export function assignNextPair(studyId: number, annotatorId: number, options: AssignOptions = {}) {
  const now = options.now ?? new Date();
  const random = options.random ?? Math.random;
  const study = db().select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study) return null;
  const engine = getStudyEngine(studyId);
  const proposals = engine.proposedPairs();
  const assignment = db().transaction((tx) => {
    tx.update(assignments)
      .set({ status: "expired" })
      .where(and(eq(assignments.studyId, studyId), eq(assignments.status, "open"), lt(assignments.expiresAt, now)))
      .run();
    const open = tx
      .select()
      .from(assignments)
      .where(and(eq(assignments.studyId, studyId), eq(assignments.annotatorId, annotatorId), eq(assignments.status, "open")))
      .get();
    if (open) return { row: open, created: false };

    const readyQueries = readyQueriesByPrompt(tx, studyId, generationSettingsHash(study));
    const previous = tx
      .select()
      .from(assignments)
      .where(and(eq(assignments.studyId, studyId), eq(assignments.annotatorId, annotatorId)))
      .orderBy(desc(assignments.id))
      .get();
    const held = new Set(
      tx
        .select({ a: assignments.promptAId, b: assignments.promptBId })
        .from(assignments)
        .where(and(eq(assignments.studyId, studyId), eq(assignments.status, "open")))
        .all()
        .map(({ a, b }) => pairKey(a, b)),
    );
    const lastPair = previous ? pairKey(previous.promptAId, previous.promptBId) : null;
    const usable = (pair: ProposedPair) => {
      const key = pairKey(pair.promptAId, pair.promptBId);
      return key !== lastPair && !held.has(key) && commonQueries(readyQueries, pair).length > 0;
    };
    const proposal = proposals.find(usable);
    const pair = proposal ?? randomReadyPair(readyQueries, random, lastPair);
    if (!pair) return null;
    const choices = commonQueries(readyQueries, pair);
    const queryId = choices[Math.floor(random() * choices.length)]!;
    const row = tx
      .insert(assignments)
      .values({
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
      })
      .returning()
      .get();
    return { row, created: true };
  });
  if (!assignment) return null;
  // A new pending pair changes what the policy should propose to the next annotator.
  if (assignment.created) engine.requestUpdate();
  return assignment.row;
}

/** The annotator's open, unexpired assignment in this study, if any (read-only). */
export function getOpenAssignment(studyId: number, annotatorId: number, now: Date = new Date()) {
  return db()
    .select()
    .from(assignments)
    .where(
      and(
        eq(assignments.studyId, studyId),
        eq(assignments.annotatorId, annotatorId),
        eq(assignments.status, "open"),
        gt(assignments.expiresAt, now),
      ),
    )
    .get();
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
    .where(and(eq(prompts.studyId, studyId), eq(prompts.active, true), eq(responses.status, "ready"), eq(responses.settingsHash, settingsHash)))
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

function commonQueries(readyQueries: Map<number, Set<number>>, pair: ProposedPair): number[] {
  const a = readyQueries.get(pair.promptAId);
  const b = readyQueries.get(pair.promptBId);
  if (!a || !b) return [];
  return [...a].filter((queryId) => b.has(queryId));
}

/** Uniform over unordered prompt pairs that share a ready query, avoiding `avoid` when another exists. */
function randomReadyPair(readyQueries: Map<number, Set<number>>, random: () => number, avoid: string | null): ProposedPair | null {
  const ids = [...readyQueries.keys()];
  const candidates: ProposedPair[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const pair = { promptAId: ids[i]!, promptBId: ids[j]! };
      if (commonQueries(readyQueries, pair).length > 0) candidates.push(pair);
    }
  }
  const preferred = candidates.filter((pair) => pairKey(pair.promptAId, pair.promptBId) !== avoid);
  const pool = preferred.length > 0 ? preferred : candidates;
  return pool.length > 0 ? pool[Math.floor(random() * pool.length)]! : null;
}
