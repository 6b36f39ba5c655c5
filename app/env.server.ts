import { z } from "zod";
import { parseRateLimit, type RateLimit } from "./http/rate-limit.server";

const emptyAsUnset = (value: unknown) => (value === "" ? undefined : value);

/** A rate limit written "N/window" (e.g. "120/10s", "5/15m"; ms, s, m, h) or "off". */
function rateLimit(defaultSpec: string) {
  return z
    .string()
    .default(defaultSpec)
    .transform((spec, ctx): RateLimit | null => {
      const parsed = parseRateLimit(spec);
      if (parsed === undefined) {
        ctx.addIssue({ code: "custom", message: `"${spec}" is not a rate limit: write N/window such as 120/10s or 5/15m (ms, s, m, h), or off` });
        return z.NEVER;
      }
      return parsed;
    });
}

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
  // "1" exposes test-only endpoints: POST /api/test/studies/:id/engine-idle (browser tests wait for
  // the engine's state instead of sleeping) and POST /api/test/rate-limit-clock (moves the rate
  // limiter's clock, so a test sees a limit recover without waiting). Never set it on a server people use.
  PROMPTDUEL_TEST_HOOKS: z.enum(["0", "1"], { error: "PROMPTDUEL_TEST_HOOKS must be 0 or 1" }).default("0"),
  // With PROMPTDUEL_TEST_HOOKS=1: a file the job thread writes once a job has written everything but
  // not committed, then stops there (the test kills the server at that moment).
  PROMPTDUEL_TEST_PAUSE_JOB_COMMIT: z.string().min(1).optional(),
  // With PROMPTDUEL_TEST_HOOKS=1: a file the job thread writes once a job's second chunk has committed
  // (ADR 0036), then waits until the test deletes it.
  PROMPTDUEL_TEST_PAUSE_JOB_CHUNK: z.string().min(1).optional(),
  // With PROMPTDUEL_TEST_HOOKS=1: a file the job thread appends "waiting <job id>" to when a job's
  // chunk or commit first meets another connection's write lock, and "gave up <job id>" when it stops asking.
  PROMPTDUEL_TEST_JOB_LOCK_MARKER: z.string().min(1).optional(),
  // With PROMPTDUEL_TEST_HOOKS=1: how long a job's chunk or commit keeps asking for the lock (instead of 120 s).
  PROMPTDUEL_TEST_JOB_LOCK_WAIT_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  ASSIGNMENT_TTL_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(10),
  // The engine pool (ADR 0008): threads shared by every study's engine, engines running at once,
  // and how long an unused engine keeps running before it is stopped (and later resumed from SQLite).
  ENGINE_THREADS: z.coerce.number().int().min(1).max(64).default(2),
  ENGINE_MAX_LOADED: z.coerce.number().int().min(1).max(100_000).default(16),
  ENGINE_IDLE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  // "low": engine, job and form-parse threads run nicer than the request thread (app/utils/thread-priority.server.ts);
  // "normal": at the process's priority (the test suites, so that a loaded machine slows them evenly).
  BACKGROUND_THREAD_PRIORITY: z.enum(["low", "normal"], { error: "BACKGROUND_THREAD_PRIORITY must be low or normal" }).default("low"),
  // How long a selection may spend proposing a batch after a refit (it always proposes at least 3 pairs);
  // tests set it high so that what the engine proposes does not depend on how busy the machine is.
  ENGINE_SELECTION_BUDGET_MS: z.coerce.number().int().min(1).max(600_000).default(150),
  // Owner operations (ADR 0010): a study holds at most this many (prompt, query) responses; queueing
  // more than CONFIRM_RESPONSES_ABOVE responses, or an estimated cost above CONFIRM_COST_ABOVE_USD,
  // waits for the owner to confirm the figures.
  RESPONSES_PER_STUDY_MAX: z.coerce.number().int().min(1).max(100_000_000).default(200_000),
  CONFIRM_RESPONSES_ABOVE: z.coerce.number().int().min(0).default(1_000),
  CONFIRM_COST_ABOVE_USD: z.coerce.number().min(0).default(1),
  // "1" when exactly one reverse proxy (nginx, Caddy, a load balancer) forwards every request: the client's
  // address, scheme and host are then read from X-Forwarded-For (its last entry), X-Forwarded-Proto and
  // X-Forwarded-Host. With "0" those headers are ignored (a client could forge them).
  // Cookies are Secure whenever the request is HTTPS, so behind a TLS-terminating proxy this must be 1.
  TRUST_PROXY: z.enum(["0", "1"], { error: "TRUST_PROXY must be 0 or 1" }).default("0"),
  // How long a sign-in (an owner's or an annotator's) lasts; sign-out and revocation end it sooner.
  SESSION_TTL_DAYS: z.coerce.number().positive().max(365).default(30),
  // Rate limits (app/http/rate-limit-rules.server.ts; README "Rate limits" says why each default is what it is).
  RATE_LIMIT_GENERAL_IP: rateLimit("10000/10s"),
  RATE_LIMIT_GENERAL_SESSION: rateLimit("1000/10s"),
  RATE_LIMIT_SIGN_IN_IP: rateLimit("30/1m"),
  RATE_LIMIT_SIGN_IN_ACCOUNT: rateLimit("10/10m"),
  RATE_LIMIT_SETUP_IP: rateLimit("10/10m"),
  RATE_LIMIT_JOIN_IP: rateLimit("600/10m"),
  RATE_LIMIT_TOKENS_IP: rateLimit("30/10m"),
  RATE_LIMIT_TOKENS_SESSION: rateLimit("20/10m"),
  RATE_LIMIT_VOTES_SESSION: rateLimit("120/10s"),
  RATE_LIMIT_NEXT_PAIR_SESSION: rateLimit("120/10s"),
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
let locked = false;

/**
 * The validated process environment. Re-parsed only when one of its variables changed (tests change
 * them between files); parsing on every call cost 2% of a vote request under load (bench:server).
 * Once the server has booted (lockEnv) the environment is read once and kept: reading its ~30
 * variables to notice a change cost ~10 µs per call, several calls per request.
 */
export function env(): Env {
  if (locked && cached) return cached.env;
  const fingerprint = ENV_KEYS.map((key) => process.env[key] ?? "\u0000").join("\u0001");
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, env: parseEnv() };
  return cached.env;
}

/** Called by boot(): a running server's environment no longer changes, so env() stops checking it. */
export function lockEnv(): void {
  env();
  locked = true;
}
