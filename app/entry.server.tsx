import { PassThrough } from "node:stream";
import type { ActionFunctionArgs, AppLoadContext, EntryContext, LoaderFunctionArgs } from "@remix-run/node";
import { createReadableStreamFromReadable } from "@remix-run/node";
import { isRouteErrorResponse, RemixServer } from "@remix-run/react";
import { renderToPipeableStream } from "react-dom/server";
import { connection } from "./db.server";
import { env, lockEnv } from "./env.server";
import { startJobs } from "./jobs/runner.server";
import { startGeneration } from "./llm/runtime.server";
import { NonceProvider } from "./utils/nonce";
import { prepareAccounts } from "./services/startup.server";

// How long a streamed render may take before it is aborted (Single Fetch reads this export).
export const streamTimeout = 5_000;

// Waits for the whole document (onAllReady) for every client: pages are small and this keeps
// crawlers, tests and browsers on one code path. The CSP nonce (loadContext.cspNonce, set by the
// server's security headers) goes on every inline script React and Remix write.
export default function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
  loadContext: AppLoadContext,
) {
  const nonce = typeof loadContext.cspNonce === "string" ? loadContext.cspNonce : "";
  return new Promise<Response>((resolve, reject) => {
    let shellRendered = false;
    const document = (
      <NonceProvider value={nonce}>
        <RemixServer context={remixContext} url={request.url} nonce={nonce} />
      </NonceProvider>
    );
    const { pipe, abort } = renderToPipeableStream(document, {
      nonce,
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
 * on first start), opens the first-owner setup link while no account exists, then starts the
 * generation worker (app/llm) and the job queue (app/jobs), which takes up any job a crash
 * interrupted. Returns what the HTTP server needs; it prints startupMessage.
 */
export function boot(): { port: number } {
  lockEnv();
  const config = env();
  connection();
  prepareAccounts();
  startGeneration();
  startJobs().catch((error: unknown) => console.error("the job queue did not start:", error));
  return { port: config.PORT };
}

// server.js answers /api/* with this before Express and Remix see the request (ADR 0007), and puts
// these transport checks in front of Remix (app/http, ADR 0012).
export { handleApiHttp, isApiPath } from "./api/node-http.server";
export { createHttpGuards } from "./http/express-guards.server";
export { startupMessage } from "./services/startup.server";
