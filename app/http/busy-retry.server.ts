import type { ServerBuild } from "@remix-run/node";
import { retryWhenBusy } from "../../db/busy";

// Every route's loader and action run again, after an asynchronous pause, when a write meets the job
// thread's lock for longer than the request connection waits (SQLITE_BUSY; db/busy.ts, ADR 0036),
// instead of answering 500 "database is locked". A transaction that fails so did nothing: it begins
// IMMEDIATE, and SQLITE_BUSY comes at BEGIN.

/** Bodies up to this size are copied for a retry; a larger upload runs once (createJob retries its own write). */
export const RETRY_BODY_MAX_BYTES = 1_000_000;

type DataFunction = (args: { request: Request }) => unknown;

function retrying<F extends DataFunction>(run: F): F {
  const wrapped = (args: Parameters<F>[0]) => {
    const { request } = args;
    if (request.body !== null) {
      const length = Number(request.headers.get("content-length"));
      if (!(length > 0 && length <= RETRY_BODY_MAX_BYTES)) return run(args);
      // Each attempt reads a copy of the body, so the next one still has it.
      return retryWhenBusy(() => run({ ...args, request: request.clone() }));
    }
    return retryWhenBusy(() => run(args));
  };
  return wrapped as F;
}

/** The build with every route's loader and action retried on SQLITE_BUSY. */
export function withBusyRetry(build: ServerBuild): ServerBuild {
  const routes = Object.fromEntries(
    Object.entries(build.routes).map(([id, route]) => {
      const { loader, action } = route.module as { loader?: DataFunction; action?: DataFunction };
      return [
        id,
        { ...route, module: { ...route.module, ...(loader ? { loader: retrying(loader) } : {}), ...(action ? { action: retrying(action) } : {}) } },
      ];
    }),
  );
  return { ...build, routes } as ServerBuild;
}
