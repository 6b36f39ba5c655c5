import path from "node:path";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import { openDatabase } from "../../db/client";
import { growthRounds, prompts, studies } from "../../db/schema";
import { useTempDir } from "../../tests/helpers/temp-database";
import { encodeEmbedding, lexicalEmbedding } from "~/llm/embeddings.server";
import { insertStudyPrompts } from "./prompts.server";

describe("insertStudyPrompts", () => {
  const dir = useTempDir();

  it("skips a text the study or the list already has (up to case and spacing), answering the existing id, and stores lineage and the embedding", () => {
    const { db, close } = openDatabase(path.join(dir(), "prompts.db"));
    const studyId = db.insert(studies).values({ name: "s", task: "t", model: "m" }).returning().get().id;
    const otherStudyId = db.insert(studies).values({ name: "other", task: "t", model: "m" }).returning().get().id;
    const roundId = db
      .insert(growthRounds)
      .values({ studyId, count: 1, model: "m", parents: [], instruction: "i", system: "s" })
      .returning()
      .get().id;

    const first = insertStudyPrompts(db, studyId, [
      { text: "Be brief.", source: "manual", label: "short" },
      { text: "  BE   brief. ", source: "manual" },
    ]);
    expect(first.addedIds).toHaveLength(1);
    expect(first).toEqual({ ids: [first.addedIds[0], first.addedIds[0]], addedIds: first.addedIds, duplicates: 1 });
    const seedId = first.addedIds[0]!;

    const given = encodeEmbedding([1, 0, 0]);
    const second = insertStudyPrompts(db, studyId, [
      { text: "be brief.", source: "generated", parentIds: [seedId] },
      { text: "Be brief, and kind.", source: "mutated", parentIds: [seedId], generation: 1, growthRoundId: roundId },
      { text: "Be thorough.", source: "imported", embedding: { embedding: given, embeddingModel: "provider-model" } },
    ]);
    expect(second.ids[0]).toBe(seedId);
    expect(second.duplicates).toBe(1);
    expect(second.ids.slice(1)).toEqual(second.addedIds);

    // The same text in another study is another prompt.
    expect(insertStudyPrompts(db, otherStudyId, [{ text: "Be brief.", source: "manual" }]).addedIds).toHaveLength(1);

    const stored = db.select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).all();
    expect(
      stored.map(({ text, label, source, parentIds, generation, growthRoundId, embeddingModel }) => ({
        text,
        label,
        source,
        parentIds,
        generation,
        growthRoundId,
        embeddingModel,
      })),
    ).toEqual([
      {
        text: "Be brief.",
        label: "short",
        source: "manual",
        parentIds: [],
        generation: 0,
        growthRoundId: null,
        embeddingModel: LEXICAL_EMBEDDING_MODEL,
      },
      {
        text: "Be brief, and kind.",
        label: null,
        source: "mutated",
        parentIds: [seedId],
        generation: 1,
        growthRoundId: roundId,
        embeddingModel: LEXICAL_EMBEDDING_MODEL,
      },
      { text: "Be thorough.", label: null, source: "imported", parentIds: [], generation: 0, growthRoundId: null, embeddingModel: "provider-model" },
    ]);
    expect(stored[1]!.embedding).toEqual(lexicalEmbedding("Be brief, and kind.").embedding);
    expect(stored[2]!.embedding).toEqual(given);
    close();
  });
});
