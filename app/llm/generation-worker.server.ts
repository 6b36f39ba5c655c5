import type OpenAI from "openai";
import { generationSettingsHash } from "../../db/text";
import { embedWithProvider, nextPromptsToEmbed } from "./embeddings.server";
import { claimPendingResponses, recordResponseOutcome, type ResponseJob } from "./generation-queue.server";
import { describeProviderError, estimateCostUsd, type PriceTable } from "./provider.server";
import { failGrowthRound, generateMutation, markGrowthRunning, openGrowthRounds, storeGrowthRound, type GrowthRound } from "./growth.server";
import { JudgeRunner } from "./judge-runner.server";
import type { Queryable } from "./queryable.server";
import {
  dropVariantRequest,
  failVariantRequest,
  generateVariant,
  listVariantRequests,
  loadVariantJob,
  storeVariants,
  type VariantJob,
} from "./variants.server";

export interface GenerationWorkerOptions {
  db: Queryable;
  client: OpenAI;
  /** At most this many provider calls in flight at once (chat and embeddings together). */
  concurrency: number;
  /** Provider embedding model, or null when prompts keep the offline lexical embedding. */
  embeddingModel: string | null;
  prices: PriceTable;
  /** How often an idle worker looks for new rows (new work also wakes it through wake()). */
  idlePollMs?: number;
  /** Pause after a failed embeddings call before trying again. */
  embeddingRetryMs?: number;
  /** Prompts per embeddings request. */
  embeddingBatchSize?: number;
  /** Called after new prompts of a study were committed (a growth round), so its running engine takes them as arms. */
  onPromptsAdded?: (studyId: number) => void;
  /** Called after a judge's vote was committed (app/llm/judge-runner.server.ts). */
  onVotesAdded?: (studyId: number) => void;
  /** Called after a judged batch whose votes count has ended. */
  onCountedBatchFinished?: (studyId: number) => void;
}

/**
 * Drains the persisted generation queue: pending responses, variant requests and prompts whose
 * embedding is not from the configured model. All state is in SQLite, so a new worker on the same
 * file picks up where a stopped one left off. Provider calls happen outside any transaction; every
 * result is written in its own short synchronous write. One worker per database file.
 */
export class GenerationWorker {
  private readonly db: Queryable;
  private readonly client: OpenAI;
  private readonly concurrency: number;
  private readonly embeddingModel: string | null;
  private readonly prices: PriceTable;
  private readonly idlePollMs: number;
  private readonly embeddingRetryMs: number;
  private readonly embeddingBatchSize: number;
  private readonly onPromptsAdded: (studyId: number) => void;

  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  /** Provider calls holding a slot, and calls waiting for one (FIFO). */
  private activeCalls = 0;
  private readonly waitingForSlot: (() => void)[] = [];
  private readonly responsesInFlight = new Set<number>();
  private readonly variantSeedsInFlight = new Set<number>();
  private readonly growthRoundsInFlight = new Set<number>();
  private embeddingInFlight = false;
  private embeddingRetryAt = 0;
  private readonly tasks = new Set<Promise<void>>();
  private idleWaiters: (() => void)[] = [];
  private readonly judge: JudgeRunner;

  constructor(options: GenerationWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error("GenerationWorker requires a concurrency of at least 1");
    }
    this.db = options.db;
    this.client = options.client;
    this.concurrency = options.concurrency;
    this.embeddingModel = options.embeddingModel;
    this.prices = options.prices;
    this.idlePollMs = options.idlePollMs ?? 1_000;
    this.embeddingRetryMs = options.embeddingRetryMs ?? 60_000;
    this.embeddingBatchSize = options.embeddingBatchSize ?? 64;
    this.onPromptsAdded = options.onPromptsAdded ?? (() => {});
    this.judge = new JudgeRunner({
      db: this.db,
      client: this.client,
      prices: this.prices,
      withSlot: (call) => this.withSlot(call),
      track: (task) => this.track(task),
      isRunning: () => this.running,
      onVotesAdded: options.onVotesAdded ?? (() => {}),
      onCountedBatchFinished: options.onCountedBatchFinished,
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedulePump();
  }

  /** Looks for work now instead of at the next poll (call after queueing rows). */
  wake(): void {
    if (this.running) this.schedulePump();
  }

  /**
   * Stops claiming work and waits until every call already started has finished and been recorded.
   * Nothing in flight is abandoned, so a successor never repeats a call this worker completed.
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.judge.stop();
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    this.resolveIdleWaiters();
  }

  /** Resolves once the worker has found no claimable work and has nothing in flight. */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    try {
      this.startEmbedding();
      this.startVariantRequests();
      this.startGrowthRounds();
      this.judge.start();
      this.startResponses();
    } catch (error) {
      // A database error here (locked, closed) must not kill the loop; the next poll tries again.
      console.error("generation worker: could not claim work", error);
    }
    if (this.tasks.size === 0) this.resolveIdleWaiters();
    this.timer = setTimeout(() => this.pump(), this.idlePollMs);
  }

  private resolveIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private track(task: Promise<void>): void {
    this.tasks.add(task);
    void task.finally(() => {
      this.tasks.delete(task);
      this.schedulePump();
    });
  }

  /** Runs `call` once one of the `concurrency` slots is free. */
  private async withSlot<T>(call: () => Promise<T>): Promise<T> {
    if (this.activeCalls < this.concurrency) this.activeCalls++;
    else await new Promise<void>((resolve) => this.waitingForSlot.push(resolve));
    try {
      return await call();
    } finally {
      // Hand the slot straight to the next waiter, else give it back.
      const next = this.waitingForSlot.shift();
      if (next) next();
      else this.activeCalls--;
    }
  }

  private freeSlots(): number {
    return this.waitingForSlot.length > 0 ? 0 : this.concurrency - this.activeCalls;
  }

  private startEmbedding(): void {
    if (this.embeddingModel === null || this.embeddingInFlight || Date.now() < this.embeddingRetryAt) return;
    if (this.freeSlots() === 0) return;
    const batch = nextPromptsToEmbed(this.db, this.embeddingModel, this.embeddingBatchSize);
    if (batch.length === 0) return;
    const model = this.embeddingModel;
    this.embeddingInFlight = true;
    this.track(
      this.withSlot(() => embedWithProvider(this.db, this.client, model, batch))
        .catch((error: unknown) => {
          this.embeddingRetryAt = Date.now() + this.embeddingRetryMs;
          // Prompts keep their current (lexical) embedding, so the study stays usable meanwhile.
          console.warn(`generation worker: embedding with ${model} failed, retrying later: ${describeProviderError(error)}`);
        })
        .finally(() => {
          this.embeddingInFlight = false;
        }),
    );
  }

  private startVariantRequests(): void {
    for (const request of listVariantRequests(this.db)) {
      if (request.error !== null || this.variantSeedsInFlight.has(request.seedPromptId)) continue;
      const job = loadVariantJob(this.db, request);
      if (!job) {
        dropVariantRequest(this.db, request.seedPromptId);
        continue;
      }
      this.variantSeedsInFlight.add(request.seedPromptId);
      this.track(
        this.runVariantJob(job).finally(() => {
          this.variantSeedsInFlight.delete(request.seedPromptId);
        }),
      );
    }
  }

  private async runVariantJob(job: VariantJob): Promise<void> {
    const indices = Array.from({ length: job.request.count }, (_, index) => index);
    const results = await Promise.allSettled(indices.map((index) => this.withSlot(() => generateVariant(this.client, job, index))));
    const texts: string[] = [];
    const failures: string[] = [];
    for (const result of results) {
      if (result.status === "fulfilled") texts.push(result.value);
      else failures.push(describeProviderError(result.reason));
    }
    try {
      storeVariants(this.db, job, texts, failures);
    } catch (error) {
      console.error("generation worker: could not store prompt variants", error);
      try {
        failVariantRequest(
          this.db,
          job.request,
          `the generated variants could not be stored: ${error instanceof Error ? error.message : String(error)}`,
        );
      } catch {
        // The database refused the write above too; the request stays open and is retried on a later pump.
      }
    }
  }

  private startGrowthRounds(): void {
    for (const round of openGrowthRounds(this.db)) {
      if (this.growthRoundsInFlight.has(round.id)) continue;
      this.growthRoundsInFlight.add(round.id);
      markGrowthRunning(this.db, round.id);
      this.track(
        this.runGrowthRound(round).finally(() => {
          this.growthRoundsInFlight.delete(round.id);
        }),
      );
    }
  }

  /** The round's K mutation calls (each in a slot), then one write of what they returned; the engine hears after it. */
  private async runGrowthRound(round: GrowthRound): Promise<void> {
    const indices = Array.from({ length: round.count }, (_, index) => index);
    const results = await Promise.allSettled(indices.map((index) => this.withSlot(() => generateMutation(this.client, round, index))));
    const texts = results.map((result) => (result.status === "fulfilled" ? result.value : null));
    const failures = results.flatMap((result) => (result.status === "rejected" ? [describeProviderError(result.reason)] : []));
    let added: number[] = [];
    try {
      added = storeGrowthRound(this.db, round, texts, failures);
    } catch (error) {
      console.error("generation worker: could not store a growth round", error);
      try {
        failGrowthRound(this.db, round.id, `the new prompts could not be stored: ${error instanceof Error ? error.message : String(error)}`);
      } catch {
        // The database refused this write too; the round stays open and runs again on a later pump.
      }
    }
    if (added.length > 0) this.onPromptsAdded(round.studyId);
  }

  private startResponses(): void {
    const jobs = claimPendingResponses(this.db, this.freeSlots(), this.responsesInFlight);
    for (const job of jobs) {
      this.responsesInFlight.add(job.responseId);
      this.track(
        this.withSlot(() => this.generateResponse(job)).finally(() => {
          this.responsesInFlight.delete(job.responseId);
        }),
      );
    }
  }

  private async generateResponse(job: ResponseJob): Promise<void> {
    if (job.settingsHash !== generationSettingsHash(job)) {
      recordResponseOutcome(this.db, job.responseId, {
        status: "error",
        error: "The study's model settings changed after this response was queued.",
        latencyMs: null,
      });
      return;
    }
    const started = performance.now();
    let outcome: Parameters<typeof recordResponseOutcome>[2];
    try {
      const completion = await this.client.chat.completions.create({
        model: job.model,
        messages: [
          { role: "system", content: job.systemPrompt },
          { role: "user", content: job.userMessage },
        ],
        temperature: job.temperature,
        // max_tokens rather than max_completion_tokens: every OpenAI-compatible server accepts it (ADR 0004).
        max_tokens: job.maxTokens,
        ...(job.seed === null ? {} : { seed: job.seed }),
      });
      const content = completion.choices?.[0]?.message?.content;
      if (typeof content !== "string" || content.trim() === "") {
        throw new Error("The provider's answer has no message content.");
      }
      const usage = {
        promptTokens: completion.usage?.prompt_tokens ?? null,
        completionTokens: completion.usage?.completion_tokens ?? null,
      };
      outcome = {
        status: "ready",
        content,
        ...usage,
        costUsd: estimateCostUsd(this.prices, job.model, usage),
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      outcome = { status: "error", error: describeProviderError(error), latencyMs: Math.round(performance.now() - started) };
    }
    recordResponseOutcome(this.db, job.responseId, outcome);
  }
}
