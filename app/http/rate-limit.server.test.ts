import { describe, expect, it } from "vitest";
import { parseEnv } from "~/env.server";
import { MemoryTokenBuckets, parseRateLimit } from "./rate-limit.server";
import { rateLimitRules } from "./rate-limit-rules.server";
import { RateLimiter, rateLimitResponse } from "./rate-limiter.server";

describe("parseRateLimit", () => {
  it.each([
    ["120/10s", { limit: 120, windowMs: 10_000 }],
    ["5/15m", { limit: 5, windowMs: 900_000 }],
    ["1/h", { limit: 1, windowMs: 3_600_000 }],
    [" 30 / 1M ", { limit: 30, windowMs: 60_000 }],
    ["3/250ms", { limit: 3, windowMs: 250 }],
    ["off", null],
  ])("reads %j", (spec, expected) => {
    expect(parseRateLimit(spec)).toEqual(expected);
  });
  it.each(["", "10", "10/", "0/1s", "-1/1s", "10/1d", "ten/1s", "1.5/1s", "10/0s"])("refuses %j", (spec) => {
    expect(parseRateLimit(spec)).toBeUndefined();
  });
  it("is how the environment sets a limit, with a readable error", () => {
    expect(parseEnv({ RATE_LIMIT_JOIN_IP: "3/1h" }).RATE_LIMIT_JOIN_IP).toEqual({ limit: 3, windowMs: 3_600_000 });
    expect(parseEnv({ RATE_LIMIT_VOTES_SESSION: "off" }).RATE_LIMIT_VOTES_SESSION).toBeNull();
    expect(() => parseEnv({ RATE_LIMIT_VOTES_SESSION: "lots" })).toThrow(/RATE_LIMIT_VOTES_SESSION: "lots" is not a rate limit/);
  });
});

describe("MemoryTokenBuckets", () => {
  const limit = { limit: 3, windowMs: 3_000 };

  it("allows a burst of `limit`, then refuses with the time until the next token", () => {
    const buckets = new MemoryTokenBuckets();
    expect([0, 0, 0].map((t) => buckets.take("k", limit, t).allowed)).toEqual([true, true, true]);
    expect(buckets.take("k", limit, 0)).toEqual({ allowed: false, retryAfterMs: 1_000 });
    expect(buckets.take("k", limit, 400)).toEqual({ allowed: false, retryAfterMs: 600 });
  });

  it("refills continuously at limit per window, never above the limit", () => {
    const buckets = new MemoryTokenBuckets();
    for (let i = 0; i < 3; i++) buckets.take("k", limit, 0);
    expect(buckets.take("k", limit, 1_000).allowed).toBe(true);
    expect(buckets.take("k", limit, 1_000).allowed).toBe(false);
    // A long pause refills to the limit, not beyond it.
    expect([1, 2, 3, 4].map(() => buckets.take("k", limit, 1_000_000).allowed)).toEqual([true, true, true, false]);
  });

  it("keeps keys apart and treats a clock that steps back as no time passed", () => {
    const buckets = new MemoryTokenBuckets();
    for (let i = 0; i < 3; i++) buckets.take("a", limit, 5_000);
    expect(buckets.take("b", limit, 5_000).allowed).toBe(true);
    expect(buckets.take("a", limit, 1_000).allowed).toBe(false);
  });

  it("holds at most maxKeys buckets, dropping the least recently used", () => {
    const buckets = new MemoryTokenBuckets(100);
    for (let i = 0; i < 3; i++) buckets.take("busy", limit, 0);
    for (let i = 0; i < 1_000; i++) {
      buckets.take(`junk-${i}`, limit, 0);
      // The busy client keeps asking, so its (empty) bucket stays among the recent ones.
      if (i % 50 === 0) buckets.take("busy", limit, 0);
    }
    expect(buckets.size).toBe(100);
    expect(buckets.take("busy", limit, 0).allowed).toBe(false);
  });
});

describe("RateLimiter", () => {
  function limiter(overrides: Record<string, string>) {
    let now = 0;
    const instance = new RateLimiter(rateLimitRules(parseEnv(overrides)), new MemoryTokenBuckets(), () => now);
    return { instance, advance: (ms: number) => (now += ms) };
  }
  const join = (ip: string, session: string | null = null, pathname = "/join") => ({ method: "POST", pathname, ip, session });

  it("limits joins per address on every join path (Single Fetch .data and the API included), and recovers", async () => {
    const { instance, advance } = limiter({ RATE_LIMIT_JOIN_IP: "3/1m" });
    expect(await instance.check(join("10.0.0.1"))).toBeNull();
    expect(await instance.check(join("10.0.0.1", null, "/join.data"))).toBeNull();
    expect(await instance.check(join("10.0.0.1", null, "/api/session"))).toBeNull();
    const refused = await instance.check(join("10.0.0.1", "any-cookie"));
    expect(refused).toMatchObject({
      rule: "join",
      key: "ip",
      retryAfterSeconds: 20,
      message: "Too many joins from this address: try again in 20 seconds.",
    });
    // Another address is unaffected; GETs of the join page are not joins.
    expect(await instance.check(join("10.0.0.2"))).toBeNull();
    expect(await instance.check({ method: "GET", pathname: "/join", ip: "10.0.0.1", session: null })).toBeNull();
    advance(20_000);
    expect(await instance.check(join("10.0.0.1"))).toBeNull();
    expect(await instance.check(join("10.0.0.1"))).not.toBeNull();
  });

  it("limits votes and pairs per session, not per address, so many annotators behind one address are not throttled together", async () => {
    const { instance } = limiter({ RATE_LIMIT_VOTES_SESSION: "2/1m", RATE_LIMIT_NEXT_PAIR_SESSION: "1/1m" });
    const vote = (session: string, pathname = "/api/studies/1/votes") => ({ method: "POST", pathname, ip: "10.0.0.9", session });
    expect(await instance.check(vote("alice"))).toBeNull();
    expect(await instance.check(vote("alice", "/studies/1/annotate"))).toBeNull();
    expect(await instance.check(vote("alice"))).toMatchObject({ rule: "votes", key: "session", message: expect.stringContaining("in this session") });
    expect(await instance.check(vote("bob"))).toBeNull();
    expect(await instance.check(vote("bob", "/api/studies/1/assignments"))).toBeNull();
    expect(await instance.check(vote("bob", "/api/studies/1/assignments"))).toMatchObject({ rule: "next-pair" });
  });

  it("applies the general ceiling to every request, per address and per session", async () => {
    const { instance } = limiter({ RATE_LIMIT_GENERAL_IP: "2/1m", RATE_LIMIT_GENERAL_SESSION: "off" });
    const get = { method: "GET", pathname: "/studies/1", ip: "10.0.0.3", session: "s" };
    expect(await instance.check(get)).toBeNull();
    expect(await instance.check({ ...get, method: "HEAD" })).toBeNull();
    expect(await instance.check(get)).toMatchObject({ rule: "general", key: "ip", message: expect.stringContaining("Too many requests") });
  });

  it("covers the routes the sign-in, setup and token rules name", async () => {
    const { instance } = limiter({
      RATE_LIMIT_SIGN_IN_IP: "1/1m",
      RATE_LIMIT_SETUP_IP: "1/1m",
      RATE_LIMIT_JOIN_IP: "1/1m",
      RATE_LIMIT_TOKENS_SESSION: "1/1m",
    });
    for (const [pathname, rule] of [
      ["/login", "sign-in"],
      ["/account", "sign-in"],
      ["/setup/one-time-token", "setup"],
      ["/join/invite-token", "join"],
      ["/invite/member-token", "join"],
      ["/studies/1/tokens", "tokens"],
      ["/setup", "setup"],
      ["/settings/tokens", "tokens"],
    ] as const) {
      const request = { method: "POST", pathname, ip: `ip-${pathname}`, session: `s-${pathname}` };
      expect(await instance.check(request)).toBeNull();
      expect(await instance.check(request), pathname).toMatchObject({ rule });
    }
    // The study setup page is not the first-owner setup.
    expect(await instance.check({ method: "POST", pathname: "/studies/1/setup", ip: "ip-/setup", session: null })).toBeNull();
  });

  it("counts an account named by an action (a sign-in's email), case-insensitively", async () => {
    const { instance } = limiter({ RATE_LIMIT_SIGN_IN_ACCOUNT: "2/10m" });
    expect(await instance.checkAccount("sign-in", "Ada@Example.org")).toBeNull();
    expect(await instance.checkAccount("sign-in", "ada@example.org ")).toBeNull();
    const refusal = await instance.checkAccount("sign-in", "ada@example.org");
    expect(refusal).toMatchObject({ key: "account", retryAfterSeconds: 300 });
    const response = rateLimitResponse(refusal!);
    expect(response.status).toBe(429);
    expect(response.headers.get("Retry-After")).toBe("300");
    expect(await response.text()).toBe("Too many sign-in attempts for this account: try again in 300 seconds.");
    await expect(instance.checkAccount("no-such-rule", "x")).rejects.toThrow(/No rate-limit rule/);
  });

  it("keys long values (signed cookies, forged headers) by a hash, so they stay apart but small", async () => {
    const { instance } = limiter({ RATE_LIMIT_VOTES_SESSION: "1/1m" });
    const long = (tail: string) => ({ method: "POST", pathname: "/api/studies/1/votes", ip: "10.0.0.4", session: "x".repeat(5_000) + tail });
    expect(await instance.check(long("a"))).toBeNull();
    expect(await instance.check(long("b"))).toBeNull();
    expect(await instance.check(long("a"))).not.toBeNull();
  });

  it("counts nothing for a limit set to off", async () => {
    const { instance } = limiter({ RATE_LIMIT_JOIN_IP: "off", RATE_LIMIT_GENERAL_IP: "off", RATE_LIMIT_GENERAL_SESSION: "off" });
    for (let i = 0; i < 1_000; i++) expect(await instance.check(join("10.0.0.5"))).toBeNull();
  });
});
