import { db } from "~/db.server";
import { setMemberRole } from "~/models/membership.server";
import { createStudy, type NewStudy } from "~/models/study-setup.server";

/**
 * A study written at once and owned by `ownerUserId`, for unit tests that need one to act on. The app
 * creates studies through a background job (app/services, createStudyAs); the rows are the same.
 */
export function createOwnedStudy(ownerUserId: number, input: NewStudy): { studyId: number } {
  return db().transaction((tx) => {
    const created = createStudy(tx, input);
    setMemberRole(tx, created.studyId, ownerUserId, "owner");
    return created;
  });
}
