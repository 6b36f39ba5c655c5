// Uploaded bytes as text, checked the same way wherever they are read: in a request (readUploadForm)
// or on the job thread (the raw-log import), which is why this module imports nothing of Remix.

import { isUtf8 } from "node:buffer";

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * The checks of decodeTextUpload that cost next to nothing on a request thread (a NUL byte, UTF-8
 * validity: native scans, ~20 ms for 80 MB), for an upload whose decoding is left to a job: binary,
 * empty and non-UTF-8 files are refused at once and nothing is queued. Null when the bytes may be text.
 */
export function refuseNonText(bytes: Uint8Array): string | null {
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  const body = utf16 ? bytes.subarray(2) : UTF8_BOM.every((byte, i) => bytes[i] === byte) ? bytes.subarray(3) : bytes;
  if (body.length === 0) return "the file is empty";
  if (utf16) return null;
  if (body.indexOf(0) >= 0) {
    const decoded = decodeTextUpload(body.subarray(0, 4096));
    return "error" in decoded ? decoded.error : "this is a binary file, not text";
  }
  return isUtf8(body) ? null : "this is not valid UTF-8 text (a binary file, or text in another encoding); save it as UTF-8 and upload it again";
}

/**
 * An upload's bytes as text, or why they are not text. UTF-8 (a BOM is dropped); UTF-16 with a
 * byte-order mark is converted; anything else that is not valid UTF-8, or holds NUL bytes (binary
 * files, UTF-16 without a BOM), is refused with a message that says what to do instead.
 */
export function decodeTextUpload(bytes: Uint8Array): { text: string } | { error: string } {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return decodeStrict(bytes.subarray(2), "utf-16le", "UTF-16");
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return decodeStrict(bytes.subarray(2), "utf-16be", "UTF-16");
  const body = UTF8_BOM.every((byte, i) => bytes[i] === byte) ? bytes.subarray(3) : bytes;
  const nul = body.indexOf(0);
  if (nul >= 0) {
    let evenZeros = 0;
    let oddZeros = 0;
    const sample = Math.min(body.length, 4096);
    for (let i = 0; i < sample; i++) {
      if (body[i] !== 0) continue;
      if (i % 2 === 0) evenZeros++;
      else oddZeros++;
    }
    // Mostly-ASCII UTF-16 without a BOM: every other byte is zero.
    if (Math.max(evenZeros, oddZeros) > sample / 4 && Math.min(evenZeros, oddZeros) < sample / 50) {
      return { error: "this looks like UTF-16 text without a byte-order mark; save it as UTF-8 and upload it again" };
    }
    return { error: `this is a binary file, not text (a NUL byte at offset ${nul}); upload a CSV, JSONL or plain-text file` };
  }
  return decodeStrict(body, "utf-8", "UTF-8");
}

/** Control characters other than tab, line feed, vertical tab, form feed and carriage return. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTER = /[\x00-\x08\x0e-\x1f]/;

function hasControlCharacters(text: string): boolean {
  // A regular expression scans a large upload several times faster than a charCodeAt loop.
  return CONTROL_CHARACTER.test(text);
}

function decodeStrict(bytes: Uint8Array, encoding: string, name: string): { text: string } | { error: string } {
  try {
    const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
    if (hasControlCharacters(text))
      return { error: "the file holds control characters, so it is not plain text; upload a CSV, JSONL or plain-text file" };
    return { text };
  } catch {
    return {
      error:
        name === "UTF-8"
          ? "this is not valid UTF-8 text (a binary file, or text in another encoding); save it as UTF-8 and upload it again"
          : `this is not valid ${name} text`,
    };
  }
}
