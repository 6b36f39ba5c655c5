import { and, desc, eq, lt } from "drizzle-orm";
import { auditLog, type AuditAction } from "../../db/schema";
import { db } from "~/db.server";
import type { Queryable } from "~/llm/queryable.server";

export interface AuditEntry {
  studyId: number | null;
  actorUserId: number | null;
  actorTokenId: number | null;
  /** The actor as owners read it (an email, or a token's name and owner), kept as it was at the time. */
  actor: string;
  action: AuditAction;
  details?: Record<string, unknown>;
}

/** Appends to the audit log; call it inside the transaction of the change it records. */
export function recordAudit(database: Queryable, entry: AuditEntry): void {
  database
    .insert(auditLog)
    .values({ ...entry, details: entry.details ?? {} })
    .run();
}

export const AUDIT_PAGE_SIZE = 100;

/** The study's audit log, newest first, a page at a time (`beforeId` pages back). */
export function listAudit(studyId: number, beforeId: number | null = null) {
  return db()
    .select({ id: auditLog.id, actor: auditLog.actor, action: auditLog.action, details: auditLog.details, createdAt: auditLog.createdAt })
    .from(auditLog)
    .where(beforeId === null ? eq(auditLog.studyId, studyId) : and(eq(auditLog.studyId, studyId), lt(auditLog.id, beforeId)))
    .orderBy(desc(auditLog.id))
    .limit(AUDIT_PAGE_SIZE)
    .all();
}
