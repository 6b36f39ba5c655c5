import crypto from "node:crypto";
import { env, type Env } from "~/env.server";
import { remixPathname } from "./remix-path";
import { MemoryTokenBuckets, type RateLimitStore } from "./rate-limit.server";
import { rateLimitRules, type RateLimitKey, type RateLimitRule } from "./rate-limit-rules.server";

export interface RateLimitedRequest {
  method: string;
  pathname: string;
  /** The client's address as rate limits key it (clientOf in client.server.ts). */
  ip: string;
  /** The session cookie's value, or null without one. */
  session: string | null;
}

export interface RateRefusal {
  rule: string;
  key: RateLimitKey;
  retryAfterSeconds: number;
  message: string;
}

const FROM: Record<RateLimitKey, string> = { ip: "from this address", session: "in this session", account: "for this account" };

/** Applies the rules (rate-limit-rules.server.ts) to requests, with buckets in `store` and time from `now`. */
export class RateLimiter {
  constructor(
    private readonly rules: readonly RateLimitRule[],
    private readonly store: RateLimitStore,
    private readonly now: () => number,
  ) {}

  /**
   * The first limit this request exceeds, or null. Every matching rule counts the request against its
   * "ip" and (with a session cookie) "session" buckets; checking stops at the first refusal.
   */
  async check(request: RateLimitedRequest): Promise<RateRefusal | null> {
    const pathname = remixPathname(request.pathname);
    for (const rule of this.rules) {
      if (rule.methods !== "any" && !rule.methods.includes(request.method)) continue;
      if (!rule.path.test(pathname)) continue;
      const refusal =
        (await this.take(rule, "ip", request.ip)) ?? (request.session === null ? null : await this.take(rule, "session", request.session));
      if (refusal) return refusal;
    }
    return null;
  }

  /** For an action that knows the account a request names (a sign-in's email): counts it against the rule's "account" limit. */
  async checkAccount(ruleName: string, account: string): Promise<RateRefusal | null> {
    const rule = this.rules.find((candidate) => candidate.name === ruleName);
    if (!rule) throw new Error(`No rate-limit rule named ${ruleName}`);
    return this.take(rule, "account", account.trim().toLowerCase());
  }

  private async take(rule: RateLimitRule, key: RateLimitKey, value: string): Promise<RateRefusal | null> {
    const limit = rule.limits[key];
    if (!limit) return null;
    // Long values (signed session cookies, a forged X-Forwarded-For) are hashed so each key stays small.
    const keyValue = value.length > 200 ? crypto.createHash("sha256").update(value).digest("base64url") : value;
    const decision = await this.store.take(`${rule.name}|${key}|${keyValue}`, limit, this.now());
    if (decision.allowed) return null;
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    return {
      rule: rule.name,
      key,
      retryAfterSeconds,
      message: `Too many ${rule.what} ${FROM[key]}: try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}.`,
    };
  }
}

/** A 429 answer for an action (a refused account limit): throw it. */
export function rateLimitResponse(refusal: RateRefusal): Response {
  return new Response(refusal.message, {
    status: 429,
    headers: { "Retry-After": String(refusal.retryAfterSeconds), "Content-Type": "text/plain; charset=utf-8" },
  });
}

// Test hook (PROMPTDUEL_TEST_HOOKS=1, POST /api/test/rate-limit-clock): moves the limiter's clock forward
// so a test sees a bucket refill without waiting for it.
let clockOffsetMs = 0;
export function advanceRateLimitClock(ms: number): void {
  clockOffsetMs += ms;
}

let current: { config: Env; limiter: RateLimiter } | undefined;

/** The process's limiter (in-memory buckets), rebuilt only when the environment changes (tests). */
export function rateLimiter(): RateLimiter {
  const config = env();
  if (current?.config !== config) {
    current = { config, limiter: new RateLimiter(rateLimitRules(config), new MemoryTokenBuckets(), () => performance.now() + clockOffsetMs) };
  }
  return current.limiter;
}
