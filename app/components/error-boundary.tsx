import { isRouteErrorResponse, useRouteError } from "@remix-run/react";

/**
 * The one error boundary every route uses: thrown Responses (404, 403, 400) show their status and
 * message; anything else is an unexpected error and shows a generic message (details stay in the log).
 */
export function GeneralErrorBoundary() {
  const error = useRouteError();
  if (isRouteErrorResponse(error)) {
    const message = typeof error.data === "string" ? error.data : (error.data?.message ?? error.statusText);
    return (
      <section className="error-panel" role="alert">
        <h1>
          {error.status} {error.statusText}
        </h1>
        <p>{message}</p>
      </section>
    );
  }
  return (
    <section className="error-panel" role="alert">
      <h1>Something went wrong</h1>
      <p>An unexpected error occurred. Try again; if it persists, check the server log.</p>
    </section>
  );
}
