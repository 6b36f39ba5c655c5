import { z } from "zod";
import { DisplayNameSchema } from "~/auth/display-name";

/** The join form of an annotator invite link (and POST /api/session). */
export const JoinFormSchema = z.object({ displayName: DisplayNameSchema });

// Digits only: "1e3" or " 7" name no study (z.coerce would read them as numbers).
export const StudyIdParamSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));
