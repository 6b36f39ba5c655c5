import type { ServerBuild } from "@remix-run/node";
import { matchRoutes } from "@remix-run/react";
import { remixPathname } from "./remix-path";
import { FORM_BODY_BYTES, type HttpRouteHandle } from "./route-handle";

/** What the route a request addresses accepts, derived from the built route modules (never a hand-kept list). */
export interface RoutePolicy {
  routeId: string;
  /** GET and HEAD when the route renders or has a loader, POST when it has an action. */
  allow: readonly string[];
  maxBodyBytes: number;
}

type ServerRoute = ServerBuild["routes"][string];
type RouteObject = Parameters<typeof matchRoutes>[0][number];

/**
 * Builds the lookup once per build: `policyFor(pathname, search)` gives the policy of the route whose
 * action or loader Remix would run for that URL, or null when no route matches. It follows Remix's
 * own choice (react-router's getTargetMatch): the deepest route that contributes a path segment,
 * or the leaf index route when the URL carries a bare `?index`; a resource route answers for itself;
 * Single Fetch `.data` URLs address the route of the path without the suffix.
 */
export function createRoutePolicy(routes: ServerBuild["routes"]): (pathname: string, search: string) => RoutePolicy | null {
  const byParent = new Map<string, ServerRoute[]>();
  for (const route of Object.values(routes)) {
    const siblings = byParent.get(route.parentId ?? "") ?? [];
    siblings.push(route);
    byParent.set(route.parentId ?? "", siblings);
  }
  const tree = (parentId: string): RouteObject[] =>
    (byParent.get(parentId) ?? []).map((route) =>
      route.index
        ? { id: route.id, path: route.path, index: true, caseSensitive: route.caseSensitive }
        : { id: route.id, path: route.path, caseSensitive: route.caseSensitive, children: tree(route.id) },
    );
  const routeTree = tree("");

  const policies = new Map<string, RoutePolicy>();
  for (const route of Object.values(routes)) {
    const module = route.module as ServerRoute["module"] & { handle?: HttpRouteHandle };
    const allow = [...(module.loader || module.default ? ["GET", "HEAD"] : []), ...(module.action ? ["POST"] : [])];
    policies.set(route.id, { routeId: route.id, allow, maxBodyBytes: module.handle?.maxBodyBytes ?? FORM_BODY_BYTES });
  }

  return (pathname, search) => {
    const matches = matchRoutes(routeTree, remixPathname(pathname));
    if (!matches || matches.length === 0) return null;
    const leaf = matches[matches.length - 1]!;
    // A resource route (no component, no error boundary) answers for itself (server-runtime handleResourceRequest).
    const leafModule = routes[leaf.route.id!]!.module;
    if (!pathname.endsWith(".data") && !leafModule.default && !leafModule.ErrorBoundary) return policies.get(leaf.route.id!)!;
    const nakedIndex = new URLSearchParams(search).getAll("index").some((value) => value === "");
    const target =
      leaf.route.index && nakedIndex ? leaf : matches.filter((match, index) => index === 0 || (match.route.path ?? "").length > 0).at(-1)!;
    return policies.get(target.route.id!)!;
  };
}
