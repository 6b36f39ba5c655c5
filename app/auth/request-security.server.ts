import { env } from "~/env.server";

/**
 * Whether the client reached us over HTTPS. The server itself speaks plain HTTP, so HTTPS means a
 * TLS-terminating proxy in front, and its X-Forwarded-Proto is believed only with TRUST_PROXY=1
 * (otherwise any client could claim it). Cookies are Secure exactly when this holds: a Secure cookie
 * sent over plain http would be dropped by the browser and nobody could sign in.
 */
export function requestIsHttps(request: { url: string; forwardedProto: string | null }): boolean {
  if (new URL(request.url).protocol === "https:") return true;
  if (env().TRUST_PROXY !== "1" || request.forwardedProto === null) return false;
  // A chain of proxies appends: the first entry is what the client used.
  return request.forwardedProto.split(",")[0]!.trim().toLowerCase() === "https";
}

/** requestIsHttps for a Fetch Request (Remix loaders and actions). */
export function fetchRequestIsHttps(request: Request): boolean {
  return requestIsHttps({ url: request.url, forwardedProto: request.headers.get("x-forwarded-proto") });
}

/** The origin as the client sees it (https behind a trusted TLS proxy): the base of links shown to owners. */
export function publicOrigin(request: Request): string {
  const url = new URL(request.url);
  return `${fetchRequestIsHttps(request) ? "https:" : url.protocol}//${url.host}`;
}
