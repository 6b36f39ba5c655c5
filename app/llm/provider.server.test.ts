import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { parseEnv } from "~/env.server";
import { DEFAULT_PRICES, describeProviderError, estimateCostUsd, providerConfigFromEnv } from "./provider.server";

describe("providerConfigFromEnv", () => {
  it("is null with no key and no base URL (offline), even when set to empty strings", () => {
    expect(providerConfigFromEnv(parseEnv({}))).toBeNull();
    expect(providerConfigFromEnv(parseEnv({ OPENAI_API_KEY: "", OPENAI_BASE_URL: "" }))).toBeNull();
  });

  it("accepts a local server with no key, and 'lexical' for the offline embedder", () => {
    const config = providerConfigFromEnv(
      parseEnv({
        OPENAI_BASE_URL: "http://localhost:11434/v1",
        OPENAI_CHAT_MODEL: "llama3.2",
        OPENAI_EMBEDDING_MODEL: "lexical",
        GENERATION_CONCURRENCY: "2",
      }),
    );
    expect(config).toMatchObject({
      baseURL: "http://localhost:11434/v1",
      chatModel: "llama3.2",
      embeddingModel: null,
      concurrency: 2,
      prices: DEFAULT_PRICES,
    });
    expect(config!.apiKey).not.toBe("");
  });

  it("takes prices from OPENAI_PRICES and rejects malformed tables with a readable error", () => {
    const config = providerConfigFromEnv(parseEnv({ OPENAI_API_KEY: "k", OPENAI_PRICES: '{"m":{"input":1,"output":2}}' }));
    expect(config).toMatchObject({ baseURL: undefined, embeddingModel: "text-embedding-3-small", prices: { m: { input: 1, output: 2 } } });
    expect(() => parseEnv({ OPENAI_PRICES: "{not json" })).toThrow("OPENAI_PRICES: OPENAI_PRICES must be JSON");
    expect(() => parseEnv({ OPENAI_BASE_URL: "localhost:11434" })).toThrow(
      "OPENAI_BASE_URL must be an http(s) URL such as http://localhost:11434/v1",
    );
  });
});

describe("estimateCostUsd", () => {
  it("prices tokens per million, and gives null for unknown models or missing usage", () => {
    expect(estimateCostUsd({ m: { input: 0.15, output: 0.6 } }, "m", { promptTokens: 1000, completionTokens: 500 })).toBeCloseTo(0.00045, 12);
    expect(estimateCostUsd({}, "m", { promptTokens: 1, completionTokens: 1 })).toBeNull();
    expect(estimateCostUsd({ m: { input: 1, output: 1 } }, "m", { promptTokens: null, completionTokens: 3 })).toBeNull();
  });
});

describe("describeProviderError", () => {
  it("keeps the provider's status and message, and explains timeouts and bad JSON", () => {
    const error = OpenAI.APIError.generate(429, { error: { message: "Slow down" } }, undefined, new Headers());
    expect(describeProviderError(error)).toBe("Provider error 429 Slow down");
    expect(describeProviderError(new OpenAI.APIConnectionTimeoutError())).toBe("The provider did not answer before the request timeout.");
    expect(describeProviderError(new SyntaxError("Unexpected end of JSON input"))).toBe(
      "The provider sent a malformed response (Unexpected end of JSON input).",
    );
  });
});
