import type { ServerResponse } from "node:http";
import type { ResponseFlow } from "~/export/stream.server";

/**
 * The Remix load context server.js builds for each request: `responseFlow` lets a streamed body wait
 * for the client to take what was already written (issue 14: Express's Remix adapter writes without
 * waiting for 'drain', so a client that never reads made the server buffer the whole file).
 */
export function loadContext(response: ServerResponse): { responseFlow: ResponseFlow } {
  return {
    responseFlow: {
      drained: () =>
        !response.writableNeedDrain || response.destroyed
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const done = () => {
                response.off("drain", done);
                response.off("close", done);
                resolve();
              };
              response.on("drain", done);
              response.on("close", done);
            }),
    },
  };
}

declare module "@remix-run/node" {
  interface AppLoadContext {
    /** Set by server.js; absent when a loader is called directly (tests). */
    responseFlow?: ResponseFlow;
  }
}
