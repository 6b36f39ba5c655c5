import { z } from "zod";
import { STUDY_ROLES, TOKEN_SCOPES } from "../../db/schema";

// The forms of a study's access pages: annotator links, members, API tokens, deletion.

const id = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int()
    .positive();
const optionalDays = z.preprocess(
  (value) => (value === "" || value === undefined ? null : value),
  z.coerce
    .number({ error: "Enter a number of days" })
    .int("Enter a whole number of days")
    .min(1, "At least 1 day")
    .max(365, "At most 365 days")
    .nullable(),
);
const optionalLabel = z.preprocess(
  (value) => (typeof value === "string" && value.trim() === "" ? null : value),
  z.string().trim().max(80, "A label has at most 80 characters").nullable().default(null),
);

export const AnnotatorsFormSchema = z.discriminatedUnion(
  "intent",
  [
    z
      .object({
        intent: z.literal("create-invite"),
        label: optionalLabel,
        limit: z.enum(["one", "several", "open"], { error: "Choose who the link is for" }),
        maxUses: z.preprocess(
          (value) => (value === "" ? undefined : value),
          z.coerce.number({ error: "Enter how many annotators" }).int().min(2, "At least 2").max(100_000).optional(),
        ),
        expiresInDays: optionalDays,
      })
      .refine((form) => form.limit !== "several" || form.maxUses !== undefined, { path: ["maxUses"], message: "Enter how many annotators may join" })
      .transform((form) => ({ ...form, maxUses: form.limit === "one" ? 1 : form.limit === "open" ? null : form.maxUses! })),
    z.object({ intent: z.literal("revoke-invite"), inviteId: id("inviteId") }),
    z.object({ intent: z.literal("remove-annotator"), annotatorId: id("annotatorId") }),
  ],
  { error: "intent must be create-invite, revoke-invite or remove-annotator" },
);

/** The annotator quality page: exclude an annotator's votes from the leaderboard and engine, or count them again. */
export const AnnotatorQualityFormSchema = z.object({
  intent: z.enum(["exclude", "reinstate"], { error: "intent must be exclude or reinstate" }),
  annotatorId: id("annotatorId"),
});

export const MembersFormSchema = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("create-invite"),
      role: z.enum(STUDY_ROLES, { error: "Choose owner, editor or viewer" }),
      expiresInDays: z.coerce.number({ error: "Enter a number of days" }).int().min(1, "At least 1 day").max(30, "At most 30 days").default(7),
    }),
    z.object({ intent: z.literal("revoke-invite"), inviteId: id("inviteId") }),
    z.object({ intent: z.literal("change-role"), userId: id("userId"), role: z.enum(STUDY_ROLES, { error: "Choose owner, editor or viewer" }) }),
    z.object({ intent: z.literal("remove-member"), userId: id("userId") }),
  ],
  { error: "intent must be create-invite, revoke-invite, change-role or remove-member" },
);

export const TokensFormSchema = z.discriminatedUnion(
  "intent",
  [
    z.object({
      intent: z.literal("create-token"),
      name: z
        .string({ error: "Name the token" })
        .trim()
        .min(1, "Name the token (e.g. the script that uses it)")
        .max(80, "A name has at most 80 characters"),
      scope: z.enum(TOKEN_SCOPES, { error: "Choose read or write" }),
      expiresInDays: optionalDays,
    }),
    z.object({ intent: z.literal("revoke-token"), tokenId: id("tokenId") }),
  ],
  { error: "intent must be create-token or revoke-token" },
);

export const DeleteStudyFormSchema = z.object({ confirmName: z.string({ error: "Type the study's name" }).max(500) });
