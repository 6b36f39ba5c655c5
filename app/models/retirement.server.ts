import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { armsToRetire, type RetirementCandidate } from "../../bandit/retirement";
import { prompts, promptInSelection, studies, type PromptRetirement } from "../../db/schema";
import { db } from "~/db.server";
import { recordAudit } from "./audit.server";
import type { Queryable } from "~/llm/queryable.server";

// The retirement rule applied to a study after each engine snapshot (issue 17 §2; bandit/retirement.ts): the
// figures come from the statistics the snapshot was written from (raw-vote Bradley–Terry with bootstrap intervals),
// the retirements are written in one transaction with their audit rows, and the engine hears of them afterwards.

/** The pool cap alone (rule off) still needs measured arms to retire: this many comparisons. */
const CAP_ONLY_MIN_COMPARISONS = 10;

export interface ArmFigures {
  arm: number;
  score: number;
  lower: number;
  upper: number;
  comparisons?: number;
}

/**
 * Retires what the study's rule rules out, given the statistics per arm (`armPromptIds[arm]` is its prompt).
 * Returns the prompt ids retired (none while the rule and the cap are off).
 */
export function applyRetirementRule(studyId: number, armPromptIds: readonly number[], arms: readonly ArmFigures[], voteCount: number): number[] {
  const study = db()
    .select({ minComparisons: studies.retireMinComparisons, margin: studies.retireMargin, poolCap: studies.poolCap })
    .from(studies)
    .where(eq(studies.id, studyId))
    .get();
  if (!study || (study.minComparisons === null && study.poolCap === null)) return [];
  const flags = new Map(
    db()
      .select({ id: prompts.id, inSelection: promptInSelection, kept: prompts.keptByOwner })
      .from(prompts)
      .where(eq(prompts.studyId, studyId))
      .all()
      .map((row) => [row.id, row]),
  );
  const candidates: RetirementCandidate[] = [];
  for (const figures of arms) {
    const flag = flags.get(armPromptIds[figures.arm]!);
    if (flag) candidates.push({ ...figures, comparisons: figures.comparisons ?? 0, inSelection: Number(flag.inSelection) === 1, kept: flag.kept });
  }
  const options = {
    minComparisons: study.minComparisons ?? CAP_ONLY_MIN_COMPARISONS,
    // The cap alone: nothing is ruled out by the intervals.
    margin: study.minComparisons === null ? Infinity : study.margin,
    poolCap: study.poolCap,
  };
  const retirements = armsToRetire(candidates, options);
  if (retirements.length === 0) return [];
  const now = new Date();
  return db().transaction((tx) => {
    const retired: number[] = [];
    for (const retirement of retirements) {
      const promptId = armPromptIds[retirement.arm]!;
      const figures: PromptRetirement = {
        rule: retirement.rule,
        comparisons: retirement.comparisons,
        score: retirement.score,
        upper: retirement.upper,
        leaderPromptId: armPromptIds[retirement.leaderArm]!,
        leaderLower: retirement.leaderLower,
        margin: study.margin,
        minComparisons: options.minComparisons,
        poolCap: study.poolCap,
        voteCount,
      };
      // Still in selection at the write (an owner may have disabled it meanwhile).
      const { changes } = tx
        .update(prompts)
        .set({ retiredAt: now, retirement: figures })
        .where(and(eq(prompts.id, promptId), eq(prompts.active, true), isNull(prompts.retiredAt), eq(prompts.keptByOwner, false)))
        .run();
      if (changes === 0) continue;
      retired.push(promptId);
      recordAudit(tx, {
        studyId,
        actorUserId: null,
        actorTokenId: null,
        actor: "retirement rule",
        action: "prompt.retired",
        details: { promptId, ...figures },
      });
    }
    return retired;
  });
}

export const RetirementFormSchema = z
  .object({
    retireMinComparisons: z
      .string()
      .trim()
      .transform((value) => (value === "" ? null : Number(value)))
      .pipe(
        z
          .number({ error: "Minimum comparisons must be a whole number" })
          .int("Minimum comparisons must be a whole number")
          .min(1, "Minimum comparisons must be at least 1")
          .max(100_000, "Minimum comparisons must be at most 100000")
          .nullable(),
      ),
    retireMargin: z
      .string()
      .trim()
      .transform((value) => (value === "" ? 0 : Number(value)))
      .pipe(
        z
          .number({ error: "The margin must be a number" })
          .finite("The margin must be a number")
          .min(0, "The margin must be at least 0")
          .max(20, "The margin must be at most 20"),
      ),
    poolCap: z
      .string()
      .trim()
      .transform((value) => (value === "" ? null : Number(value)))
      .pipe(
        z
          .number({ error: "The pool cap must be a whole number" })
          .int("The pool cap must be a whole number")
          .min(2, "The pool cap must be at least 2")
          .max(100_000, "The pool cap must be at most 100000")
          .nullable(),
      ),
  })
  .strict();

export type RetirementSettings = z.infer<typeof RetirementFormSchema>;

/** Saves the study's retirement rule and pool cap (applied from the next snapshot on). */
export function updateRetirementSettings(database: Queryable, studyId: number, settings: RetirementSettings): void {
  database.update(studies).set(settings).where(eq(studies.id, studyId)).run();
}

/** How many of the study's prompts are in selection now. */
export function promptsInSelection(database: Queryable, studyId: number): number {
  return database
    .select({ id: prompts.id })
    .from(prompts)
    .where(and(eq(prompts.studyId, studyId), promptInSelection))
    .all().length;
}
