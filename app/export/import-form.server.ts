import { z } from "zod";

/** The whole log is held in memory so every line is checked before anything is written; this bounds it. */
export const MAX_IMPORT_BYTES = 50 * 1024 * 1024;

export const ImportFormSchema = z.object({
  log: z
    .instanceof(File, { error: "Choose a raw log file (.jsonl) to import" })
    .refine((file) => file.size > 0, "The chosen file is empty")
    .refine((file) => file.size <= MAX_IMPORT_BYTES, `The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB`),
});
