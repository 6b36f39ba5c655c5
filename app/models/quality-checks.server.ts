import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { goldItems, prompts, queries, studies } from "../../db/schema";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";
import { decimalId, formNumber } from "~/utils/strict-fields";

// The quality checks an owner sets on the Annotator quality page (issue 18 §2, §3, §4; ADR 0034, 0042): the
// audit rate and share, the gold rate, the overlap rate, and the gold items with their known answers.

/** Each rate at most this: checks stay a minority of the work. */
export const MAX_CHECK_RATE = 0.5;

const rate = (name: string) =>
  formNumber({
    min: 0,
    max: MAX_CHECK_RATE,
    message: `${name} must be a number from 0 to ${MAX_CHECK_RATE}, e.g. 0.05`,
    blankMessage: `${name} is required`,
  });

export const QualityChecksFormSchema = z
  .object({
    intent: z.literal("checks"),
    auditRate: rate("Audit rate"),
    auditMaxShare: formNumber({
      min: 0,
      max: 1,
      message: "Audit share must be a number from 0 to 1, e.g. 0.1",
      blankMessage: "Audit share is required",
    }),
    goldRate: rate("Gold rate"),
    overlapRate: rate("Overlap rate"),
  })
  // One uniform draw decides among the three (quality/checks.ts), so together they cannot pass 1.
  .refine((form) => form.auditRate + form.goldRate + form.overlapRate <= 1 + 1e-9, {
    path: ["overlapRate"],
    message: "Audit, gold and overlap rates together must be at most 1",
  });

export const MarkGoldFormSchema = z
  .object({
    intent: z.literal("mark-gold"),
    queryId: decimalId("Choose a query"),
    promptAId: decimalId("Choose the first prompt"),
    promptBId: decimalId("Choose the second prompt"),
    preferred: z.enum(["a", "b"], { error: "Say which response is the better one" }),
  })
  .refine((form) => form.promptAId !== form.promptBId, { path: ["promptBId"], message: "Choose two different prompts" });

export const UnmarkGoldFormSchema = z.object({ intent: z.literal("unmark-gold"), goldId: decimalId("goldId must be a gold item id") });

export type QualityCheckRates = Omit<z.infer<typeof QualityChecksFormSchema>, "intent">;

export function setQualityCheckRates(tx: Queryable, studyId: number, rates: QualityCheckRates): "changed" | "unchanged" {
  const before = tx
    .select({ auditRate: studies.auditRate, auditMaxShare: studies.auditMaxShare, goldRate: studies.goldRate, overlapRate: studies.overlapRate })
    .from(studies)
    .where(eq(studies.id, studyId))
    .get();
  if (
    before &&
    before.auditRate === rates.auditRate &&
    before.auditMaxShare === rates.auditMaxShare &&
    before.goldRate === rates.goldRate &&
    before.overlapRate === rates.overlapRate
  ) {
    return "unchanged";
  }
  tx.update(studies).set(rates).where(eq(studies.id, studyId)).run();
  return "changed";
}

export type MarkGoldResult = { ok: true; goldId: number; replaced: boolean } | { ok: false; field: string; message: string };

/**
 * Marks (query, prompt pair) of this study as a gold item whose better response is `preferredPromptId`'s;
 * marking an item already gold replaces its answer. The query and prompts must be the study's.
 */
export function markGoldItem(
  tx: Queryable,
  studyId: number,
  item: { queryId: number; promptAId: number; promptBId: number; preferredPromptId: number },
): MarkGoldResult {
  const query = tx
    .select({ id: queries.id })
    .from(queries)
    .where(and(eq(queries.id, item.queryId), eq(queries.studyId, studyId)))
    .get();
  if (!query) return { ok: false, field: "queryId", message: "No such query in this study" };
  for (const [field, promptId] of [
    ["promptAId", item.promptAId],
    ["promptBId", item.promptBId],
  ] as const) {
    const prompt = tx
      .select({ id: prompts.id })
      .from(prompts)
      .where(and(eq(prompts.id, promptId), eq(prompts.studyId, studyId)))
      .get();
    if (!prompt) return { ok: false, field, message: "No such prompt in this study" };
  }
  const low = Math.min(item.promptAId, item.promptBId);
  const high = Math.max(item.promptAId, item.promptBId);
  const existing = tx
    .select({ id: goldItems.id })
    .from(goldItems)
    .where(and(eq(goldItems.studyId, studyId), eq(goldItems.queryId, item.queryId), eq(goldItems.lowPromptId, low), eq(goldItems.highPromptId, high)))
    .get();
  if (existing) {
    tx.update(goldItems).set({ preferredPromptId: item.preferredPromptId }).where(eq(goldItems.id, existing.id)).run();
    return { ok: true, goldId: existing.id, replaced: true };
  }
  const row = tx
    .insert(goldItems)
    .values({ studyId, queryId: item.queryId, lowPromptId: low, highPromptId: high, preferredPromptId: item.preferredPromptId })
    .returning({ id: goldItems.id })
    .get();
  return { ok: true, goldId: row.id, replaced: false };
}

/** Removes a gold item of this study (votes on it stay; they are no longer gold). False when there is none. */
export function unmarkGoldItem(tx: Queryable, studyId: number, goldId: number): boolean {
  return (
    tx
      .delete(goldItems)
      .where(and(eq(goldItems.id, goldId), eq(goldItems.studyId, studyId)))
      .run().changes > 0
  );
}

export interface GoldItemView {
  id: number;
  queryId: number;
  query: string;
  lowPromptId: number;
  highPromptId: number;
  preferredPromptId: number;
}

/** The study's gold items, oldest first. */
export function listGoldItems(studyId: number): GoldItemView[] {
  return db()
    .select({
      id: goldItems.id,
      queryId: goldItems.queryId,
      query: queries.text,
      lowPromptId: goldItems.lowPromptId,
      highPromptId: goldItems.highPromptId,
      preferredPromptId: goldItems.preferredPromptId,
    })
    .from(goldItems)
    .innerJoin(queries, eq(queries.id, goldItems.queryId))
    .where(eq(goldItems.studyId, studyId))
    .orderBy(asc(goldItems.id))
    .all();
}

/** The study's queries and prompts to choose a gold item from (ids and short labels), in id order. */
export function goldChoices(studyId: number) {
  return {
    queries: db().select({ id: queries.id, text: queries.text }).from(queries).where(eq(queries.studyId, studyId)).orderBy(asc(queries.id)).all(),
    prompts: db().select({ id: prompts.id, text: prompts.text }).from(prompts).where(eq(prompts.studyId, studyId)).orderBy(asc(prompts.id)).all(),
  };
}
