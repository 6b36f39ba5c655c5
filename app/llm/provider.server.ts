import OpenAI from "openai";
import type { Env } from "~/env.server";

/** USD per million tokens, by model name. */
export type PriceTable = Record<string, { input: number; output: number }>;

// List prices (USD per 1M tokens) at the time of writing; OPENAI_PRICES replaces this table.
// A model missing from the table gets no cost estimate rather than a wrong one.
export const DEFAULT_PRICES: PriceTable = {
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
};

/** Selects the built-in offline embedder instead of the provider's embeddings endpoint. */
const LEXICAL_EMBEDDING_SETTING = "lexical";

export interface ProviderConfig {
  apiKey: string;
  /** Undefined: the SDK's default (api.openai.com). */
  baseURL: string | undefined;
  chatModel: string;
  /** Null: the offline lexical embedder. */
  embeddingModel: string | null;
  requestTimeoutMs: number;
  maxRetries: number;
  concurrency: number;
  prices: PriceTable;
}

/**
 * The provider described by the environment, or null when neither OPENAI_API_KEY nor OPENAI_BASE_URL
 * is set (the app then runs offline). Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp) ignore
 * the key, so a base URL alone is enough; the SDK still needs a non-empty string.
 */
export function providerConfigFromEnv(config: Env): ProviderConfig | null {
  if (!config.OPENAI_API_KEY && !config.OPENAI_BASE_URL) return null;
  return {
    apiKey: config.OPENAI_API_KEY ?? "no-key-needed",
    baseURL: config.OPENAI_BASE_URL,
    chatModel: config.OPENAI_CHAT_MODEL,
    embeddingModel: config.OPENAI_EMBEDDING_MODEL === LEXICAL_EMBEDDING_SETTING ? null : config.OPENAI_EMBEDDING_MODEL,
    requestTimeoutMs: config.OPENAI_TIMEOUT_MS,
    maxRetries: config.OPENAI_MAX_RETRIES,
    concurrency: config.GENERATION_CONCURRENCY,
    prices: config.OPENAI_PRICES ?? DEFAULT_PRICES,
  };
}

/**
 * An SDK client for the provider. The SDK retries 408/409/429/5xx and connection errors up to
 * `maxRetries` times with exponential backoff (0.5 s doubling, capped at 8 s), honouring the server's
 * retry-after / retry-after-ms headers; `timeout` bounds each attempt.
 */
export function createProviderClient(config: ProviderConfig): OpenAI {
  return new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseURL,
    timeout: config.requestTimeoutMs,
    maxRetries: config.maxRetries,
  });
}

/** Estimated USD cost of one call, or null when the model has no price or the provider sent no usage. */
export function estimateCostUsd(
  prices: PriceTable,
  model: string,
  usage: { promptTokens: number | null; completionTokens: number | null },
): number | null {
  const price = prices[model];
  if (!price || usage.promptTokens === null || usage.completionTokens === null) return null;
  return (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1_000_000;
}

/**
 * One line an owner can act on, from whatever a provider call threw: the HTTP status and the
 * provider's own message for API errors, a plain sentence for timeouts, connection failures and
 * bodies that are not the JSON the SDK expected.
 */
export function describeProviderError(error: unknown): string {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return "The provider did not answer before the request timeout.";
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `Could not reach the provider (${error.message}${cause}).`;
  }
  // The SDK's message already reads "<status> <provider's message>".
  if (error instanceof OpenAI.APIError) return `Provider error ${error.message}`;
  if (error instanceof SyntaxError) return `The provider sent a malformed response (${error.message}).`;
  if (error instanceof Error) return error.message;
  return String(error);
}
