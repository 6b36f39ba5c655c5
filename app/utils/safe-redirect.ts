const DEFAULT_REDIRECT = "/";

/**
 * Returns `to` when it is a same-origin path, otherwise the default: open redirects through
 * `?redirectTo=https://evil.example` or `//evil.example` are refused.
 */
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback: string = DEFAULT_REDIRECT): string {
  if (!to || typeof to !== "string") return fallback;
  if (!to.startsWith("/") || to.startsWith("//") || to.startsWith("/\\")) return fallback;
  return to;
}
