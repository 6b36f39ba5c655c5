import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { markGoldItem, setQualityCheckRates, unmarkGoldItem, type MarkGoldResult, type QualityCheckRates } from "~/models/quality-checks.server";
import { auditStudy } from "./audit.server";

// The owner's quality checks (issue 18 §2, §3; ADR 0034): each change one transaction with its audit row.
// Nothing here changes a vote or the tallies (gold votes count like any other; audits never do), so the
// engine is not told: the next pair request reads the rates and gold items as they are.

/** Sets the study's audit rate and share and its gold rate. */
export function setQualityChecksAs(access: StudyAccess, rates: QualityCheckRates): "changed" | "unchanged" {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const result = setQualityCheckRates(tx, access.studyId, rates);
    if (result === "changed") auditStudy(tx, access, "quality.checks_changed", { ...rates });
    return result;
  });
}

/** Marks a (query, prompt pair) as gold with the better prompt's response, or changes its answer. */
export function markGoldAs(
  access: StudyAccess,
  item: { queryId: number; promptAId: number; promptBId: number; preferredPromptId: number },
): MarkGoldResult {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const result = markGoldItem(tx, access.studyId, item);
    if (result.ok) auditStudy(tx, access, "gold.marked", { goldId: result.goldId, ...item, replaced: result.replaced });
    return result;
  });
}

/** Removes a gold item; false when the study has no such item. */
export function unmarkGoldAs(access: StudyAccess, goldId: number): boolean {
  assertPermission(access, "study:manage");
  return db().transaction((tx) => {
    const removed = unmarkGoldItem(tx, access.studyId, goldId);
    if (removed) auditStudy(tx, access, "gold.unmarked", { goldId });
    return removed;
  });
}
