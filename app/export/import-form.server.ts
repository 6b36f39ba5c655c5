import { z } from "zod";
import { IMPORT_LOG_FILE_BYTES } from "~/http/route-handle";
import { UploadSchema, type Upload } from "~/utils/upload-form.server";

/**
 * The whole log is held in memory so every line is checked before anything is written; this bounds
 * it (enforced while the upload is read, see readUploadForm; the whole body is capped by the server).
 */
export const MAX_IMPORT_BYTES = IMPORT_LOG_FILE_BYTES;

export const ImportFormSchema = z.object({
  log: z
    .custom<Upload>((value) => UploadSchema.safeParse(value).success, "Choose a raw log file (.jsonl) to import")
    .refine((file) => file.content.length > 0, "The chosen file is empty"),
});
