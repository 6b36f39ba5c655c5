import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequestHandler, writeReadableStreamToWritable, type ServerBuild } from "@remix-run/node";
import { env } from "~/env.server";
import { loadContext } from "~/utils/response-flow.server";
import { withBusyRetry } from "./busy-retry.server";
import { clientOf, type Client } from "./client.server";
import { crossSiteRefusal, SAFE_METHODS } from "./cross-site.server";
import { FORM_MEDIA_TYPES, isWellFormedUrlencoded, mediaTypeOf } from "./media-type.server";
import { rateLimiter } from "./rate-limiter.server";
import { readRequestBody } from "./request-body.server";
import { createRoutePolicy } from "./route-policy.server";
import { cspNonceOf, pageSecurityHeaders } from "./security-headers.server";

/** Bodies above this are not parsed by the guard (see requestShape). */
const LARGE_BODY_BYTES = 1_000_000;

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

const clients = new WeakMap<IncomingMessage, Client>();
const bodies = new WeakMap<IncomingMessage, Uint8Array<ArrayBuffer>>();

function clientFor(req: IncomingMessage): Client {
  let client = clients.get(req);
  if (!client) {
    client = clientOf(req, env().TRUST_PROXY === "1");
    clients.set(req, client);
  }
  return client;
}

/** Answers a request the guards refuse, in plain text: the message says what was wrong and what to do. */
function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(message),
    "Cache-Control": "no-store",
  });
  res.end(message);
}

/**
 * The transport checks in front of Remix, in the order server.js mounts them (docs/decisions/0012):
 *
 * - securityHeaders: CSP with a per-response nonce, frame-ancestors none, nosniff, Referrer-Policy
 *   (security-headers.server.ts), on every answer including static files;
 * - rateLimits: 429 with Retry-After by method and path, per IP and per session
 *   (rate-limit-rules.server.ts);
 * - requestShape: the request must fit the route it addresses, as the built route modules declare
 *   it: 405 with Allow for a method the route lacks, 403 for a cross-site state change, 400 for
 *   `?_data` (a pre-Single-Fetch protocol that runs any route's action by id), 415 for a body that is
 *   not a form, 413 over the route's `handle.maxBodyBytes`, 400 for a form body that does not parse
 *   (or, urlencoded, is not UTF-8 with well-formed escapes).
 *   The body is read here, capped, and handed to Remix from memory, so no route code ever sees a
 *   request these checks refuse and nothing is written for one;
 * - remix: the Remix request handler, given that body and the nonce; a loader or action whose write
 *   meets the job thread's lock runs again after a pause (busy-retry.server.ts, ADR 0036).
 */
export function createHttpGuards(build: ServerBuild): Record<"securityHeaders" | "rateLimits" | "requestShape" | "remix", Middleware> {
  const policyFor = createRoutePolicy(build.routes);
  const handleRequest = createRequestHandler(withBusyRetry(build), build.mode);

  const rateLimits: Middleware = (req, res, next) => {
    const client = clientFor(req);
    const pathname = (req.url ?? "/").split("?")[0]!;
    rateLimiter()
      .check({ method: req.method ?? "GET", pathname, ip: client.ip, session: client.session })
      .then((refusal) => (refusal ? refuse(res, 429, refusal.message, { "Retry-After": String(refusal.retryAfterSeconds) }) : next()), next);
  };

  const requestShape: Middleware = (req, res, next) => {
    const method = req.method ?? "GET";
    const client = clientFor(req);
    const target = requestUrl(req, client);
    if (!target) return refuse(res, 400, "Bad request target or Host header.");
    const policy = policyFor(target.pathname, target.search);
    const unsafe = !SAFE_METHODS.has(method);
    if (!policy) return unsafe ? refuse(res, 404, `Nothing at ${target.pathname} accepts ${method}.`) : next();
    if (!policy.allow.includes(method)) {
      const allow = policy.allow.join(", ");
      return refuse(res, 405, `${method} is not allowed here; this address answers ${allow}.`, { Allow: allow });
    }
    const crossSite = crossSiteRefusal(method, { secFetchSite: header(req, "sec-fetch-site"), origin: header(req, "origin") }, client.host);
    if (crossSite) return refuse(res, 403, crossSite);
    if (target.searchParams.has("_data")) return refuse(res, 400, "?_data requests are not served: this app speaks Remix Single Fetch (.data URLs).");
    if (!unsafe) return next();

    const contentType = header(req, "content-type");
    if (!FORM_MEDIA_TYPES.has(mediaTypeOf(contentType) ?? "")) {
      return refuse(res, 415, "Send the form as application/x-www-form-urlencoded or multipart/form-data.");
    }
    const tooLarge = `The form is larger than this page accepts (${policy.maxBodyBytes.toLocaleString("en-US")} bytes).`;
    void readRequestBody(req, policy.maxBodyBytes).then(async (read) => {
      if ("aborted" in read) return res.destroy();
      if ("tooLarge" in read) return refuse(res, 413, tooLarge);
      const unreadable = "The form body could not be read as its Content-Type says.";
      if (mediaTypeOf(contentType) === "application/x-www-form-urlencoded" && !isWellFormedUrlencoded(read.body)) return refuse(res, 400, unreadable);
      // The same parser the route will use (request.formData()): a body it cannot read is the client's
      // error, not a 500. Not for an upload above LARGE_BODY_BYTES (only the upload routes accept one):
      // parsing 73 MB held the request thread for seconds, and their readUploadForm answers a body it
      // cannot read with a 400 itself (ADR 0036).
      if (read.body.length <= LARGE_BODY_BYTES) {
        try {
          await new Response(read.body, { headers: { "Content-Type": contentType! } }).formData();
        } catch {
          return refuse(res, 400, unreadable);
        }
      }
      bodies.set(req, read.body);
      next();
    });
  };

  const remix: Middleware = (req, res, next) => {
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) controller.abort();
    });
    const method = req.method ?? "GET";
    const url = requestUrl(req, clientFor(req))!;
    const body = SAFE_METHODS.has(method) ? undefined : bodies.get(req);
    const request = new Request(url, {
      method,
      headers: requestHeaders(req),
      signal: controller.signal,
      ...(body === undefined ? {} : { body }),
    });
    handleRequest(request, { cspNonce: cspNonceOf(res), ...loadContext(res) })
      .then((response) => sendResponse(res, response))
      .catch(next);
  };

  return { securityHeaders: pageSecurityHeaders, rateLimits, requestShape, remix };
}

/** The request's absolute URL as Remix sees it (scheme and host behind a trusted proxy included), or null when malformed. */
function requestUrl(req: IncomingMessage, client: Client): URL | null {
  if (!req.url?.startsWith("/") || client.host === null) return null;
  try {
    const url = new URL(`${client.https ? "https" : "http"}://${client.host}${req.url}`);
    return url.host === client.host || url.host === client.host.replace(/:(80|443)$/, "") ? url : null;
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

async function sendResponse(res: ServerResponse, response: Response) {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.appendHeader(name, value);
  if (response.body) await writeReadableStreamToWritable(response.body, res);
  else res.end();
}
