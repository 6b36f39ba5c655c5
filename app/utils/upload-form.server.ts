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
  for (const [name, value] of formData.entries()) {
    if (typeof value === "string") fields[name] = value;
    else if (value.size > 0 || value.name !== "") fields[name] = { name: value.name, content: await value.text() };
  }
  return { fields };
}
