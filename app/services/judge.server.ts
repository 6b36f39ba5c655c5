import { and, eq, inArray } from "drizzle-orm";
import { annotators, judgeBatches, studyAnnotators, studyJudges, type JudgeMode } from "../../db/schema";
import { actorLabel } from "~/auth/actor.server";
import { assertPermission, ownerSideActor, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { discardStudyEngine } from "~/engine/engine.server";
import { judgeBudgetLeft, studyJudge } from "~/llm/judge.server";
import { providerConfig, wakeGeneration } from "~/llm/runtime.server";
import { setAnnotatorExcluded } from "~/models/membership.server";
import { auditStudy } from "./audit.server";

// The study's LLM judge (issue 17 §4; ADR 0032), as its owners configure and run it.

export interface JudgeSettingsInput {
  model: string;
  instruction: string;
  mode: JudgeMode;
  maxPairs: number | null;
  maxCostUsd: number | null;
  pairsPerMinute: number;
}

export type JudgeResult<T = object> = ({ ok: true } & T) | { ok: false; field: string; error: string };

/** The judge's display name, as the quality page and the raw log show it. */
export const JUDGE_DISPLAY_NAME = "LLM judge";

/**
 * Creates or changes the study's judge in one transaction: its annotator (kind "judge") and study membership on the
 * first save, the settings, whether its votes count (the exclusion flag of ADR 0025: set for "separate", cleared for
 * "counted" and "prescreen"; the tally trigger moves its votes), and the audit row. When its votes start or stop
 * counting, the study's engine is rebuilt from the votes it now counts, after the commit.
 */
export async function configureJudgeAs(
  access: StudyAccess,
  input: JudgeSettingsInput,
  now = new Date(),
): Promise<JudgeResult<{ countingChanged: boolean }>> {
  assertPermission(access, "study:manage");
  if (input.maxCostUsd !== null) {
    const provider = providerConfig();
    if (!provider?.prices[input.model]) {
      return {
        ok: false,
        field: "judgeMaxCostUsd",
        error: `No price is known for ${input.model}, so a budget in dollars cannot be kept: set OPENAI_PRICES, or use a budget of pairs.`,
      };
    }
  }
  const excludedAt = input.mode === "separate" ? now : null;
  const settings = {
    model: input.model,
    instruction: input.instruction,
    mode: input.mode,
    maxPairs: input.maxPairs,
    maxCostUsd: input.maxCostUsd,
    pairsPerMinute: input.pairsPerMinute,
  };
  const countingChanged = db().transaction((tx) => {
    const existing = studyJudge(tx, access.studyId);
    let changed = false;
    if (!existing) {
      const annotator = tx.insert(annotators).values({ displayName: JUDGE_DISPLAY_NAME, kind: "judge" }).returning({ id: annotators.id }).get();
      tx.insert(studyAnnotators).values({ studyId: access.studyId, annotatorId: annotator.id, excludedAt }).run();
      tx.insert(studyJudges)
        .values({ studyId: access.studyId, annotatorId: annotator.id, ...settings })
        .run();
    } else {
      tx.update(studyJudges).set(settings).where(eq(studyJudges.studyId, access.studyId)).run();
      changed = setAnnotatorExcluded(tx, access.studyId, existing.annotatorId, excludedAt) === "changed";
    }
    auditStudy(tx, access, "judge.configured", { ...settings, instruction: undefined, created: !existing, countingChanged: changed });
    return changed;
  });
  if (countingChanged) await discardStudyEngine(access.studyId);
  return { ok: true, countingChanged };
}

/**
 * Queues a judged batch of up to `pairs` pairs for the generation worker (cut to the budget of pairs left), audited;
 * the worker is woken after the commit. Refused without a provider, without a judge, with a batch still running, or
 * with a budget spent.
 */
export function requestJudgeBatchAs(access: StudyAccess, request: { pairs: number }): JudgeResult<{ batchId: number; pairs: number }> {
  assertPermission(access, "study:manage");
  const field = "judgeBatchPairs";
  if (!providerConfig()) return { ok: false, field, error: "The judge needs an LLM provider (OPENAI_BASE_URL or OPENAI_API_KEY)." };
  const result = db().transaction((tx): JudgeResult<{ batchId: number; pairs: number }> => {
    const judge = studyJudge(tx, access.studyId);
    if (!judge) return { ok: false, field, error: "Save the judge's settings first." };
    const open = tx
      .select({ id: judgeBatches.id })
      .from(judgeBatches)
      .where(and(eq(judgeBatches.studyId, access.studyId), inArray(judgeBatches.state, ["queued", "running"])))
      .get();
    if (open) return { ok: false, field, error: `Batch #${open.id} is still running; wait for it to finish.` };
    const budget = judgeBudgetLeft(tx, judge);
    if (budget.pairs === 0) return { ok: false, field, error: `The judge's budget of ${judge.maxPairs} pairs is spent.` };
    if (budget.costUsd !== null && budget.costUsd <= 0) return { ok: false, field, error: `The judge's budget of $${judge.maxCostUsd} is spent.` };
    const pairs = budget.pairs === null ? request.pairs : Math.min(request.pairs, budget.pairs);
    const batch = tx
      .insert(judgeBatches)
      .values({
        studyId: access.studyId,
        pairs,
        model: judge.model,
        mode: judge.mode,
        requestedBy: (() => {
          const actor = ownerSideActor(access);
          return {
            userId: actor.kind === "user" ? actor.user.id : actor.token.userId,
            tokenId: actor.kind === "token" ? actor.token.id : null,
            label: actorLabel(actor),
          };
        })(),
      })
      .returning({ id: judgeBatches.id })
      .get();
    auditStudy(tx, access, "judge.batch_requested", { batchId: batch.id, pairs, asked: request.pairs, model: judge.model, mode: judge.mode });
    return { ok: true, batchId: batch.id, pairs };
  });
  if (result.ok) wakeGeneration();
  return result;
}
