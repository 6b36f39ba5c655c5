import { eq } from "drizzle-orm";
import { studies } from "../../db/schema";
import type { UserActor } from "~/auth/actor.server";
import { assertPermission, type StudyAccess } from "~/auth/authorize.server";
import { db } from "~/db.server";
import { closeStudyEngine, getStudyEngine } from "~/engine/engine.server";
import type { ExportOptions } from "~/export/export-options.server";
import { importRawLog, type ImportResult } from "~/export/raw-log-import.server";
import { retryFailedResponses } from "~/llm/generation-queue.server";
import { wakeGeneration } from "~/llm/runtime.server";
import { requestVariants, retryFailedVariantRequests } from "~/llm/variants.server";
import { setMemberRole } from "~/models/membership.server";
import { addToStudy, createStudy, importResponses, type NewPrompt, type NewStudy } from "~/models/study-setup.server";
import type { ParsedQuery, ParsedResponse } from "~/utils/study-files.server";
import { auditAs, auditStudy } from "./audit.server";

// Owner-side changes to a study. Each one: check the access it is handed, one transaction with its
// audit row, then (after the commit) wake the generation worker or the study's engine.

/** A new study owned by the signed-in account. Throws ImportError (nothing written) for a bad responses file. */
export function createStudyAs(actor: UserActor, input: NewStudy) {
  const created = db().transaction((tx) => {
    const result = createStudy(tx, input);
    setMemberRole(tx, result.studyId, actor.user.id, "owner");
    auditAs(tx, actor, result.studyId, "study.created", {
      name: input.name,
      prompts: result.promptsAdded,
      queries: result.queriesAdded,
      variants: input.variants?.count ?? 0,
      importedResponses: input.responses.length,
    });
    return result;
  });
  wakeGeneration();
  return created;
}

export function addToStudyAs(access: StudyAccess, additions: { prompts: NewPrompt[]; queries: ParsedQuery[] }) {
  assertPermission(access, "study:edit");
  const added = db().transaction((tx) => {
    const result = addToStudy(tx, access.studyId, additions);
    if (additions.prompts.length > 0) {
      auditStudy(tx, access, "prompts.added", { added: result.promptsAdded, duplicates: result.promptDuplicates });
    }
    if (additions.queries.length > 0) {
      auditStudy(tx, access, "queries.added", { added: result.queriesAdded, duplicates: result.queryDuplicates });
    }
    return result;
  });
  wakeGeneration();
  return added;
}

export function requestVariantsAs(access: StudyAccess, request: { seedPromptId: number; count: number }): void {
  assertPermission(access, "study:edit");
  db().transaction((tx) => {
    requestVariants(tx, { studyId: access.studyId, ...request });
    auditStudy(tx, access, "variants.requested", request);
  });
  wakeGeneration();
}

/** Throws ImportError (nothing written) when a line cannot be stored. */
export function importResponsesAs(access: StudyAccess, list: ParsedResponse[]): number {
  assertPermission(access, "study:edit");
  const stored = db().transaction((tx) => {
    const count = importResponses(tx, access.studyId, list);
    auditStudy(tx, access, "responses.imported", { responses: count });
    return count;
  });
  wakeGeneration();
  return stored;
}

export function retryFailedAs(access: StudyAccess): number {
  assertPermission(access, "study:edit");
  const retried = db().transaction((tx) => {
    const count = retryFailedResponses(tx, access.studyId) + retryFailedVariantRequests(tx, access.studyId);
    auditStudy(tx, access, "generation.retried", { items: count });
    return count;
  });
  wakeGeneration();
  return retried;
}

/** Imports a raw JSONL log, all or nothing; the engine hears of the new votes after the commit. */
export function importRawLogAs(access: StudyAccess, text: string): ImportResult {
  assertPermission(access, "study:edit");
  const result = db().transaction((tx) => {
    const imported = importRawLog(tx, access.studyId, text);
    if (imported.ok) auditStudy(tx, access, "votes.imported", { ...imported.summary });
    return imported;
  });
  if (result.ok) getStudyEngine(access.studyId).requestUpdate();
  return result;
}

/** Records that an export was downloaded (the file itself streams from a read-only connection). */
export function recordExportAs(access: StudyAccess, options: ExportOptions): void {
  assertPermission(access, "study:export");
  db().transaction((tx) => auditStudy(tx, access, "export.downloaded", { ...options }));
}

/**
 * Deletes the study and everything in it (prompts, responses, votes, links, tokens, memberships);
 * its audit log stays, ending with the deletion. `confirmName` must repeat the study's name.
 */
export async function deleteStudyAs(access: StudyAccess, confirmName: string): Promise<{ ok: true } | { ok: false; message: string }> {
  assertPermission(access, "study:manage");
  const deleted = db().transaction((tx) => {
    const study = tx.select({ name: studies.name }).from(studies).where(eq(studies.id, access.studyId)).get();
    if (!study) return { ok: false, message: "Study not found" } as const;
    if (study.name !== confirmName.trim()) return { ok: false, message: "Type the study's name exactly to delete it" } as const;
    auditStudy(tx, access, "study.deleted", { name: study.name });
    tx.delete(studies).where(eq(studies.id, access.studyId)).run();
    return { ok: true } as const;
  });
  if (deleted.ok) await closeStudyEngine(access.studyId);
  return deleted;
}
