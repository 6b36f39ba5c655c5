import { z } from "zod";
import { EmailSchema } from "~/models/account.server";
import { DisplayNameSchema } from "./display-name";
import { NewPasswordSchema, PasswordInputSchema } from "./password.server";

// The forms of the account pages (sign in, first owner, new account through an invite, password change).

export const SignInFormSchema = z.object({
  email: EmailSchema,
  password: PasswordInputSchema,
  redirectTo: z.string().optional(),
});

export const NewAccountFormSchema = z
  .object({
    displayName: DisplayNameSchema,
    email: EmailSchema,
    password: NewPasswordSchema,
    confirmPassword: z.string({ error: "Repeat the password" }),
  })
  .refine((form) => form.password === form.confirmPassword, { path: ["confirmPassword"], message: "The two passwords differ" });

export const ChangePasswordFormSchema = z
  .object({
    intent: z.literal("change-password"),
    currentPassword: PasswordInputSchema,
    newPassword: NewPasswordSchema,
    confirmPassword: z.string({ error: "Repeat the new password" }),
  })
  .refine((form) => form.newPassword === form.confirmPassword, { path: ["confirmPassword"], message: "The two passwords differ" });

export const AccountFormSchema = z.discriminatedUnion(
  "intent",
  [
    ChangePasswordFormSchema,
    z.object({ intent: z.literal("revoke-session"), sessionId: z.coerce.number({ error: "sessionId must be a number" }).int().positive() }),
    z.object({ intent: z.literal("revoke-other-sessions") }),
  ],
  { error: "intent must be change-password, revoke-session or revoke-other-sessions" },
);
