import path from "node:path";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEXICAL_EMBEDDING_MODEL } from "../../bandit/lexical-embedding";
import { openDatabase, type Connection } from "../../db/client";
import { appMeta, prompts, queries, responses } from "../../db/schema";
import { fakeChatReply, startFakeOpenAI, type FakeOpenAI } from "../../harness/fake-openai";
import { useTempDir } from "../../tests/helpers/temp-database";
import { createStudy } from "~/models/study-setup.server";
import { decodeEmbedding } from "./embeddings.server";
import { responseProgress, retryFailedResponses } from "./generation-queue.server";
import { GenerationWorker } from "./generation-worker.server";
import { createProviderClient, type PriceTable } from "./provider.server";
import { requestVariants } from "./variants.server";

const PRICES: PriceTable = { "fake-chat": { input: 1, output: 2 } };

describe("the generation queue against an OpenAI-compatible server, through the openai SDK", () => {
  const dir = useTempDir();
  let fake: FakeOpenAI;
  let fileCounter = 0;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ retryAfterMs: 2 });
  });
  afterAll(async () => {
    await fake.close();
  });

  function client(options: { timeoutMs?: number; maxRetries?: number } = {}) {
    return createProviderClient({
      apiKey: "test-key",
      baseURL: fake.baseURL,
      chatModel: "fake-chat",
      embeddingModel: null,
      requestTimeoutMs: options.timeoutMs ?? 5_000,
      maxRetries: options.maxRetries ?? 3,
      concurrency: 1,
      prices: PRICES,
    });
  }

  function newStudy(promptCount: number, queryCount: number): { connection: Connection; studyId: number; file: string } {
    const file = path.join(dir(), `queue-${++fileCounter}.db`);
    const connection = openDatabase(file);
    const { studyId } = createStudy(connection.db, {
      name: "Queue study",
      task: "Answer questions about thermostats.",
      model: "fake-chat",
      temperature: 0.2,
      maxTokens: 200,
      seed: 7,
      prompts: Array.from({ length: promptCount }, (_, k) => ({
        text: `Prompt number ${k + 1}: be helpful.`,
        label: null,
        source: "manual" as const,
      })),
      queries: Array.from({ length: queryCount }, (_, k) => ({ text: `Question ${k + 1}?`, notes: null })),
      variants: null,
      responses: [],
    });
    return { connection, studyId, file };
  }

  function worker(
    connection: Connection,
    options: { concurrency?: number; embeddingModel?: string | null; timeoutMs?: number; maxRetries?: number } = {},
  ) {
    return new GenerationWorker({
      db: connection.db,
      client: client(options),
      concurrency: options.concurrency ?? 4,
      embeddingModel: options.embeddingModel ?? null,
      prices: PRICES,
      idlePollMs: 20,
    });
  }

  async function drain(generation: GenerationWorker) {
    generation.start();
    await generation.whenIdle();
    await generation.stop();
  }

  it("generates every response of a study with content, tokens, latency and cost", async () => {
    const { connection, studyId } = newStudy(3, 4);
    const before = fake.requests.length;
    await drain(worker(connection, { concurrency: 3 }));

    const rows = connection.db
      .select({
        status: responses.status,
        content: responses.content,
        system: prompts.text,
        user: queries.text,
        promptTokens: responses.promptTokens,
        completionTokens: responses.completionTokens,
        costUsd: responses.costUsd,
        latencyMs: responses.latencyMs,
        attempts: responses.attempts,
      })
      .from(responses)
      .innerJoin(prompts, eq(prompts.id, responses.promptId))
      .innerJoin(queries, eq(queries.id, responses.queryId))
      .all();
    expect(rows).toHaveLength(12);
    for (const row of rows) {
      expect(row).toMatchObject({ status: "ready", content: fakeChatReply(row.system, row.user), attempts: 1 });
      expect(row.promptTokens).toBeGreaterThan(0);
      expect(row.costUsd).toBeCloseTo((row.promptTokens! * 1 + row.completionTokens! * 2) / 1e6, 12);
      expect(row.latencyMs).toBeGreaterThanOrEqual(0);
    }
    const sent = fake.requests.slice(before);
    expect(sent).toHaveLength(12);
    expect(sent[0]!.body).toMatchObject({ model: "fake-chat", temperature: 0.2, max_tokens: 200, seed: 7 });
    expect(responseProgress(connection.db, studyId)).toMatchObject({ total: 12, ready: 12, pending: 0, failed: 0, unpriced: 0 });
    connection.close();
  });

  it("retries 429 and 500 answers with the SDK's backoff and still generates each response once", async () => {
    const { connection, studyId } = newStudy(2, 3);
    const before = fake.requests.length;
    fake.failNext(2, "rate_limit");
    fake.failNext(1, "server_error");
    await drain(worker(connection, { concurrency: 2 }));
    const sent = fake.requests.slice(before);
    expect(sent.filter((r) => r.status === 429)).toHaveLength(2);
    expect(sent.filter((r) => r.status === 500)).toHaveLength(1);
    expect(sent.filter((r) => r.completed)).toHaveLength(6);
    expect(responseProgress(connection.db, studyId)).toMatchObject({ ready: 6, failed: 0 });
    connection.close();
  });

  it("records the provider's message when retries run out, and the owner's retry generates it", async () => {
    const { connection, studyId } = newStudy(2, 1);
    fake.failNext(2, "rate_limit");
    await drain(worker(connection, { concurrency: 1, maxRetries: 1 }));
    const failed = connection.db.select().from(responses).where(eq(responses.status, "error")).all();
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error).toBe("Provider error 429 Rate limit reached for requests");
    expect(retryFailedResponses(connection.db, studyId)).toBe(1);
    await drain(worker(connection));
    expect(responseProgress(connection.db, studyId)).toMatchObject({ ready: 2, failed: 0 });
    expect(connection.db.select().from(responses).where(eq(responses.id, failed[0]!.id)).get()).toMatchObject({ attempts: 2, error: null });
    connection.close();
  });

  it("a malformed answer fails only that response, with a readable error; the rest continue", async () => {
    const { connection, studyId } = newStudy(2, 3);
    fake.failNext(1, "malformed_json");
    fake.failNext(1, "no_choices");
    await drain(worker(connection, { concurrency: 1 }));
    const errors = connection.db.select({ error: responses.error }).from(responses).where(eq(responses.status, "error")).all();
    expect(errors.map((e) => e.error).sort()).toEqual([
      expect.stringMatching(/^The provider sent a malformed response \(.+\)\.$/),
      "The provider's answer has no message content.",
    ]);
    expect(responseProgress(connection.db, studyId)).toMatchObject({ ready: 4, failed: 2, pending: 0 });
    connection.close();
  });

  it("fails a response whose request outlives the timeout", async () => {
    const { connection } = newStudy(2, 1);
    fake.setDelay(300);
    try {
      await drain(worker(connection, { timeoutMs: 40, maxRetries: 0 }));
    } finally {
      fake.setDelay(0);
    }
    const rows = connection.db.select({ status: responses.status, error: responses.error }).from(responses).all();
    expect(rows).toEqual([
      { status: "error", error: "The provider did not answer before the request timeout." },
      { status: "error", error: "The provider did not answer before the request timeout." },
    ]);
    connection.close();
  });

  it("resumes after a restart mid-queue without generating any pair twice", async () => {
    const { connection, studyId, file } = newStudy(4, 10);
    fake.setDelay(10);
    const before = fake.requests.length;
    const first = worker(connection, { concurrency: 2 });
    first.start();
    await expect.poll(() => responseProgress(connection.db, studyId).ready, { interval: 5, timeout: 30_000 }).toBeGreaterThanOrEqual(10);
    await first.stop();
    const atStop = responseProgress(connection.db, studyId);
    expect(atStop.pending).toBeGreaterThan(0);
    connection.close();

    const reopened = openDatabase(file);
    await drain(worker(reopened, { concurrency: 2 }));
    fake.setDelay(0);
    expect(responseProgress(reopened.db, studyId)).toMatchObject({ total: 40, ready: 40, pending: 0, failed: 0 });
    const perPair = reopened.db
      .select({ promptId: responses.promptId, queryId: responses.queryId, n: count() })
      .from(responses)
      .groupBy(responses.promptId, responses.queryId)
      .all();
    expect(perPair).toHaveLength(40);
    expect(perPair.every((pair) => pair.n === 1)).toBe(true);
    const completedPerConversation = new Map<string, number>();
    for (const request of fake.requests.slice(before)) {
      if (request.completed)
        completedPerConversation.set(request.conversationKey!, (completedPerConversation.get(request.conversationKey!) ?? 0) + 1);
    }
    expect(completedPerConversation.size).toBe(40);
    expect([...completedPerConversation.values()].every((n) => n === 1)).toBe(true);
    expect(
      reopened.db
        .select()
        .from(responses)
        .all()
        .every((row) => row.attempts === 1),
    ).toBe(true);
    reopened.close();
  });

  it("embeds prompts with the provider (base64 through the SDK) and recomputes when the model changes", async () => {
    const { connection } = newStudy(3, 1);
    const lexical = connection.db.select({ model: prompts.embeddingModel }).from(prompts).all();
    expect(lexical.every((p) => p.model === LEXICAL_EMBEDDING_MODEL)).toBe(true);

    const before = fake.requests.length;
    await drain(worker(connection, { embeddingModel: "fake-embed-a" }));
    const embeddingRequests = fake.requests.slice(before).filter((r) => r.path === "/v1/embeddings");
    expect(embeddingRequests).toHaveLength(1);
    expect(embeddingRequests[0]!.body).toMatchObject({ model: "fake-embed-a", encoding_format: "base64" });
    const stored = connection.db.select({ embedding: prompts.embedding, model: prompts.embeddingModel }).from(prompts).all();
    for (const row of stored) {
      expect(row.model).toBe("fake-embed-a");
      const vector = decodeEmbedding(row.embedding!);
      expect(vector).toHaveLength(16);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }

    await drain(worker(connection, { embeddingModel: "fake-embed-b" }));
    expect(
      connection.db
        .select({ model: prompts.embeddingModel })
        .from(prompts)
        .all()
        .map((p) => p.model),
    ).toEqual(["fake-embed-b", "fake-embed-b", "fake-embed-b"]);
    connection.close();
  });

  it("generates N variants of a seed prompt, drops duplicates after normalisation and queues their responses", async () => {
    const file = path.join(dir(), "variants.db");
    const connection = openDatabase(file);
    const seed = "You are the support bot. Answer briefly.";
    // Variants 1 and 3 differ only in case and spacing, variant 4 repeats the seed: two survive, without
    // the quotes and code fence some models wrap their answer in.
    const replies = ['"Be kind and brief."', "```text\nAnswer with the key fact first.\n```", "be   KIND and brief.", seed.toUpperCase()];
    fake.setChatReply((system, user) => {
      const match = user.match(/Write variant (\d+) of/);
      return match ? replies[Number(match[1]) - 1]! : fakeChatReply(system, user);
    });
    try {
      const { studyId } = createStudy(connection.db, {
        name: "Variants",
        task: "Support for a thermostat company.",
        model: "fake-chat",
        temperature: 0.7,
        maxTokens: 100,
        seed: null,
        prompts: [],
        queries: [{ text: "How do I pair it?", notes: null }],
        variants: { seedPrompt: seed, count: 4 },
        responses: [],
      });
      await drain(worker(connection, { concurrency: 2 }));
      const stored = connection.db
        .select({ id: prompts.id, text: prompts.text, source: prompts.source, parentIds: prompts.parentIds })
        .from(prompts)
        .where(eq(prompts.studyId, studyId))
        .orderBy(prompts.id)
        .all();
      expect(stored.map((p) => p.text)).toEqual([seed, "Be kind and brief.", "Answer with the key fact first."]);
      expect(stored.slice(1).every((p) => p.source === "generated" && p.parentIds[0] === stored[0]!.id)).toBe(true);
      expect(
        connection.db
          .select()
          .from(appMeta)
          .all()
          .filter((row) => row.key.startsWith("variant-request:")),
      ).toEqual([]);
      expect(responseProgress(connection.db, studyId)).toMatchObject({ total: 3, ready: 3 });
      const variantCalls = fake.requests.filter((r) => /Write variant \d+ of 4/.test(JSON.stringify(r.body)));
      expect(variantCalls).toHaveLength(4);
      expect(variantCalls[0]!.body).toMatchObject({ model: "fake-chat", temperature: 1 });
    } finally {
      fake.setChatReply(null);
      connection.close();
    }
  });

  it("a second request for variants of the same seed continues with new rewrite directions", async () => {
    const connection = openDatabase(path.join(dir(), "variants-again.db"));
    const before = fake.requests.length;
    const { studyId } = createStudy(connection.db, {
      name: "Variants twice",
      task: "Support.",
      model: "fake-chat",
      temperature: 0.7,
      maxTokens: 100,
      seed: null,
      prompts: [],
      queries: [{ text: "Hello?", notes: null }],
      variants: { seedPrompt: "Be helpful.", count: 2 },
      responses: [],
    });
    await drain(worker(connection));
    const seedId = connection.db.select().from(prompts).where(eq(prompts.studyId, studyId)).orderBy(prompts.id).get()!.id;
    requestVariants(connection.db, { studyId, seedPromptId: seedId, count: 2 });
    await drain(worker(connection));
    const asked = fake.requests
      .slice(before)
      .map((r) => JSON.stringify(r.body).match(/Write variant (\d+ of \d+)/)?.[1])
      .filter(Boolean)
      .sort();
    expect(asked).toEqual(["1 of 2", "2 of 2", "3 of 4", "4 of 4"]);
    expect(connection.db.select({ n: count() }).from(prompts).where(eq(prompts.studyId, studyId)).get()!.n).toBe(5);
    connection.close();
  });

  it("keeps a partly failed variant request open with the error, asking only for the missing ones on retry", async () => {
    const connection = openDatabase(path.join(dir(), "variants-fail.db"));
    fake.setChatReply((_system, user) => `Variant from: ${user.slice(-40)}`);
    try {
      const { studyId } = createStudy(connection.db, {
        name: "Variants failing",
        task: "Support.",
        model: "fake-chat",
        temperature: 0.7,
        maxTokens: 100,
        seed: null,
        prompts: [],
        queries: [{ text: "Hello?", notes: null }],
        variants: { seedPrompt: "Be helpful.", count: 3 },
        responses: [],
      });
      fake.failNext(1, "malformed_json");
      await drain(worker(connection, { concurrency: 1 }));
      const request = connection.db
        .select()
        .from(appMeta)
        .all()
        .find((row) => row.key.startsWith("variant-request:"));
      expect(JSON.parse(request!.value)).toMatchObject({
        studyId,
        count: 1,
        error: expect.stringMatching(/^1 of 3 variant requests failed: The provider sent a malformed response/),
      });
      expect(
        connection.db
          .select({ n: count() })
          .from(prompts)
          .where(and(eq(prompts.studyId, studyId), eq(prompts.source, "generated")))
          .get()!.n,
      ).toBe(2);
    } finally {
      fake.setChatReply(null);
      connection.close();
    }
  });
});
