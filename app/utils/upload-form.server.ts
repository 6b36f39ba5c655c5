import { MaxPartSizeExceededError, unstable_createMemoryUploadHandler, unstable_parseMultipartFormData } from "@remix-run/node";
import { z } from "zod";

export const UploadSchema = z.object({ name: z.string(), content: z.string() });
export type Upload = z.infer<typeof UploadSchema>;

/**
 * The fields of a (possibly multipart) form, uploads read into memory as text. An empty file input
 * counts as absent. The size cap applies while the body is read, so an oversized upload is refused
 * before it fills memory: the result is then a field error on the upload instead of the fields. A
 * body that does not parse gives a form-level error (key "form"), never an exception.
 */
export async function readUploadForm(
  request: Request,
  maxUploadBytes: number,
): Promise<{ fields: Record<string, string | Upload> } | { errors: Record<string, string[]> }> {
  let formData: FormData;
  try {
    formData = (request.headers.get("content-type") ?? "").startsWith("multipart/form-data")
      ? await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: maxUploadBytes }))
      : await request.formData();
  } catch (error) {
    if (error instanceof MaxPartSizeExceededError) {
      return { errors: { [error.field]: [`The file is larger than ${maxUploadBytes / 1_000_000} MB.`] } };
    }
    // The server has already checked that the body parses (app/http); a parser that still disagrees
    // is a malformed body all the same, the client's error.
    return { errors: { form: ["The form could not be read; send it again from the page."] } };
  }
  const fields: Record<string, string | Upload> = {};
  const errors: Record<string, string[]> = {};
  for (const [name, value] of formData.entries()) {
    if (typeof value === "string") fields[name] = value;
    else if (value.size > 0 || value.name !== "") {
      const decoded = decodeTextUpload(new Uint8Array(await value.arrayBuffer()));
      if ("error" in decoded) errors[name] = [`${value.name || "The file"}: ${decoded.error}. Nothing was added.`];
      else fields[name] = { name: value.name, content: decoded.text };
    }
  }
  return Object.keys(errors).length > 0 ? { errors } : { fields };
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

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
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && (code < 0x09 || code > 0x0d)) return true;
  }
  return false;
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
