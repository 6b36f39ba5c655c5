import type { IncomingMessage } from "node:http";
import { isIPv6 } from "node:net";
import type { TLSSocket } from "node:tls";
import { parse as parseCookie } from "cookie";
import { SESSION_COOKIE_NAME } from "~/auth/session.server";

/** Who sent a request, as far as the server can tell (TRUST_PROXY decides whether forwarded headers count). */
export interface Client {
  /** The address rate limits are keyed by: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64). */
  ip: string;
  /** The host the client addressed (Host, or X-Forwarded-Host behind a trusted proxy), lower case; null when absent. */
  host: string | null;
  https: boolean;
  /** The session cookie's value, or null. */
  session: string | null;
}

/**
 * Reads the client from a Node request. With `trustProxy` (TRUST_PROXY=1: exactly one reverse proxy in
 * front), the address is the last X-Forwarded-For entry (the one our proxy appended; earlier ones are
 * the client's word), and scheme and host come from X-Forwarded-Proto / X-Forwarded-Host.
 */
export function clientOf(req: IncomingMessage, trustProxy: boolean): Client {
  const forwardedFor = trustProxy ? lastListEntry(req.headers["x-forwarded-for"]) : null;
  const forwardedProto = trustProxy ? firstListEntry(req.headers["x-forwarded-proto"]) : null;
  const forwardedHost = trustProxy ? firstListEntry(req.headers["x-forwarded-host"]) : null;
  const host = forwardedHost ?? req.headers.host ?? null;
  return {
    ip: rateLimitAddress(forwardedFor ?? req.socket.remoteAddress ?? "unknown"),
    host: host === null ? null : host.toLowerCase(),
    https: forwardedProto !== null ? forwardedProto.toLowerCase() === "https" : (req.socket as Partial<TLSSocket>).encrypted === true,
    session: sessionCookie(req.headers.cookie),
  };
}

function firstListEntry(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(",")[0]?.trim();
  return first ? first : null;
}

function lastListEntry(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header.at(-1) : header;
  const last = value?.split(",").at(-1)?.trim();
  return last ? last : null;
}

function sessionCookie(header: string | undefined): string | null {
  if (!header || !header.includes(SESSION_COOKIE_NAME)) return null;
  return parseCookie(header)[SESSION_COOKIE_NAME] ?? null;
}

/** "::ffff:10.0.0.1" → "10.0.0.1"; "2001:db8:1:2:3:4:5:6" → "2001:db8:1:2::/64"; anything else unchanged. */
export function rateLimitAddress(address: string): string {
  const unbracketed = address.replace(/^\[|\]$/g, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unbracketed);
  if (mapped) return mapped[1]!;
  if (!isIPv6(unbracketed)) return unbracketed;
  const [head = "", tail] = unbracketed.toLowerCase().split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
