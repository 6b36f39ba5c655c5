import { z } from "zod";

const emptyAsUnset = (value: unknown) => (value === "" ? undefined : value);

// Every variable is optional: with none set the app runs on ./data/promptduel.db, offline.
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_PATH: z.string().min(1).default("./data/promptduel.db"),
  // FULL fsyncs every commit (survives power loss, ~2 ms per commit here); NORMAL survives process crashes (ADR 0001).
  SQLITE_SYNCHRONOUS: z.enum(["NORMAL", "FULL"]).default("NORMAL"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Comma-separated list: the first signs new cookies, all are accepted (rotation).
  SESSION_SECRET: z
    .string()
    .optional()
    .transform((value) =>
      value
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine((list) => list === undefined || list.every((s) => s.length >= 16), {
      message: "every SESSION_SECRET entry must be at least 16 characters",
    }),
  // "1" exposes test-only endpoints (POST /api/test/studies/:id/engine-idle): browser tests wait for
  // the engine's state instead of sleeping. Never set it on a server people use.
  PROMPTDUEL_TEST_HOOKS: z.enum(["0", "1"], { error: "PROMPTDUEL_TEST_HOOKS must be 0 or 1" }).default("0"),
  ASSIGNMENT_TTL_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(10),
  // "1" when a reverse proxy that terminates TLS sits in front: its X-Forwarded-Proto (and
  // X-Forwarded-For) are then believed. Cookies are Secure whenever the request is HTTPS, so behind
  // such a proxy this must be 1; never set it when clients reach the server directly (they could
  // claim any protocol and address).
  TRUST_PROXY: z.enum(["0", "1"], { error: "TRUST_PROXY must be 0 or 1" }).default("0"),
  // How long a sign-in (an owner's or an annotator's) lasts; sign-out and revocation end it sooner.
  SESSION_TTL_DAYS: z.coerce.number().positive().max(365).default(30),
  // LLM provider (any OpenAI-compatible server). Neither OPENAI_API_KEY nor OPENAI_BASE_URL set: offline.
  // An empty value (OPENAI_API_KEY= in a .env file) counts as unset.
  OPENAI_API_KEY: z.preprocess(emptyAsUnset, z.string().trim().min(1).optional()),
  OPENAI_BASE_URL: z.preprocess(
    emptyAsUnset,
    z.url({ protocol: /^https?$/, error: "OPENAI_BASE_URL must be an http(s) URL such as http://localhost:11434/v1" }).optional(),
  ),
  OPENAI_CHAT_MODEL: z.string().trim().min(1).default("gpt-4o-mini"),
  // "lexical" keeps the built-in offline embedder even when a provider is configured.
  OPENAI_EMBEDDING_MODEL: z.string().trim().min(1).default("text-embedding-3-small"),
  OPENAI_TIMEOUT_MS: z.coerce.number().int().positive().max(600_000).default(60_000),
  OPENAI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  GENERATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  // USD per million tokens by model name, e.g. {"gpt-4o-mini":{"input":0.15,"output":0.6}}.
  OPENAI_PRICES: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return undefined;
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "OPENAI_PRICES must be JSON" });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .record(z.string(), z.object({ input: z.number().min(0), output: z.number().min(0) }), {
          error: 'OPENAI_PRICES must map model names to {"input": USD per 1M tokens, "output": USD per 1M tokens}',
        })
        .optional(),
    ),
});

export type Env = z.infer<typeof EnvSchema>;

/** Parses `source` (process.env by default) and throws one readable message listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`).join("\n");
    throw new Error(`Invalid environment:\n${problems}`);
  }
  return result.data;
}

const ENV_KEYS = Object.keys(EnvSchema.shape);
let cached: { fingerprint: string; env: Env } | undefined;

/**
 * The validated process environment. Re-parsed only when one of its variables changed (tests change
 * them between files); parsing on every call cost 2% of a vote request under load (bench:server).
 */
export function env(): Env {
  const fingerprint = ENV_KEYS.map((key) => process.env[key] ?? "\u0000").join("\u0001");
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, env: parseEnv() };
  return cached.env;
}
