import crypto from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

// A small OpenAI-compatible server for tests: POST /v1/chat/completions and POST /v1/embeddings on
// 127.0.0.1, with deterministic answers and failures injected on demand. Only what the app uses.

export type FailureKind = "rate_limit" | "server_error" | "malformed_json" | "no_choices";

export interface LoggedRequest {
  path: string;
  body: Record<string, unknown>;
  /** For chat completions: "<system>\u0000<user>", the key of a (prompt, query) pair. */
  conversationKey: string | null;
  status: number;
  /** True when the server sent a well-formed successful answer. */
  completed: boolean;
}

export interface FakeOpenAIOptions {
  /** Delay before each answer, in milliseconds. */
  delayMs?: number;
  /** Embedding dimension. */
  dimension?: number;
  /** Sent as retry-after-ms with 429 and 500 answers, so SDK retries in tests take milliseconds. */
  retryAfterMs?: number;
}

export interface FakeOpenAI {
  /** Base URL for the SDK, ending in /v1. */
  baseURL: string;
  requests: LoggedRequest[];
  /** The next `count` requests (any endpoint) fail with `kind`. */
  failNext(count: number, kind: FailureKind): void;
  /** Requests whose user message contains `needle` fail with `kind`, every time. */
  failWhenUserMessageContains(needle: string, kind: FailureKind): void;
  setDelay(ms: number): void;
  /** Replaces the deterministic chat answer (e.g. to return the same text every time). */
  setChatReply(reply: ((system: string, user: string) => string) | null): void;
  /** Completed chat requests per conversation key. */
  completedChatCounts(): Map<string, number>;
  close(): Promise<void>;
}

/** The deterministic answer to a system prompt + user message: a short hash plus a readable echo. */
export function fakeChatReply(system: string, user: string): string {
  const digest = crypto.createHash("sha256").update(`${system}\u0000${user}`).digest("hex").slice(0, 8);
  const firstLine = user.split("\n").find((line) => line.trim() !== "") ?? "";
  return `Answer ${digest}. You asked: ${firstLine.slice(0, 120)}\n\n- first point\n- second point`;
}

/** A deterministic, not normalised vector for `text` (so clients must normalise themselves). */
export function fakeEmbedding(text: string, dimension: number): number[] {
  const vector: number[] = [];
  for (let block = 0; vector.length < dimension; block++) {
    const digest = crypto.createHash("sha256").update(`${block}:${text}`).digest();
    for (let k = 0; k + 1 < digest.length && vector.length < dimension; k += 2) vector.push((digest.readUInt16LE(k) - 32768) / 1000);
  }
  return vector;
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function messageText(messages: unknown, role: string): string {
  if (!Array.isArray(messages)) return "";
  return messages
    .filter((m): m is { role: string; content: unknown } => typeof m === "object" && m !== null && (m as { role?: unknown }).role === role)
    .map((m) => (typeof m.content === "string" ? m.content : ""))
    .join("\n");
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let delayMs = options.delayMs ?? 0;
  const dimension = options.dimension ?? 16;
  const retryAfterMs = options.retryAfterMs ?? 5;
  const queuedFailures: FailureKind[] = [];
  const userMessageFailures: { needle: string; kind: FailureKind }[] = [];
  let chatReply: ((system: string, user: string) => string) | null = null;
  const requests: LoggedRequest[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      } catch {
        body = {};
      }
      const path = (req.url ?? "").split("?")[0]!;
      const isChat = path === "/v1/chat/completions";
      const system = isChat ? messageText(body.messages, "system") : "";
      const user = isChat ? messageText(body.messages, "user") : "";
      const entry: LoggedRequest = { path, body, conversationKey: isChat ? `${system}\u0000${user}` : null, status: 0, completed: false };
      requests.push(entry);
      const failure = queuedFailures.shift() ?? userMessageFailures.find((rule) => isChat && user.includes(rule.needle))?.kind;

      const send = (status: number, payload: string, headers: Record<string, string> = {}) => {
        entry.status = status;
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(payload);
      };

      const answer = () => {
        if (failure === "rate_limit") {
          return send(429, JSON.stringify({ error: { message: "Rate limit reached for requests", type: "rate_limit_error" } }), {
            "retry-after-ms": String(retryAfterMs),
            "retry-after": "0",
          });
        }
        if (failure === "server_error") {
          return send(500, JSON.stringify({ error: { message: "The server had an error while processing your request", type: "server_error" } }), {
            "retry-after-ms": String(retryAfterMs),
          });
        }
        if (failure === "malformed_json") return send(200, '{"id": "chatcmpl-broken", "choices": [');
        if (failure === "no_choices") return send(200, JSON.stringify({ id: "chatcmpl-empty", object: "chat.completion", choices: [] }));

        if (isChat) {
          const content = (chatReply ?? fakeChatReply)(system, user);
          const promptTokens = wordCount(system) + wordCount(user);
          const completionTokens = wordCount(content);
          send(
            200,
            JSON.stringify({
              id: `chatcmpl-${requests.length}`,
              object: "chat.completion",
              created: Math.floor(Date.now() / 1000),
              model: body.model,
              choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
              usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
            }),
          );
          entry.completed = true;
          return;
        }
        if (path === "/v1/embeddings") {
          const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
          const base64 = body.encoding_format === "base64";
          const data = inputs.map((text, index) => {
            const vector = fakeEmbedding(text, dimension);
            return {
              object: "embedding",
              index,
              embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector,
            };
          });
          const tokens = inputs.reduce((total, text) => total + wordCount(text), 0);
          send(200, JSON.stringify({ object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
          entry.completed = true;
          return;
        }
        send(404, JSON.stringify({ error: { message: `No route for ${req.method} ${path}`, type: "invalid_request_error" } }));
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext(count, kind) {
      for (let k = 0; k < count; k++) queuedFailures.push(kind);
    },
    failWhenUserMessageContains(needle, kind) {
      userMessageFailures.push({ needle, kind });
    },
    setDelay(ms) {
      delayMs = ms;
    },
    setChatReply(reply) {
      chatReply = reply;
    },
    completedChatCounts() {
      const counts = new Map<string, number>();
      for (const request of requests) {
        if (request.completed && request.conversationKey !== null) {
          counts.set(request.conversationKey, (counts.get(request.conversationKey) ?? 0) + 1);
        }
      }
      return counts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
