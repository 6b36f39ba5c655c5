const DEFAULT_REDIRECT = "/";
const MAX_REDIRECT_LENGTH = 2048;
const BASE = "http://promptduel.invalid";
// eslint-disable-next-line no-control-regex -- control characters (C0, DEL, C1) and backslashes are exactly what is refused
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\]/;

/**
 * Returns `to` when it is a path on this site, otherwise `fallback`; never throws. What it returns is
 * always safe as a Location header: plain ASCII, no control characters.
 *
 * Browsers parse a Location by the WHATWG URL rules: they drop tabs and line breaks and read `\` as
 * `/`, so `/\t/evil.example` or `/\evil.example` lands on evil.example. Rather than list tricks:
 * neither `to` nor any percent-decoding of it (`/%09/evil.example`, `/%2F/evil.example`, in case some
 * hop decodes it once more) may contain a control character or a backslash or begin with `//`; and
 * the browser's own parser (URL) must resolve it on our origin to a path that does not begin with
 * `//` either (as `/.//evil.example` would). The result is the path as that parser serialises it, so
 * non-ASCII characters come back percent-encoded instead of breaking the header.
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback: string = DEFAULT_REDIRECT): string {
  if (typeof to !== "string" || to.length === 0 || to.length > MAX_REDIRECT_LENGTH) return fallback;
  if (!decodedFormsAreSafe(to)) return fallback;
  let url: URL;
  try {
    url = new URL(to, BASE);
  } catch {
    return fallback;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (url.origin !== BASE || !isPlainPath(path)) return fallback;
  return path;
}

function isPlainPath(path: string): boolean {
  return path.startsWith("/") && !path.startsWith("//") && !FORBIDDEN.test(path);
}

/** `to` and up to three successive percent-decodings of it are plain paths; a malformed escape counts as unsafe. */
function decodedFormsAreSafe(to: string): boolean {
  let form = to;
  for (let round = 0; round < 4; round++) {
    if (!isPlainPath(form)) return false;
    if (!form.includes("%")) return true;
    try {
      form = decodeURIComponent(form);
    } catch {
      return false;
    }
  }
  return true;
}
