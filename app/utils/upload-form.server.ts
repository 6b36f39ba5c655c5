import { z } from "zod";
import { multipartBoundary, splitMultipart } from "./multipart.server";
import type { FormErrors } from "./form-errors";
import { decodeTextUpload, refuseNonText } from "./text-upload.server";

export const UploadSchema = z.object({ name: z.string(), content: z.string() });
export type Upload = z.infer<typeof UploadSchema>;
/** An upload kept as the bytes that came in, for a job to decode (decodeTextUpload) off the request thread. */
export interface RawUpload {
  name: string;
  bytes: Uint8Array;
}

/**
 * The fields of a (possibly multipart) form, uploads read into memory as text. An empty file input
 * counts as absent. The server caps the whole body before the route runs (app/http, 413); a file
 * above `maxUploadBytes` is a field error on the upload instead of the fields. A body that does not
 * parse gives a form-level error, never an exception; either answers the form error shape (form-errors.ts).
 *
 * The files named in `rawFiles` are not decoded here but returned as their bytes (`raw`): decoding
 * and checking a 100 MB upload holds the request thread for seconds, so a job that reads the file
 * anyway (the raw-log import) does it on its own thread.
 */
export async function readUploadForm(
  request: Request,
  maxUploadBytes: number,
  options: { rawFiles?: readonly string[] } = {},
): Promise<{ fields: Record<string, string | Upload>; raw: Record<string, RawUpload> } | { errors: FormErrors }> {
  // Multipart bodies are split with native byte searches (multipart.server.ts): a streaming parser
  // held the request thread ~200 ms for a 1.9 MB upload at load 8, seconds for a 73 MB one (ADR 0036).
  const boundary = multipartBoundary(request.headers.get("content-type"));
  if (boundary !== null) return readMultipartForm(new Uint8Array(await request.arrayBuffer()), boundary, maxUploadBytes, options.rawFiles ?? []);
  let formData: FormData;
  try {
    formData = await request.formData();
  } catch {
    // The server has already checked that the body parses (app/http); a parser that still disagrees
    // is a malformed body all the same, the client's error.
    return { errors: { formErrors: ["The form could not be read; send it again from the page."], fieldErrors: {} } };
  }
  const fields: Record<string, string | Upload> = {};
  const raw: Record<string, RawUpload> = {};
  const errors: Record<string, string[]> = {};
  for (const [name, value] of formData.entries()) {
    if (typeof value === "string") fields[name] = value;
    else if (options.rawFiles?.includes(name)) {
      if (value.size > 0 || value.name !== "") {
        const bytes = new Uint8Array(await value.arrayBuffer());
        const refused = refuseNonText(bytes);
        if (refused) errors[name] = [`${value.name || "The file"}: ${refused}. Nothing was added.`];
        else raw[name] = { name: value.name, bytes };
      }
    } else if (value.size > 0 || value.name !== "") {
      const decoded = decodeTextUpload(new Uint8Array(await value.arrayBuffer()));
      if ("error" in decoded) errors[name] = [`${value.name || "The file"}: ${decoded.error}. Nothing was added.`];
      else fields[name] = { name: value.name, content: decoded.text };
    }
  }
  return Object.keys(errors).length > 0 ? { errors: { formErrors: [], fieldErrors: errors } } : { fields, raw };
}

/**
 * readUploadForm for a multipart body: split with native byte searches (splitMultipart) instead of a
 * streaming parser, raw files kept as views of the body and checked by refuseNonText's native scans
 * only; the same fields, errors and size cap.
 */
function readMultipartForm(
  body: Uint8Array,
  boundary: string,
  maxUploadBytes: number,
  rawFiles: readonly string[],
): { fields: Record<string, string | Upload>; raw: Record<string, RawUpload> } | { errors: FormErrors } {
  const parts = splitMultipart(body, boundary);
  if (!parts) return { errors: { formErrors: ["The form could not be read; send it again from the page."], fieldErrors: {} } };
  const fields: Record<string, string | Upload> = {};
  const raw: Record<string, RawUpload> = {};
  const errors: Record<string, string[]> = {};
  for (const part of parts) {
    if (part.fileName === null) {
      fields[part.name] = Buffer.from(part.data.buffer, part.data.byteOffset, part.data.byteLength).toString("utf8");
      continue;
    }
    if (part.data.length === 0 && part.fileName === "") continue;
    if (part.data.length > maxUploadBytes) {
      errors[part.name] = [`The file is larger than ${maxUploadBytes / 1_000_000} MB.`];
    } else if (rawFiles.includes(part.name)) {
      const refused = refuseNonText(part.data);
      if (refused) errors[part.name] = [`${part.fileName || "The file"}: ${refused}. Nothing was added.`];
      else raw[part.name] = { name: part.fileName, bytes: part.data };
    } else {
      const decoded = decodeTextUpload(part.data);
      if ("error" in decoded) errors[part.name] = [`${part.fileName || "The file"}: ${decoded.error}. Nothing was added.`];
      else fields[part.name] = { name: part.fileName, content: decoded.text };
    }
  }
  return Object.keys(errors).length > 0 ? { errors: { formErrors: [], fieldErrors: errors } } : { fields, raw };
}
