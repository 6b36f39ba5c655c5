import path from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../../db/client";
import { useTempDir } from "../../tests/helpers/temp-database";
import { createStudy } from "~/models/study-setup.server";
import { listVariantRequests, loadVariantJob, MAX_VARIANTS_PER_REQUEST, requestVariants } from "./variants.server";

describe("variant requests", () => {
  const dir = useTempDir();

  it("adds up every request for a seed, and runs at most MAX_VARIANTS_PER_REQUEST of them per job", () => {
    const { db, close } = openDatabase(path.join(dir(), "variants.db"));
    const { studyId } = createStudy(db, {
      name: "Variants",
      task: "A support bot.",
      model: "m",
      temperature: 0.7,
      maxTokens: 100,
      seed: null,
      prompts: [{ text: "Be brief.", label: null, source: "manual" }],
      queries: [{ text: "Hello?", notes: null }],
      variants: null,
      responses: [],
    });
    const seedPromptId = db.$client.prepare("select id from prompts where study_id = ?").pluck().get(studyId) as number;
    requestVariants(db, { studyId, seedPromptId, count: MAX_VARIANTS_PER_REQUEST });
    requestVariants(db, { studyId, seedPromptId, count: 3 });
    const [request] = listVariantRequests(db, studyId);
    expect(request!.count).toBe(MAX_VARIANTS_PER_REQUEST + 3);
    expect(loadVariantJob(db, request!)!.request.count).toBe(MAX_VARIANTS_PER_REQUEST);
    close();
  });
});
