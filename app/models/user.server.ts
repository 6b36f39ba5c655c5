import { eq } from "drizzle-orm";
import { users } from "../../db/schema";
import { db } from "~/db.server";

export function getUserById(id: number) {
  return db().select().from(users).where(eq(users.id, id)).get();
}

export function createAnnotator(displayName: string) {
  return db().insert(users).values({ displayName, role: "annotator" }).returning().get();
}
