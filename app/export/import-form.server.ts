import { z } from "zod";
import { IMPORT_LOG_FILE_BYTES } from "~/http/route-handle";
import type { RawUpload } from "~/utils/upload-form.server";

/**
 * The whole log is held in memory so every line is checked before anything is written; this bounds
 * it (enforced while the upload is read, see readUploadForm; the whole body is capped by the server).
 */
export const MAX_IMPORT_BYTES = IMPORT_LOG_FILE_BYTES;

/** The import form: the log's bytes as uploaded; the job decodes and checks them (readUploadForm's rawFiles). */
export const ImportFormSchema = z.object({
  log: z
    .custom<RawUpload>(
      (value) => typeof value === "object" && value !== null && "bytes" in value && value.bytes instanceof Uint8Array,
      "Choose a raw log file (.jsonl) to import",
    )
    .refine((file) => file.bytes.length > 0, "The chosen file is empty"),
});
