import type { Env } from "~/env.server";
import type { RateLimit } from "./rate-limit.server";

/** What a bucket is keyed by: the client's address, its session cookie, or an account named in the request (by the action). */
export type RateLimitKey = "ip" | "session" | "account";

export interface RateLimitRule {
  name: string;
  /** What is counted, for the 429 message: "Too many <what> from this address". */
  what: string;
  methods: readonly string[] | "any";
  /** Tested against the pathname with Single Fetch's `.data` suffix removed, so `/join.data` counts as `/join`. */
  path: RegExp;
  /** Keys with no limit (null: "off" in the environment) are not counted. */
  limits: Partial<Record<RateLimitKey, RateLimit | null>>;
}

/**
 * Every rule a request passes through, by method and path; a request counts against each rule it
 * matches (the general ceiling included). The server applies the "ip" and "session" limits before
 * Express or the API sees the body; an "account" limit is checked by the action that knows the
 * account (RateLimiter.checkAccount). New routes that create sessions, sign in or mint credentials
 * belong here with their paths.
 *
 * Defaults (env.server.ts, README "Rate limits"): per-IP limits only where an address is all we know
 * (sign-in, first-owner setup, joining, which mint sessions); per-session limits on votes and pairs at
 * ten times a fast human's pace; a general per-IP ceiling above what 200 scripted annotators on one
 * address reach (npm run bench:server, or a lab behind one NAT).
 */
export function rateLimitRules(config: Env): RateLimitRule[] {
  return [
    {
      // /account changes a password, which checks the current one: a stolen session must not guess it at leisure.
      name: "sign-in",
      what: "sign-in attempts",
      methods: ["POST"],
      path: /^\/(login|sign-in|account|api\/login)$/,
      limits: { ip: config.RATE_LIMIT_SIGN_IN_IP, account: config.RATE_LIMIT_SIGN_IN_ACCOUNT },
    },
    {
      name: "setup",
      what: "first-owner setup attempts",
      methods: ["POST"],
      path: /^\/setup(\/[^/]*)?$/,
      limits: { ip: config.RATE_LIMIT_SETUP_IP },
    },
    {
      name: "join",
      what: "joins",
      methods: ["POST"],
      path: /^\/(join|invite|invites)(\/[^/]*)?$|^\/api\/session$/,
      limits: { ip: config.RATE_LIMIT_JOIN_IP },
    },
    {
      name: "tokens",
      what: "token creations",
      methods: ["POST"],
      path: /\/tokens(\/[^/]*)?$/,
      limits: { ip: config.RATE_LIMIT_TOKENS_IP, session: config.RATE_LIMIT_TOKENS_SESSION },
    },
    {
      name: "votes",
      what: "votes",
      methods: ["POST"],
      path: /^\/studies\/[^/]+\/annotate$|^\/api\/studies\/[^/]+\/votes$/,
      limits: { session: config.RATE_LIMIT_VOTES_SESSION },
    },
    {
      name: "next-pair",
      what: "pair requests",
      methods: ["POST"],
      path: /^\/api\/studies\/[^/]+\/assignments$/,
      limits: { session: config.RATE_LIMIT_NEXT_PAIR_SESSION },
    },
    {
      name: "general",
      what: "requests",
      methods: "any",
      path: /^/,
      limits: { ip: config.RATE_LIMIT_GENERAL_IP, session: config.RATE_LIMIT_GENERAL_SESSION },
    },
  ];
}
