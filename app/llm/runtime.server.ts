import { eq } from "drizzle-orm";
import { studies } from "../../db/schema";
import { db } from "~/db.server";
import { getStudyEngine, notifyStudyEngine } from "~/engine/engine.server";
import { env } from "~/env.server";
import { targetEmbeddingModel } from "./embeddings.server";
import { currentSettingsHash, failedResponses, responseProgress } from "./generation-queue.server";
import { GenerationWorker } from "./generation-worker.server";
import { createProviderClient, providerConfigFromEnv, type ProviderConfig } from "./provider.server";
import { listVariantRequests } from "./variants.server";
import { existingSingleton, releaseSingleton, setSingleton } from "~/utils/singleton.server";

const WORKER = "generation worker";

/** The provider from the environment, or null when the app runs offline. */
export function providerConfig(): ProviderConfig | null {
  return providerConfigFromEnv(env());
}

/** Whether prompts get the offline embedding (no provider, or OPENAI_EMBEDDING_MODEL=lexical): re-embedding to it is then a job (app/jobs/). */
export function embedsLexically(): boolean {
  const provider = providerConfig();
  return !provider || provider.embeddingModel === null;
}

/**
 * Called once at server start (boot): starts the worker when a provider is set; it brings every
 * prompt's embedding to the provider's model (offline re-embedding is a job: startJobs).
 */
export function startGeneration(): void {
  const provider = providerConfig();
  if (!provider || existingSingleton(WORKER)) return;
  const worker = new GenerationWorker({
    db: db(),
    client: createProviderClient(provider),
    concurrency: provider.concurrency,
    embeddingModel: provider.embeddingModel,
    prices: provider.prices,
    // After the commit: new prompts join the running engine as arms (they get pairs once their responses are ready).
    onPromptsAdded: (studyId) => notifyStudyEngine(studyId),
    onVotesAdded: (studyId) => notifyStudyEngine(studyId),
    // A counted (or pre-screening) batch's votes reach the engine even when it was not running: a snapshot follows,
    // and with it the retirement rule and pool cap on the judge's votes.
    onCountedBatchFinished: (studyId) => getStudyEngine(studyId).requestUpdate(),
  });
  worker.start();
  setSingleton(WORKER, worker);
}

/** The running generation worker, if a provider is set and it was started (tests wait on it). */
export function generationWorker(): GenerationWorker | undefined {
  return existingSingleton<GenerationWorker>(WORKER);
}

/** Stops the generation worker (tests; shutdown); the next startGeneration starts a new one. */
export async function stopGeneration(): Promise<void> {
  await releaseSingleton<GenerationWorker>(WORKER)?.stop();
}

/** Tells the worker new rows are queued, so it need not wait for its next poll. */
export function wakeGeneration(): void {
  generationWorker()?.wake();
}

/** What the owner's progress bar shows: response counts, tokens, cost, variant requests, failures. */
export function generationStatus(studyId: number) {
  const provider = providerConfig();
  const settingsHash = currentSettingsHash(db(), studyId);
  return {
    // When this was read, so a page can tell the fresher of two copies apart.
    at: Date.now(),
    provider: provider ? { chatModel: provider.chatModel, embeddingModel: targetEmbeddingModel(provider.embeddingModel) } : null,
    // The study's own chat model: the one a missing price is missing for.
    model: db().select({ model: studies.model }).from(studies).where(eq(studies.id, studyId)).get()?.model ?? null,
    responses: responseProgress(db(), studyId, settingsHash),
    variantRequests: listVariantRequests(db(), studyId).map(({ seedPromptId, count, error }) => ({ seedPromptId, count, error })),
    failures: failedResponses(db(), studyId, 10, settingsHash),
  };
}

export type GenerationStatus = ReturnType<typeof generationStatus>;
