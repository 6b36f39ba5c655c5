/** Methods that never change state here; every other method must come from our own pages or from a non-browser client. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD"]);

export interface CrossSiteHeaders {
  secFetchSite: string | undefined;
  origin: string | undefined;
}

/**
 * Why a state-changing request must be refused as cross-site, or null when it may go on. The same
 * decision as Go's net/http CrossOriginProtection (after F. Valsorda, "Cross-Site Request Forgery",
 * 2025), whatever the URL (`?_data`, `.data`, /api):
 *
 * 1. Sec-Fetch-Site, set by every current browser and never by a page's script: only `same-origin`
 *    (our own pages) and `none` (the user's own navigation) pass. `same-site` is refused too: a page
 *    on another port of the same host, or on a sibling subdomain, is someone else's origin.
 * 2. Without it (older browsers), Origin must name the host the request was sent to (`expectedHost`,
 *    the Host header or, behind a trusted proxy, X-Forwarded-Host). `Origin: null` is refused.
 * 3. With neither header the client is not a browser (curl, scripts, the test and benchmark clients):
 *    no ambient cookie of a victim can ride on it, so it passes.
 */
export function crossSiteRefusal(method: string, headers: CrossSiteHeaders, expectedHost: string | null): string | null {
  if (SAFE_METHODS.has(method)) return null;
  const site = headers.secFetchSite?.trim().toLowerCase();
  if (site !== undefined && site !== "") {
    if (site === "same-origin" || site === "none") return null;
    return `Cross-site request refused: this ${method} came from another site (Sec-Fetch-Site: ${site}). Submit it from promptduel's own pages.`;
  }
  const origin = headers.origin?.trim();
  if (origin === undefined || origin === "") return null;
  if (expectedHost !== null && originHost(origin) === expectedHost) return null;
  return `Cross-site request refused: this ${method} came from ${origin === "null" ? "an opaque origin" : origin}, not from ${expectedHost ?? "this server"}. Submit it from promptduel's own pages.`;
}

function originHost(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.host : null;
  } catch {
    return null;
  }
}
