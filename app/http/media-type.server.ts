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
