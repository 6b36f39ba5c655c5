import crypto from "node:crypto";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import helmet, { type HelmetOptions } from "helmet";

const nonces = new WeakMap<ServerResponse, string>();

/** The CSP nonce of this response (set by pageSecurityHeaders): Remix's inline scripts carry it. */
export function cspNonceOf(res: ServerResponse): string {
  let nonce = nonces.get(res);
  if (nonce === undefined) {
    nonce = crypto.randomBytes(16).toString("base64");
    nonces.set(res, nonce);
  }
  return nonce;
}

// Helmet's defaults, changed where they do not fit: Referrer-Policy same-origin (no-referrer would make
// browsers send `Origin: null` on our own form posts, which the cross-site check must then refuse),
// frames refused outright, HSTS without includeSubDomains (it would bind every subdomain of a host
// we do not own; browsers ignore HSTS over plain http, so LAN setups are unaffected).
const common: HelmetOptions = {
  referrerPolicy: { policy: "same-origin" },
  xFrameOptions: { action: "deny" },
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
};

/**
 * Headers of every page, data and asset response (Express): a CSP that runs only our own scripts
 * (from /build, plus Remix's inline scripts, which carry this response's nonce) and our own styles,
 * images from us or data: URLs (so a markdown image in a response cannot fetch a tracking pixel),
 * connections to us, no plugins, no <base>, forms only to us, never in a frame. No
 * upgrade-insecure-requests: a plain-http LAN setup would lose its scripts.
 */
export const pageSecurityHeaders: (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void = helmet({
  ...common,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      "default-src": ["'self'"],
      "script-src": ["'self'", (_req, res) => `'nonce-${cspNonceOf(res)}'`],
      "script-src-attr": ["'none'"],
      "style-src": ["'self'"],
      "img-src": ["'self'", "data:"],
      "font-src": ["'self'"],
      "connect-src": ["'self'"],
      "object-src": ["'none'"],
      "base-uri": ["'none'"],
      "form-action": ["'self'"],
      "frame-ancestors": ["'none'"],
    },
  },
});

/**
 * Headers of every JSON API answer: nothing in it may run or be framed. The same for every answer,
 * so helmet computes them once here and the fast path writes them with its own (writeHead), instead
 * of running helmet's middleware chain per request.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: { "default-src": ["'none'"], "frame-ancestors": ["'none'"] } } })(
    res.req,
    res,
    () => undefined,
  );
  return Object.freeze(Object.fromEntries(Object.entries(res.getHeaders()).map(([name, value]) => [name, String(value)])));
})();
