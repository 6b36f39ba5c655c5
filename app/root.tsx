import type { LinksFunction, LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteLoaderData } from "@remix-run/react";
import type { ReactNode } from "react";
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

export function Layout({ children }: { children: ReactNode }) {
  const nonce = useNonce();
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
