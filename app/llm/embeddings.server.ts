import { and, count, eq, isNull, ne, notInArray, or, sql } from "drizzle-orm";
import type OpenAI from "openai";
import { normaliseInPlace } from "../../bandit/features";
import { embedText, LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import type { JobContext, JobResult } from "~/jobs/job-context.server";
import type { Queryable } from "./queryable.server";
import { prompts } from "../../db/schema";

/**
 * The stored form of an embedding (prompts.embedding): `vector` scaled to unit L2 norm, as Float32
 * little-endian bytes. A zero vector (text with no words) is stored as zeros.
 */
export function encodeEmbedding(vector: ArrayLike<number>): Buffer {
  const unit = normaliseInPlace(Float64Array.from(vector));
  const bytes = Buffer.alloc(unit.length * 4);
  for (let k = 0; k < unit.length; k++) bytes.writeFloatLE(unit[k]!, k * 4);
  return bytes;
}

/** Reads a blob written by encodeEmbedding. Throws when its length is not a whole number of floats. */
export function decodeEmbedding(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) throw new Error("decodeEmbedding requires a multiple of 4 bytes");
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const vector = new Float32Array(blob.byteLength / 4);
  for (let k = 0; k < vector.length; k++) vector[k] = view.getFloat32(k * 4, true);
  return vector;
}

/** The offline embedding of a prompt, ready to store: deterministic, no network. */
export function lexicalEmbedding(text: string): { embedding: Buffer; embeddingModel: string } {
  return { embedding: encodeEmbedding(embedText(text)), embeddingModel: LEXICAL_EMBEDDING_MODEL };
}

/** The embedding model every prompt should carry: the provider's when one is set, else the lexical one. */
export function targetEmbeddingModel(providerEmbeddingModel: string | null): string {
  return providerEmbeddingModel ?? LEXICAL_EMBEDDING_MODEL;
}

function outdated(model: string) {
  return or(isNull(prompts.embedding), isNull(prompts.embeddingModel), ne(prompts.embeddingModel, model));
}

/** How many prompts carry an embedding of another model than the offline one (or none). */
export function countStaleLexical(db: Queryable): number {
  return db.select({ n: count() }).from(prompts).where(outdated(LEXICAL_EMBEDDING_MODEL)).get()?.n ?? 0;
}

/**
 * Recomputes, with the offline embedder, every prompt whose stored embedding comes from another model
 * (e.g. the provider was removed): the vectors first (reporting progress), then one transaction
 * storing them. Returns the prompts changed and the studies they belong to.
 */
export function reembedLexically(
  db: Queryable,
  options: {
    progress?: (phase: string, done: number, total: number) => void;
    commit?: (write: (tx: Queryable) => void, summary: { prompts: number; studyIds: number[] }) => void;
  } = {},
) {
  const stale = db
    .select({ id: prompts.id, text: prompts.text, studyId: prompts.studyId })
    .from(prompts)
    .where(outdated(LEXICAL_EMBEDDING_MODEL))
    .all();
  const vectors = stale.map((prompt, k) => {
    if (k % 100 === 0) options.progress?.("embedding prompts", k, stale.length);
    return lexicalEmbedding(prompt.text);
  });
  const write = (tx: Queryable) => {
    const update = tx
      .update(prompts)
      .set({ embedding: sql`${sql.placeholder("embedding")}`, embeddingModel: sql`${sql.placeholder("embeddingModel")}` })
      .where(eq(prompts.id, sql.placeholder("id")))
      .prepare();
    stale.forEach((prompt, k) => update.run({ id: prompt.id, ...vectors[k]! }));
  };
  const summary = { prompts: stale.length, studyIds: [...new Set(stale.map((prompt) => prompt.studyId))] };
  if (options.commit) options.commit(write, summary);
  else db.transaction(write);
  return summary;
}

/** Job "reembed" (ADR 0010): the offline re-embedding off the request thread; its studies' running engines start again on the new features. */
export function runReembedJob(ctx: JobContext): JobResult {
  let result: JobResult | null = null;
  // The summary comes with the write: the commit runs before reembedLexically returns.
  reembedLexically(ctx.db, {
    progress: ctx.progress,
    commit: (write, { prompts: changed, studyIds }) => {
      result = ctx.commit((tx) => {
        write(tx);
        return { prompts: changed, restartEngines: studyIds };
      });
    },
  });
  return result!;
}

/**
 * Prompts of one study (the study of the oldest outdated prompt) whose embedding is missing or from
 * another model than `model`, at most `limit`, skipping ids in `exclude`. One study per batch keeps a
 * study's prompts on one model as far as possible.
 */
export function nextPromptsToEmbed(db: Queryable, model: string, limit: number, exclude: number[] = []) {
  const condition = exclude.length > 0 ? and(outdated(model), notInArray(prompts.id, exclude)) : outdated(model);
  const first = db.select({ studyId: prompts.studyId }).from(prompts).where(condition).orderBy(prompts.id).get();
  if (!first) return [];
  return db
    .select({ id: prompts.id, text: prompts.text })
    .from(prompts)
    .where(and(condition, eq(prompts.studyId, first.studyId)))
    .orderBy(prompts.id)
    .limit(limit)
    .all();
}

/**
 * Embeds `batch` with the provider's embeddings endpoint (one request; the SDK asks for base64 and
 * decodes it) and stores the unit-norm vectors in one transaction. The network call happens before
 * the transaction, never inside it. Throws on a provider error or a malformed answer.
 */
export async function embedWithProvider(
  db: Queryable,
  client: OpenAI,
  model: string,
  batch: { id: number; text: string }[],
  signal?: AbortSignal,
): Promise<void> {
  if (batch.length === 0) return;
  const result = await client.embeddings.create({ model, input: batch.map((p) => p.text) }, { signal });
  const vectors = [...(result.data ?? [])].sort((a, b) => a.index - b.index).map((item) => item.embedding);
  if (vectors.length !== batch.length || vectors.some((v) => !Array.isArray(v) || v.length === 0)) {
    throw new Error(`The provider returned ${vectors.length} embeddings for ${batch.length} prompts.`);
  }
  db.transaction((tx) => {
    batch.forEach((prompt, k) => {
      tx.update(prompts)
        .set({ embedding: encodeEmbedding(vectors[k]!), embeddingModel: model })
        .where(eq(prompts.id, prompt.id))
        .run();
    });
  });
}
