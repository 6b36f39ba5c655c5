/**
 * A keyed rate limiter: one token bucket per key (an IP, a session, an account, prefixed by the rule).
 * A bucket holds up to `limit` tokens and refills at `limit` per `windowMs`, continuously; a request
 * takes one token or is refused with the time until the next token. So "120/10s" allows a burst of
 * 120 and 12 per second sustained, and a client that stops recovers smoothly, not at a window edge.
 *
 * The buckets live behind RateLimitStore, whose `take` may return a promise: a shared store (Redis,
 * the database) for several processes can replace the in-memory one without changing the callers.
 * Time is passed in (milliseconds on any monotonic clock), so tests drive it without waiting.
 */

export interface RateLimit {
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: milliseconds until one token is back. 0 when allowed. */
  retryAfterMs: number;
}

export interface RateLimitStore {
  take(key: string, limit: RateLimit, now: number): RateDecision | Promise<RateDecision>;
}

const UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "120/10s" → {limit: 120, windowMs: 10000}; "5/m" → one minute; "off" → null; anything else → undefined. */
export function parseRateLimit(spec: string): RateLimit | null | undefined {
  const text = spec.trim().toLowerCase();
  if (text === "off") return null;
  const match = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(ms|s|m|h)$/.exec(text);
  if (!match) return undefined;
  const limit = Number(match[1]);
  const windowMs = Number(match[2] ?? "1") * UNITS_MS[match[3] as keyof typeof UNITS_MS];
  if (!Number.isSafeInteger(limit) || limit < 1 || !(windowMs >= 1)) return undefined;
  return { limit, windowMs };
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets in a Map, for one process. At most `maxKeys` buckets are kept (least recently used
 * dropped first): a client inventing keys (random cookies) cannot grow memory without bound, and a
 * dropped bucket only forgets a client that had gone quiet. Each `take` is O(1).
 */
export class MemoryTokenBuckets implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly maxKeys = 100_000) {}

  take(key: string, { limit, windowMs }: RateLimit, now: number): RateDecision {
    const perMs = limit / windowMs;
    const bucket = this.buckets.get(key);
    let tokens = limit;
    if (bucket) {
      tokens = Math.min(limit, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
      // Re-inserted below, so the Map's order is least recently used first.
      this.buckets.delete(key);
    }
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.buckets.set(key, { tokens, at: now });
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    return { allowed, retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / perMs) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
