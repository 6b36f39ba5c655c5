import { PassThrough } from "node:stream";
import type { EntryContext } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { RemixServer } from "@remix-run/react";
import { renderToPipeableStream } from "react-dom/server";
import { connection } from "./db.server";
import { env } from "./env.server";
import { startGeneration } from "./llm/runtime.server";
import { prepareAccounts } from "./services/startup.server";

// How long a streamed render may take before it is aborted (Single Fetch reads this export).
export const streamTimeout = 5_000;

// Waits for the whole document (onAllReady) for every client: pages are small and this keeps
// crawlers, tests and browsers on one code path.
export default function handleRequest(request: Request, responseStatusCode: number, responseHeaders: Headers, remixContext: EntryContext) {
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const { pipe, abort } = renderToPipeableStream(<RemixServer context={remixContext} url={request.url} />, {
      onAllReady() {
        shellRendered = true;
        const body = new PassThrough();
        responseHeaders.set("Content-Type", "text/html; charset=utf-8");
        resolve(new Response(createReadableStreamFromReadable(body), { headers: responseHeaders, status: responseStatusCode }));
        pipe(body);
      },
      onShellError(error: unknown) {
        reject(error);
      },
      onError(error: unknown) {
        responseStatusCode = 500;
        // Errors after the shell are already streaming; log them so they are not silent.
        if (shellRendered) console.error(error);
      },
    });
    setTimeout(abort, streamTimeout + 1_000);
  });
}

/**
 * Called once by server.js before it listens: validates the environment (throws a readable error
 * listing every bad variable), opens the database and applies migrations (seeding the demo study
 * on first start), opens the first-owner setup link while no account exists, then starts the
 * generation worker (app/llm). Returns what the HTTP server needs; it prints startupMessage.
 */
export function boot(): { port: number } {
  const config = env();
  connection();
  prepareAccounts();
  startGeneration();
  return { port: config.PORT };
}

// server.js answers /api/* with this before Express and Remix see the request (ADR 0007).
export { handleApiHttp, isApiPath } from "./api/node-http.server";
export { startupMessage } from "./services/startup.server";
