/**
 * The route path a Remix request addresses: Single Fetch asks for a route's data at `<path>.data`
 * (and `/_root.data` for `/`), and Remix strips the suffix before matching; method, body and
 * rate-limit checks must see the same path, or `/join.data` would slip past a rule on `/join`.
 */
export function remixPathname(pathname: string): string {
  if (pathname === "/_root.data") return "/";
  return pathname.endsWith(".data") ? pathname.slice(0, -".data".length) : pathname;
}
