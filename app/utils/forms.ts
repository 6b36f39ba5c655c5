import { z } from "zod";

export const JoinFormSchema = z.object({
  displayName: z
    .string({ error: "Enter a display name" })
    .trim()
    .min(1, "Enter a display name")
    .max(60, "Display name must be at most 60 characters"),
  redirectTo: z.string().optional(),
});

export const StudyIdParamSchema = z.coerce.number().int().positive();
