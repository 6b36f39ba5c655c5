import { parse } from "content-type";

/**
 * The media type of a Content-Type header, lower case without parameters ("application/json" for
 * "application/json; charset=utf-8"), or null when the header is absent or malformed. Parsed by the
 * RFC 7231 grammar, so "text/plain; a=application/json" is text/plain, never JSON.
 */
export function mediaTypeOf(header: string | null | undefined): string | null {
  if (!header) return null;
  try {
    return parse(header).type;
  } catch {
    return null;
  }
}

export const FORM_MEDIA_TYPES: ReadonlySet<string> = new Set(["application/x-www-form-urlencoded", "multipart/form-data"]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as UTF-8 text, or null when they are not valid UTF-8 (the JSON API and urlencoded forms must be). */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Whether an application/x-www-form-urlencoded body is what a browser sends: UTF-8, every %-escape
 * complete and decoding to UTF-8. The form parser would otherwise turn such bytes into U+FFFD
 * replacement characters silently, and a display name of "\uFFFD\uFFFD" would be stored.
 */
export function isWellFormedUrlencoded(bytes: Uint8Array): boolean {
  const text = decodeUtf8(bytes);
  if (text === null) return false;
  try {
    for (const pair of text.split("&")) for (const part of pair.split("=")) decodeURIComponent(part.replaceAll("+", " "));
    return true;
  } catch {
    return false;
  }
}
