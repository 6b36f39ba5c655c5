import type { IncomingMessage, ServerResponse } from "node:http";
import { requestIsHttps } from "~/auth/request-security.server";
import { handleApiRequest, type ApiResponse } from "./annotator-api.server";

// Votes carry at most a 2,000-character comment; anything this large is not a client of ours.
const MAX_BODY_BYTES = 64 * 1024;

/** True for the paths server.js hands to handleApiHttp instead of Express and Remix. */
export function isApiPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith("/api/");
}

/**
 * Node's request/response → the annotator API (annotator-api.server.ts): reads the body up to
 * MAX_BODY_BYTES, answers JSON in one write. An unexpected error is logged and answered 500.
 */
export function handleApiHttp(req: IncomingMessage, res: ServerResponse): void {
  void readBody(req)
    .then((body) =>
      body === null
        ? { status: 413, body: { error: `The request body is larger than ${MAX_BODY_BYTES} bytes` } }
        : handleApiRequest({
            method: req.method ?? "GET",
            pathname: new URL(req.url ?? "/", "http://localhost").pathname,
            cookie: req.headers.cookie ?? null,
            authorization: req.headers.authorization ?? null,
            contentType: req.headers["content-type"] ?? null,
            body,
            secure: requestIsHttps({ url: `http://localhost${req.url ?? "/"}`, forwardedProto: headerValue(req.headers["x-forwarded-proto"]) }),
          }),
    )
    .catch((error: unknown) => {
      console.error("API request failed:", error);
      return { status: 500, body: { error: "Internal server error" } } satisfies ApiResponse;
    })
    .then((response) => send(res, response));
}

/** The body as UTF-8, or null when it passes MAX_BODY_BYTES (the rest is read and dropped, never kept). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

function send(res: ServerResponse, response: ApiResponse) {
  const payload = JSON.stringify(response.body);
  res.writeHead(response.status, {
    ...response.headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(payload),
    "Cache-Control": "no-store",
  });
  res.end(payload);
}
