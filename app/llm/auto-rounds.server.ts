import { and, asc, desc, eq, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { autoRounds, engineSnapshots, growthRounds, prompts, promptInSelection, studies, type JobRequester } from "../../db/schema";
import { db } from "~/db.server";
import { recordAudit } from "~/models/audit.server";
import { fieldConstraintRegistry } from "~/utils/form-constraints";
import { AUTO_ROUNDS_ACTOR, crossedThreshold, exhaustedBudget, largestFitting, leaderIsStable, leaderRun } from "~/utils/auto-round-rules";
import { ResponseCapError } from "./generation-queue.server";
import { MAX_GROWTH_PARENTS, MAX_GROWTH_PER_ROUND, planGrowth, queueGrowthRound, type GrowthPlan } from "./growth.server";
import type { Queryable } from "./queryable.server";
import { needsConfirmation } from "./response-plan.server";
import { providerConfig, wakeGeneration } from "./runtime.server";

// Automatic rounds (issue 17 §3, ADR 0033). After each engine snapshot's commit (never inside a vote's transaction),
// the engine host asks whether a round is due: every N decisive votes (left or right, the engine's votes), when the
// leader has been stable, it queues the same growth round an owner queues by hand (planGrowth + queueGrowthRound,
// ADR 0024), which the generation worker runs off the request path. The threshold crossed is recorded with the round
// in one transaction under a unique (study, threshold) index, so a crossing queues at most one round whatever calls
// this (two snapshots racing, a restart that replays the check). The retirement rule runs after every snapshot
// already (app/models/retirement.server.ts); each round records what it retired since the previous one.

/** Who the audit log and the growth round name as the requester. */
const AUTO_ACTOR = AUTO_ROUNDS_ACTOR;
const AUTO_REQUESTER: JobRequester = { userId: null, tokenId: null, label: AUTO_ACTOR };

const optionalWholeNumber = (name: string, min: number, max: number) =>
  z
    .string({ error: `${name} must be a whole number` })
    .trim()
    .refine((value) => value === "" || /^\d{1,7}$/.test(value), `${name} must be a whole number`)
    .transform((value) => (value === "" ? null : Number(value)))
    .pipe(z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`).nullable());

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string({ error: `${name} is required` })
    .trim()
    .regex(/^\d{1,7}$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

/** The setup page's "Automatic rounds" form: every N decisive votes (blank: off), K from the top m, stability, budgets. */
export const AutoRoundsFormSchema = z
  .object({
    autoRoundEvery: optionalWholeNumber("Every", 5, 100_000),
    autoRoundCount: wholeNumber("New prompts", 1, MAX_GROWTH_PER_ROUND),
    autoRoundParents: wholeNumber("Parents", 1, MAX_GROWTH_PARENTS),
    autoRoundStableVotes: wholeNumber("Stable for", 0, 100_000),
    autoRoundMaxRounds: wholeNumber("Rounds", 1, 100),
    autoRoundMaxPrompts: optionalWholeNumber("Prompts", 1, 10_000),
    autoRoundMaxCostUsd: z
      .string({ error: "The cost budget must be a number of dollars" })
      .trim()
      .refine((value) => value === "" || /^\d{1,6}(\.\d{1,4})?$/.test(value), "The cost budget must be a number of dollars, like 2.50")
      .transform((value) => (value === "" ? null : Number(value)))
      // The rule is the regex above; the input's bounds for the browser (ADR 0040).
      .register(fieldConstraintRegistry, { type: "number", step: "any", min: 0 }),
  })
  .strict();

export type AutoRoundsSettings = {
  autoRoundEvery: number | null;
  autoRoundCount: number;
  autoRoundParents: number;
  autoRoundStableVotes: number;
  autoRoundMaxRounds: number;
  autoRoundMaxPrompts: number | null;
  autoRoundMaxCostUsd: number | null;
};

/** Saves the settings and clears a previous stop, so the loop is judged afresh at the next snapshot (inside the caller's transaction). */
export function saveAutoRoundsSettings(database: Queryable, studyId: number, settings: AutoRoundsSettings, setBy: JobRequester): void {
  database
    .update(studies)
    .set({ ...settings, autoRoundsSetBy: settings.autoRoundEvery === null ? null : setBy, autoRoundsStoppedAt: null, autoRoundsStopReason: null })
    .where(eq(studies.id, studyId))
    .run();
}

/** What the engine host knows after a snapshot's commit. */
export interface SnapshotFacts {
  /** Votes the engine counted (all but skips): the snapshot's vote count. */
  voteCount: number;
  /** Of those, the decisive ones (left or right). */
  decisiveVotes: number;
  converged: boolean;
  recommendedPromptId: number | null;
  recommendedComparisons: number | null;
}

export type AutoRoundOutcome =
  | { kind: "off" }
  | { kind: "waiting"; reason: string }
  | { kind: "queued"; autoRoundId: number; growthRoundId: number; count: number }
  | { kind: "stopped"; reason: string };

/**
 * Runs the automatic-round rule for one study after a snapshot (synchronous; O(prompts) reads plus the growth plan's
 * few comment reads for the m parents, and at most one short write transaction: it never waits on the provider).
 * Returns what it did; `holdsClosure` is true while the loop is active, so the stopping rule does not close the
 * study before the loop has stopped (app/engine/study-engine.server.ts).
 */
export function considerAutomaticRound(studyId: number, facts: SnapshotFacts): AutoRoundOutcome & { holdsClosure: boolean } {
  // Most studies have the loop off: one indexed read, no transaction.
  const on = db()
    .select({ every: studies.autoRoundEvery, stoppedAt: studies.autoRoundsStoppedAt, status: studies.status })
    .from(studies)
    .where(eq(studies.id, studyId))
    .get();
  if (!on || on.every === null || on.stoppedAt !== null || on.status !== "running") return { kind: "off", holdsClosure: false };
  // Immediate: the write lock is taken before the reads, so two checks (two processes on one file) run one after the
  // other and the second sees the first's round; the unique (study, threshold) index backs it.
  const outcome = db().transaction((tx) => decide(tx, studyId, facts), { behavior: "immediate" });
  if (outcome.kind === "queued") wakeGeneration();
  return { ...outcome, holdsClosure: outcome.kind === "queued" || outcome.kind === "waiting" };
}

function decide(tx: Queryable, studyId: number, facts: SnapshotFacts): AutoRoundOutcome {
  const study = tx.select().from(studies).where(eq(studies.id, studyId)).get();
  if (!study || study.autoRoundEvery === null || study.autoRoundsStoppedAt !== null || study.status !== "running") return { kind: "off" };
  const provider = providerConfig();
  if (!provider) return stop(tx, studyId, "no LLM provider is configured");

  const rounds = tx
    .select({ autoRound: autoRounds, growth: { state: growthRounds.state, result: growthRounds.result } })
    .from(autoRounds)
    .leftJoin(growthRounds, eq(growthRounds.id, autoRounds.growthRoundId))
    .where(eq(autoRounds.studyId, studyId))
    .orderBy(asc(autoRounds.id))
    .all();
  const last = rounds.at(-1);
  if (last?.growth && (last.growth.state === "queued" || last.growth.state === "running"))
    return { kind: "waiting", reason: `round #${last.autoRound.growthRoundId} is still generating` };

  // The stopping rule with no better prompt from the last round ends the loop; a leader the last round made keeps it going.
  if (facts.converged && last) {
    const added = last.growth?.result?.added ?? [];
    if (facts.recommendedPromptId === null || !added.includes(facts.recommendedPromptId))
      return stop(tx, studyId, `the stopping rule fired at ${facts.voteCount} votes and the last round found no better prompt`);
  }

  const spent = {
    rounds: rounds.length,
    prompts: rounds.reduce((sum, row) => sum + row.autoRound.count, 0),
    costUsd: rounds.reduce((sum, row) => sum + (row.autoRound.estimatedCostUsd ?? 0), 0),
  };
  const budgets = { maxRounds: study.autoRoundMaxRounds, maxPrompts: study.autoRoundMaxPrompts, maxCostUsd: study.autoRoundMaxCostUsd };
  const exhausted = exhaustedBudget(budgets, spent);
  if (exhausted) return stop(tx, studyId, exhausted);

  const threshold = crossedThreshold(facts.decisiveVotes, study.autoRoundEvery);
  const lastThreshold = last?.autoRound.thresholdVotes ?? 0;
  if (threshold === 0 || threshold <= lastThreshold)
    return { kind: "waiting", reason: `next round at ${Math.max(lastThreshold, threshold) + study.autoRoundEvery} decisive votes` };

  const series = tx
    .select({ voteCount: engineSnapshots.voteCount, recommendedPromptId: engineSnapshots.recommendedPromptId })
    .from(engineSnapshots)
    .where(eq(engineSnapshots.studyId, studyId))
    .orderBy(desc(engineSnapshots.voteCount), desc(engineSnapshots.id))
    .all();
  const run = leaderRun(series);
  if (
    !run ||
    run.leaderPromptId !== facts.recommendedPromptId ||
    !leaderIsStable(run, facts.voteCount, facts.recommendedComparisons, study.autoRoundStableVotes)
  )
    return { kind: "waiting", reason: "the leader is not stable yet" };

  // K within the prompt budget and the pool cap, then the largest K' whose plan needs no confirmation and fits the cost budget.
  let count = study.autoRoundCount;
  const notes: string[] = [];
  if (budgets.maxPrompts !== null) count = Math.min(count, budgets.maxPrompts - spent.prompts);
  if (study.poolCap !== null) {
    const inSelection = tx
      .select({ n: sql<number>`count(*)` })
      .from(prompts)
      .where(and(eq(prompts.studyId, studyId), promptInSelection))
      .get()!.n;
    count = Math.min(count, study.poolCap - inSelection);
    if (count <= 0) return { kind: "waiting", reason: `the pool is at its cap of ${study.poolCap} prompts in selection` };
  }
  const plans = new Map<number, GrowthPlan | null>();
  const planFor = (k: number) => {
    if (!plans.has(k)) plans.set(k, planGrowth(tx, studyId, k, study.autoRoundParents, provider));
    return plans.get(k)!;
  };
  let costUnknown = false;
  let fitting: number;
  try {
    if (planFor(count) === null) return { kind: "waiting", reason: "no prompt is in selection to grow from" };
    fitting = largestFitting(count, (k) => {
      const plan = planFor(k).plan;
      if (needsConfirmation(plan)) return false;
      if (budgets.maxCostUsd === null) return true;
      if (plan.costUsd === null) {
        costUnknown = true;
        return false;
      }
      return spent.costUsd + plan.costUsd <= budgets.maxCostUsd;
    });
  } catch (error) {
    if (error instanceof ResponseCapError) return stop(tx, studyId, error.message);
    throw error;
  }
  if (costUnknown) return stop(tx, studyId, `cost unknown for model ${study.model} (set OPENAI_PRICES), and a cost budget is set`);
  if (fitting === 0) {
    const one = planFor(1).plan;
    return stop(
      tx,
      studyId,
      needsConfirmation(one)
        ? "a round of even one prompt would need a cost confirmation, which an automatic round never gives: grow by hand to confirm it"
        : "the next round would pass the cost budget",
    );
  }
  if (fitting < study.autoRoundCount)
    notes.push(`${fitting} of ${study.autoRoundCount} prompts, to stay within the budgets and under the confirmation threshold`);
  const growth = planFor(fitting);

  const previousAt = last?.autoRound.createdAt ?? null;
  const retired = tx
    .select({ id: prompts.id })
    .from(prompts)
    .where(
      and(eq(prompts.studyId, studyId), isNotNull(prompts.retirement), previousAt ? gt(prompts.retiredAt, previousAt) : isNotNull(prompts.retiredAt)),
    )
    .orderBy(asc(prompts.id))
    .all()
    .map((row) => row.id);
  const inserted = tx
    .insert(autoRounds)
    .values({
      studyId,
      thresholdVotes: threshold,
      decisiveVotes: facts.decisiveVotes,
      voteCount: facts.voteCount,
      leaderPromptId: run.leaderPromptId,
      leaderSinceVotes: run.sinceVotes,
      count: fitting,
      parents: growth.leaders.length,
      estimatedCostUsd: growth.plan.costUsd,
      retired,
      note: notes.length > 0 ? notes.join("; ") : null,
    })
    .onConflictDoNothing()
    .returning({ id: autoRounds.id })
    .get();
  // Another check recorded this crossing first: it queued the round.
  if (!inserted) return { kind: "waiting", reason: `the round of the ${threshold}-vote threshold is already queued` };
  const growthRoundId = queueGrowthRound(tx, {
    studyId,
    count: fitting,
    model: study.model,
    leaders: growth.leaders,
    instruction: growth.instruction,
    requestedBy: AUTO_REQUESTER,
  });
  tx.update(autoRounds).set({ growthRoundId }).where(eq(autoRounds.id, inserted.id)).run();
  recordAudit(tx, {
    studyId,
    actorUserId: null,
    actorTokenId: null,
    actor: AUTO_ACTOR,
    action: "auto_round.queued",
    details: {
      autoRoundId: inserted.id,
      growthRoundId,
      thresholdVotes: threshold,
      decisiveVotes: facts.decisiveVotes,
      leaderPromptId: run.leaderPromptId,
      leaderSinceVotes: run.sinceVotes,
      count: fitting,
      parents: growth.leaders.map((leader) => leader.promptId),
      estimatedCostUsd: growth.plan.costUsd,
      retired,
    },
  });
  return { kind: "queued", autoRoundId: inserted.id, growthRoundId, count: fitting };
}

function stop(tx: Queryable, studyId: number, reason: string): AutoRoundOutcome {
  const { changes } = tx
    .update(studies)
    .set({ autoRoundsStoppedAt: new Date(), autoRoundsStopReason: reason })
    .where(and(eq(studies.id, studyId), isNull(studies.autoRoundsStoppedAt)))
    .run();
  if (changes > 0)
    recordAudit(tx, { studyId, actorUserId: null, actorTokenId: null, actor: AUTO_ACTOR, action: "auto_rounds.stopped", details: { reason } });
  return { kind: "stopped", reason };
}

/** The study's automatic rounds with what their growth round did, oldest first, for the setup page's log. */
export function listAutoRounds(database: Queryable, studyId: number) {
  return database
    .select({
      id: autoRounds.id,
      thresholdVotes: autoRounds.thresholdVotes,
      decisiveVotes: autoRounds.decisiveVotes,
      voteCount: autoRounds.voteCount,
      leaderPromptId: autoRounds.leaderPromptId,
      leaderSinceVotes: autoRounds.leaderSinceVotes,
      growthRoundId: autoRounds.growthRoundId,
      count: autoRounds.count,
      parents: autoRounds.parents,
      estimatedCostUsd: autoRounds.estimatedCostUsd,
      retired: autoRounds.retired,
      note: autoRounds.note,
      createdAt: autoRounds.createdAt,
      state: growthRounds.state,
      result: growthRounds.result,
      joinedAtVotes: growthRounds.joinedAtVotes,
    })
    .from(autoRounds)
    .leftJoin(growthRounds, eq(growthRounds.id, autoRounds.growthRoundId))
    .where(eq(autoRounds.studyId, studyId))
    .orderBy(asc(autoRounds.id))
    .all();
}
