import { afterAll, beforeAll } from "vitest";
import { startFakeOpenAI, type FakeOpenAI } from "../../harness/fake-openai";

/**
 * Points the app's provider at a fake OpenAI-compatible server for this test file (the openai SDK against
 * 127.0.0.1, the offline lexical embedder), with `env` on top; afterwards stops the generation worker,
 * restores the environment and closes the server. Call after useTempAppDatabase. Returns the server.
 */
export function useFakeProvider(env: Record<string, string> = {}): () => FakeOpenAI {
  let fake: FakeOpenAI | null = null;
  const savedEnv = { ...process.env };
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    Object.assign(process.env, { OPENAI_BASE_URL: fake.baseURL, OPENAI_API_KEY: "test-key", OPENAI_EMBEDDING_MODEL: "lexical", ...env });
  });
  afterAll(async () => {
    const { stopGeneration } = await import("../../app/llm/runtime.server");
    await stopGeneration();
    process.env = savedEnv;
    await fake?.close();
  });
  return () => {
    if (!fake) throw new Error("useFakeProvider: the fake server starts in beforeAll");
    return fake;
  };
}
