import { and, eq, sql } from "drizzle-orm";
import { prompts, type PROMPT_SOURCES } from "../../db/schema";
import { normalizePromptText } from "../../db/text";
import { lexicalEmbedding } from "~/llm/embeddings.server";
import type { Queryable } from "~/llm/queryable.server";

// The one place prompts are inserted (setup additions, variants, growth rounds, the raw-log import):
// the study's uniqueness rule (normalised text), lineage and the stored embedding are decided here.

export type PromptSource = (typeof PROMPT_SOURCES)[number];

/** A prompt's stored embedding (prompts.embedding, prompts.embedding_model). */
export interface StoredEmbedding {
  embedding: Buffer;
  embeddingModel: string;
}

export interface PromptToInsert {
  text: string;
  source: PromptSource;
  label?: string | null;
  /** Lineage: the prompts it was made from (a variant's seed, a grown prompt's parent). */
  parentIds?: readonly number[];
  /** 0 for the study's own prompts, the parent's generation + 1 for a grown one. */
  generation?: number;
  growthRoundId?: number | null;
  /**
   * Computed ahead of the write (a job embeds before its transaction); the offline embedding
   * otherwise. Every prompt enters with one: the study's engine reads stored embeddings and would
   * otherwise wait for this prompt. The generation worker later replaces it with the provider's
   * embedding when one is configured (nextPromptsToEmbed picks every prompt of another model).
   */
  embedding?: StoredEmbedding;
}

/**
 * Prepares an insert of prompts into `studyId` (synchronous; use it inside the caller's transaction,
 * with one statement pair reused for many rows). The returned function inserts one prompt, or, when
 * the study already has its normalised text (an earlier prompt of the same write included), inserts
 * nothing and answers the existing prompt's id.
 */
export function preparePromptInsert(db: Queryable, studyId: number): (prompt: PromptToInsert) => { id: number; added: boolean } {
  const insert = db
    .insert(prompts)
    .values({
      studyId,
      text: sql.placeholder("text"),
      normalizedText: sql.placeholder("normalizedText"),
      label: sql.placeholder("label"),
      source: sql.placeholder("source"),
      parentIds: sql.placeholder("parentIds"),
      generation: sql.placeholder("generation"),
      growthRoundId: sql.placeholder("growthRoundId"),
      embedding: sql.placeholder("embedding"),
      embeddingModel: sql.placeholder("embeddingModel"),
    })
    .onConflictDoNothing()
    .returning({ id: prompts.id })
    .prepare();
  const existing = db
    .select({ id: prompts.id })
    .from(prompts)
    .where(and(eq(prompts.studyId, studyId), eq(prompts.normalizedText, sql.placeholder("normalizedText"))))
    .prepare();
  return (prompt) => {
    const normalizedText = normalizePromptText(prompt.text);
    const inserted = insert.get({
      text: prompt.text,
      normalizedText,
      label: prompt.label ?? null,
      source: prompt.source,
      parentIds: prompt.parentIds ?? [],
      generation: prompt.generation ?? 0,
      growthRoundId: prompt.growthRoundId ?? null,
      ...(prompt.embedding ?? lexicalEmbedding(prompt.text)),
    });
    if (inserted) return { id: inserted.id, added: true };
    return { id: existing.get({ normalizedText })!.id, added: false };
  };
}

/**
 * Inserts `list` into the study, skipping any prompt whose normalised text the study (or an earlier
 * entry of `list`) already has. Returns the id of every given prompt in order (the existing one for a
 * duplicate), the ids of those added, and how many were duplicates. Synchronous; no transaction of its own.
 */
export function insertStudyPrompts(db: Queryable, studyId: number, list: readonly PromptToInsert[]) {
  const insert = preparePromptInsert(db, studyId);
  const ids: number[] = [];
  const addedIds: number[] = [];
  for (const prompt of list) {
    const { id, added } = insert(prompt);
    ids.push(id);
    if (added) addedIds.push(id);
  }
  return { ids, addedIds, duplicates: list.length - addedIds.length };
}
