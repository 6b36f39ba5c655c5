import { Form, Link } from "@remix-run/react";

/** Who the layout shows as signed in (root loader): never more than a name. */
export type Viewer = { kind: "user"; displayName: string; email: string } | { kind: "annotator"; displayName: string } | null;

/**
 * The header on every page. Annotators get their name and Sign out, and the brand link leads to the
 * list of studies they joined: no owner page is linked for them.
 */
export function SiteHeader({ viewer }: { viewer: Viewer }) {
  return (
    <header className="site-header">
      <Link to="/" className="brand">
        promptduel
      </Link>
      {viewer ? (
        <nav className="site-nav" aria-label="Account">
          {viewer.kind === "user" ? (
            <Link to="/account" title={viewer.email}>
              {viewer.displayName}
            </Link>
          ) : (
            <span>
              Annotating as <strong>{viewer.displayName}</strong>
            </span>
          )}
          <Form method="post" action="/logout">
            <button type="submit" className="link-button">
              Sign out
            </button>
          </Form>
        </nav>
      ) : null}
    </header>
  );
}
