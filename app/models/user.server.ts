import { eq, sql } from "drizzle-orm";
import { users } from "../../db/schema";
import { db, prepared } from "~/db.server";

export function getUserById(id: number) {
  // Runs on every request that carries a session: prepared once per connection.
  return prepared("user.byId", (database) =>
    database
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder("id")))
      .prepare(),
  ).get({ id });
}

export function createAnnotator(displayName: string) {
  return db().insert(users).values({ displayName, role: "annotator" }).returning().get();
}
