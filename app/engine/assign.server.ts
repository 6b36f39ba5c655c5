import { and, desc, eq, gt, lt } from "drizzle-orm";
import { assignments, prompts, queries, responses, studies } from "../../db/schema";
import { generationSettingsHash } from "../../db/text";
import { db } from "~/db.server";
import { env } from "~/env.server";

export const RANDOM_POLICY = "random";

interface AssignOptions {
  now?: Date;
  random?: () => number;
}

/**
 * The assignment this annotator should answer next in this study: their open, unexpired one if any,
 * else a new one. Returns null when the study has no pair whose two responses are ready.
 *
 * Pair choice: UNIFORM RANDOM over (prompt pair, query) triples whose responses are both ready. This
 * is the walking skeleton's placeholder until the bandit engine drives selection (issue 5).
 */
export function assignNextPair(studyId: number, annotatorId: number, options: AssignOptions = {}) {
  const now = options.now ?? new Date();
  const random = options.random ?? Math.random;
  return db().transaction((tx) => {
    tx.update(assignments)
      .set({ status: "expired" })
      .where(and(eq(assignments.studyId, studyId), eq(assignments.status, "open"), lt(assignments.expiresAt, now)))
      .run();
    const open = tx
      .select()
      .from(assignments)
      .where(and(eq(assignments.studyId, studyId), eq(assignments.annotatorId, annotatorId), eq(assignments.status, "open")))
      .get();
    if (open) return open;

    const study = tx.select().from(studies).where(eq(studies.id, studyId)).get();
    if (!study) return null;
    const settingsHash = generationSettingsHash(study);
    const ready = tx
      .select({ promptId: responses.promptId, queryId: responses.queryId })
      .from(responses)
      .innerJoin(prompts, eq(prompts.id, responses.promptId))
      .innerJoin(queries, eq(queries.id, responses.queryId))
      .where(
        and(
          eq(prompts.studyId, studyId),
          eq(prompts.active, true),
          eq(responses.status, "ready"),
          eq(responses.settingsHash, settingsHash),
        ),
      )
      .orderBy(responses.queryId, responses.promptId)
      .all();
    const promptsByQuery = new Map<number, number[]>();
    for (const row of ready) {
      const list = promptsByQuery.get(row.queryId) ?? [];
      list.push(row.promptId);
      promptsByQuery.set(row.queryId, list);
    }
    const previous = tx
      .select()
      .from(assignments)
      .where(and(eq(assignments.studyId, studyId), eq(assignments.annotatorId, annotatorId)))
      .orderBy(desc(assignments.id))
      .get();
    const triples = countTriples(promptsByQuery);
    if (triples === 0) return null;
    // Resample a few times so the same duel is not shown twice in a row (unless it is the only one).
    let pick = sampleTriple(promptsByQuery, triples, random);
    for (let attempt = 0; attempt < 8 && previous && triples > 1 && sameDuel(previous, pick); attempt++) {
      pick = sampleTriple(promptsByQuery, triples, random);
    }
    const ttlMs = env().ASSIGNMENT_TTL_MINUTES * 60_000;
    return tx
      .insert(assignments)
      .values({
        studyId,
        annotatorId,
        promptAId: pick.promptA,
        promptBId: pick.promptB,
        queryId: pick.queryId,
        leftIsA: random() < 0.5,
        issuedAt: now,
        expiresAt: new Date(now.getTime() + ttlMs),
        policy: RANDOM_POLICY,
        engineRound: 0,
      })
      .returning()
      .get();
  });
}

interface Triple {
  queryId: number;
  promptA: number;
  promptB: number;
}

function countTriples(promptsByQuery: Map<number, number[]>): number {
  let total = 0;
  for (const list of promptsByQuery.values()) total += (list.length * (list.length - 1)) / 2;
  return total;
}

/** Draws one (query, unordered prompt pair) uniformly among all `total` triples. */
function sampleTriple(promptsByQuery: Map<number, number[]>, total: number, random: () => number): Triple {
  let index = Math.floor(random() * total);
  for (const [queryId, list] of promptsByQuery) {
    const pairs = (list.length * (list.length - 1)) / 2;
    if (index >= pairs) {
      index -= pairs;
      continue;
    }
    for (let i = 0; i < list.length; i++) {
      const rowLength = list.length - 1 - i;
      if (index < rowLength) return { queryId, promptA: list[i]!, promptB: list[i + 1 + index]! };
      index -= rowLength;
    }
  }
  throw new Error("sampleTriple: index out of range");
}

function sameDuel(previous: { queryId: number; promptAId: number; promptBId: number }, pick: Triple): boolean {
  const samePair =
    (previous.promptAId === pick.promptA && previous.promptBId === pick.promptB) ||
    (previous.promptAId === pick.promptB && previous.promptBId === pick.promptA);
  return samePair && previous.queryId === pick.queryId;
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
