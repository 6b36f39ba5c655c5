import type { IncomingMessage, ServerResponse } from "node:http";
import { env } from "~/env.server";
import { clientOf } from "~/http/client.server";
import { crossSiteRefusal } from "~/http/cross-site.server";
import { decodeUtf8 } from "~/http/media-type.server";
import { rateLimiter } from "~/http/rate-limiter.server";
import { readRequestBody } from "~/http/request-body.server";
import { API_SECURITY_HEADERS } from "~/http/security-headers.server";
import { handleApiRequest, type ApiResponse } from "./annotator-api.server";

// Votes carry at most a 2,000-character comment; anything this large is not a client of ours.
const MAX_BODY_BYTES = 64 * 1024;

/** True for the paths server.js hands to handleApiHttp instead of Express and Remix. */
export function isApiPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("/api/");
}

/**
 * Node's request/response → the annotator API (annotator-api.server.ts), with the same transport
 * checks as the pages get in front of Remix (app/http): security headers, rate limits (429), the
 * cross-site check (403), the body capped at MAX_BODY_BYTES (413). Answers JSON in one write; an
 * unexpected error is logged and answered 500.
 */
export function handleApiHttp(req: IncomingMessage, res: ServerResponse): void {
  void answer(req)
    .catch((error: unknown) => {
      console.error("API request failed:", error);
      return { status: 500, body: { error: "Internal server error" } } satisfies ApiResponse;
    })
    .then((response) => {
      if (response) send(res, response);
      else res.destroy();
    });
}

/** The answer to one request, or null when the client went away mid-body. */
async function answer(req: IncomingMessage): Promise<ApiResponse | null> {
  const method = req.method ?? "GET";
  const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  const client = clientOf(req, env().TRUST_PROXY === "1");
  const limited = await rateLimiter().check({ method, pathname, ip: client.ip, session: client.session });
  if (limited) return { status: 429, body: { error: limited.message }, headers: { "Retry-After": String(limited.retryAfterSeconds) } };
  const crossSite = crossSiteRefusal(method, { secFetchSite: single(req.headers["sec-fetch-site"]), origin: req.headers.origin }, client.host);
  if (crossSite) return { status: 403, body: { error: crossSite } };
  const read = await readRequestBody(req, MAX_BODY_BYTES);
  if ("aborted" in read) return null;
  if ("tooLarge" in read) {
    return { status: 413, body: { error: `The request body is larger than ${MAX_BODY_BYTES} bytes` } };
  }
  const body = decodeUtf8(read.body);
  if (body === null) return { status: 400, body: { error: "The request body is not valid UTF-8" } };
  return handleApiRequest({
    method,
    pathname,
    cookie: req.headers.cookie ?? null,
    authorization: req.headers.authorization ?? null,
    contentType: req.headers["content-type"] ?? null,
    body,
    // Cookies set in reply are Secure exactly when the client used HTTPS (behind a trusted proxy: X-Forwarded-Proto).
    secure: client.https,
  });
}

function single(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

function send(res: ServerResponse, response: ApiResponse) {
  const payload = JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...API_SECURITY_HEADERS,
    ...response.headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "Cache-Control": "no-store",
  });
  res.end(payload);
}
