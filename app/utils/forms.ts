import { z } from "zod";
import { DISPLAY_NAME_MAX } from "~/models/vote-limits";
import { decimalId } from "./strict-fields";

export const JoinFormSchema = z.object({
  displayName: z
    .string({ error: "Enter a display name" })
    .trim()
    .min(1, "Enter a display name")
    .max(DISPLAY_NAME_MAX, `Display name must be at most ${DISPLAY_NAME_MAX} characters`),
  redirectTo: z.string().optional(),
});

/** A study id in a URL: plain decimal digits ("0x1", "1e0", "+1" and "01" name no study). */
export const StudyIdParamSchema = decimalId("Study not found");
