import crypto from "node:crypto";

// Session tokens, invite links, API tokens and the first-owner setup link are 256-bit random
// secrets. Only their sha256 is stored: a fast hash is enough for secrets nobody can guess (unlike
// passwords), and it lets a lookup use an index.

/** A new random secret: `prefix` followed by 43 base64url characters (32 bytes). */
export function newSecretToken(prefix = ""): string {
  return `${prefix}${crypto.randomBytes(32).toString("base64url")}`;
}

/** The stored form of a secret token: its sha256, hex. */
export function hashSecretToken(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}

/** Shape check before any lookup, so junk never reaches the database (and is answered like an unknown token). */
export function looksLikeSecretToken(value: string, prefix = ""): boolean {
  return value.length === prefix.length + 43 && value.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(value.slice(prefix.length));
}

/** The prefix every API token starts with (secret scanners and people recognise it). */
export const API_TOKEN_PREFIX = "pd_";
