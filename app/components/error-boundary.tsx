import { isRouteErrorResponse, Link, useLocation, useRouteError } from "@remix-run/react";

/**
 * The one error boundary every route uses: a page that does not exist says so with a way home;
 * other thrown Responses (404 of a record, 403, 400) show their status and message; anything else
 * is an unexpected error and shows a generic message (details stay in the log).
 */
export function GeneralErrorBoundary() {
  const error = useRouteError();
  const location = useLocation();
  if (isRouteErrorResponse(error)) {
    const raw = typeof error.data === "string" ? error.data : (error.data?.message ?? error.statusText);
    // Remix's own text for an unmatched URL ("Error: No route matches URL ...") is for developers.
    const noSuchPage = error.status === 404 && /No route matches URL/.test(String(raw));
    return (
      <section className="error-panel" role="alert">
        <h1>{noSuchPage ? "Page not found" : `${error.status} ${error.statusText}`}</h1>
        <p>{noSuchPage ? `There is no page at ${location.pathname}.` : raw}</p>
        {error.status === 404 ? (
          <p>
            <Link to="/">Go to the studies list</Link>
          </p>
        ) : null}
      </section>
    );
  }
  return (
    <section className="error-panel" role="alert">
      <h1>Something went wrong</h1>
      <p>An unexpected error occurred. Try again; if it persists, check the server log.</p>
      <p>
        <Link to="/">Go to the studies list</Link>
      </p>
    </section>
  );
}
