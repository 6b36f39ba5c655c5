import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useFetchers, useNavigation, useRevalidator, useRouteLoaderData } from "@remix-run/react";
import { useEffect, type ReactNode } from "react";
import { viewerOf } from "./auth/viewer.server";
import { GeneralErrorBoundary } from "./components/error-boundary";
import { useNonce } from "./utils/nonce";
import { SiteHeader } from "./components/site-header";
import stylesheet from "./styles.css";

export const links: LinksFunction = () => [
  { rel: "stylesheet", href: stylesheet },
  { rel: "icon", href: "/favicon.svg", type: "image/svg+xml" },
];

export const meta: MetaFunction = () => [{ title: "promptduel" }];

// Only who is signed in, for the header; every route authorises its own data.
export async function loader({ request }: LoaderFunctionArgs) {
  return { viewer: await viewerOf(request) };
}

/**
 * Marks on <html> what state the document is in: attributes that change nothing for people and let the browser tests
 * wait for a state rather than a time (tests/helpers/page-state.ts). Both are set in effects of this outermost
 * component, which run after every route's own effects. `data-hydrated`: React has hydrated the document, so hotkeys
 * listen and forms submit without a reload. `data-router-state`: "busy" while a navigation, a revalidation or a fetcher
 * is under way, "idle" once the data that ended it is rendered (absent before hydration).
 */
function useDocumentStateMarks(): void {
  const navigation = useNavigation();
  const revalidator = useRevalidator();
  const fetchers = useFetchers();
  const idle = navigation.state === "idle" && revalidator.state === "idle" && fetchers.every((fetcher) => fetcher.state === "idle");
  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);
  useEffect(() => {
    document.documentElement.dataset.routerState = idle ? "idle" : "busy";
  }, [idle]);
}

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
  useDocumentStateMarks();
  // Undefined while the root loader itself failed (its error boundary renders in this layout).
  const viewer = useRouteLoaderData<typeof loader>("root")?.viewer ?? null;
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <SiteHeader viewer={viewer} />
        <main className="site-main">{children}</main>
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />;
}
