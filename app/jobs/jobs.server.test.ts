import { describe, expect, it } from "vitest";
import { studies } from "../../db/schema";
import { useTempAppDatabase } from "../../tests/helpers/temp-database";
import { connection, db } from "~/db.server";
import { createJob, getJob, markFailed, removeJobInput, retryJob } from "./jobs.server";

describe("retrying a failed job", () => {
  useTempAppDatabase();

  const failedJob = async (studyId: number | null) => {
    const job = await createJob(db(), connection().path, { kind: studyId === null ? "create-study" : "import-log", studyId, input: {} });
    markFailed(db(), job.id, ["the provider was down"]);
    return job;
  };

  it("queues again a failed job of the study it names, a study's creation (no study yet) included", async () => {
    const studyId = db().select({ id: studies.id }).from(studies).get()!.id;
    const ofStudy = await failedJob(studyId);
    const creation = await failedJob(null);
    expect(retryJob(db(), connection().path, ofStudy.id, studyId + 1)).toBe(false);
    expect(retryJob(db(), connection().path, creation.id, studyId)).toBe(false);
    expect(retryJob(db(), connection().path, ofStudy.id, null)).toBe(false);
    expect(getJob(db(), ofStudy.id)!.state).toBe("failed");
    expect(retryJob(db(), connection().path, ofStudy.id, studyId)).toBe(true);
    expect(retryJob(db(), connection().path, creation.id, null)).toBe(true);
    expect(getJob(db(), creation.id)).toMatchObject({ state: "queued", attempts: 0, errors: null });
  });

  it("refuses a job whose input is gone, and one that did not fail", async () => {
    const gone = await failedJob(null);
    removeJobInput(connection().path, gone);
    expect(retryJob(db(), connection().path, gone.id, null)).toBe(false);
    const queued = await createJob(db(), connection().path, { kind: "create-study", studyId: null, input: {} });
    expect(retryJob(db(), connection().path, queued.id, null)).toBe(false);
  });
});
