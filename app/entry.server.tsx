import { PassThrough } from "node:stream";
import type { ActionFunctionArgs, EntryContext, LoaderFunctionArgs } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { renderToPipeableStream } from "react-dom/server";
import { connection } from "./db.server";
import { env } from "./env.server";
import { startJobs } from "./jobs/runner.server";
import { startGeneration } from "./llm/runtime.server";

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
 * Logs what the server did not expect. A page that does not exist (404, including the browser's
 * /favicon.ico probe), a 4xx thrown on purpose, or a request the client gave up on are normal
 * traffic, not errors: Remix's default handler logged each with a stack trace.
 */
export function handleError(error: unknown, { request }: LoaderFunctionArgs | ActionFunctionArgs) {
  if (request.signal.aborted) return;
  if (isRouteErrorResponse(error) && error.status < 500) return;
  console.error(error);
}

/**
 * Called once by server.js before it listens: validates the environment (throws a readable error
 * listing every bad variable), opens the database and applies migrations (seeding the demo study
 * on first start), then starts the generation worker (app/llm) and the job queue (app/jobs), which
 * takes up any job a crash interrupted. Returns what the HTTP server needs.
 */
export function boot(): { port: number } {
  const config = env();
  connection();
  startGeneration();
  startJobs().catch((error: unknown) => console.error("the job queue did not start:", error));
  return { port: config.PORT };
}

// server.js builds each request's Remix load context with this (a streamed download waits for its client).
export { loadContext } from "./utils/response-flow.server";

// server.js answers /api/* with this before Express and Remix see the request (ADR 0007).
export { handleApiHttp, isApiPath } from "./api/node-http.server";
