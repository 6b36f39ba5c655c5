import { and, count, eq, notExists, sql } from "drizzle-orm";
import { z } from "zod";
import { studies, studyMembers, users } from "../../db/schema";
import type { Queryable } from "~/llm/queryable.server";

export const EmailSchema = z
  .string({ error: "Enter an email address" })
  .trim()
  .toLowerCase()
  .max(254, "An email address has at most 254 characters")
  .pipe(z.email({ error: "Enter an email address such as ada@example.com" }));

export function findUserByEmail(database: Queryable, email: string) {
  return database.select().from(users).where(eq(users.email, email)).get();
}

export function getUser(database: Queryable, userId: number) {
  return database.select().from(users).where(eq(users.id, userId)).get();
}

export function countUsers(database: Queryable): number {
  return database.select({ n: count() }).from(users).get()?.n ?? 0;
}

export function insertUser(database: Queryable, input: { email: string; displayName: string; passwordHash: string }) {
  return database.insert(users).values(input).returning({ id: users.id, email: users.email, displayName: users.displayName }).get();
}

export function setPasswordHash(database: Queryable, userId: number, passwordHash: string): void {
  database.update(users).set({ passwordHash }).where(eq(users.id, userId)).run();
}

/** Studies nobody owns: the seeded demo study, and every study of a database from before accounts existed. */
export function ownerlessStudies(database: Queryable) {
  return database
    .select({ id: studies.id, name: studies.name })
    .from(studies)
    .where(
      and(
        notExists(
          database
            .select({ one: sql`1` })
            .from(studyMembers)
            .where(sql`${studyMembers.studyId} = ${studies.id} and ${studyMembers.role} = 'owner'`),
        ),
        // Not an import's staging study (ADR 0036): it is no one's and goes when the import ends.
        sql`${studies.id} not in (select staging_study_id from pending_imports)`,
      ),
    )
    .orderBy(studies.id)
    .all();
}
