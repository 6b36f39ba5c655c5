// A multipart/form-data body split into its parts with native byte searches (Buffer.indexOf), for
// uploads of tens of megabytes: the streaming JavaScript parsers held the request thread for seconds
// on a 73 MB raw log (bench:owner-ops, ADR 0036). The parts' bytes are views of the body, not copies.

export interface MultipartPart {
  name: string;
  /** The file name of a file input (possibly ""), null for a plain field. */
  fileName: string | null;
  data: Uint8Array;
}

/** The boundary of a multipart/form-data Content-Type, or null. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function headerParameter(disposition: string, key: string): string | null {
  const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(disposition);
  return match ? match[1]!.replace(/\\(.)/g, "$1").replace(/%22/g, '"') : null;
}

/**
 * The parts of `body` (RFC 7578), or null when it is not a well-formed multipart body with that
 * boundary: a missing delimiter, a part without a form-data Content-Disposition naming it, no closing
 * delimiter. Cost: O(body) in native searches plus O(headers) in JavaScript.
 */
export function splitMultipart(body: Uint8Array, boundary: string): MultipartPart[] | null {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`, "latin1");
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`, "latin1");
  let at = bytes.indexOf(delimiter);
  if (at !== 0 && (at < 0 || bytes.indexOf(nextDelimiter) !== at - 2)) return null;
  at += delimiter.length;
  const parts: MultipartPart[] = [];
  for (;;) {
    if (bytes[at] === 0x2d && bytes[at + 1] === 0x2d) return parts;
    if (bytes[at] !== 0x0d || bytes[at + 1] !== 0x0a) return null;
    const headersEnd = bytes.indexOf("\r\n\r\n", at + 2, "latin1");
    if (headersEnd < 0) return null;
    const headers = bytes.toString("utf8", at + 2, headersEnd).split("\r\n");
    const disposition = headers.find((line) => /^content-disposition:/i.test(line));
    if (!disposition || !/^content-disposition:\s*form-data\s*(;|$)/i.test(disposition)) return null;
    const name = headerParameter(disposition, "name");
    if (name === null) return null;
    const end = bytes.indexOf(nextDelimiter, headersEnd + 4);
    if (end < 0) return null;
    parts.push({ name, fileName: headerParameter(disposition, "filename"), data: body.subarray(headersEnd + 4, end) });
    at = end + nextDelimiter.length;
  }
}
