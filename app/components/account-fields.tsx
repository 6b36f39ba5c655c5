import type { FormConstraints } from "~/utils/form-constraints";
import { Field } from "./field";

/** Name, email and a new password twice: the first owner's form and an invited member's (NewAccountFormSchema). */
export function NewAccountFields({ constraints, errors }: { constraints: FormConstraints; errors: Record<string, string[]> }) {
  const form = { constraints, errors };
  return (
    <>
      <Field name="displayName" label="Your name" {...form} input={{ autoComplete: "name" }} />
      <Field name="email" label="Email" {...form} hint="Your sign-in name; nothing is ever sent to it." input={{ autoComplete: "username" }} />
      <Field
        name="password"
        label={`Password (at least ${constraints.password?.minLength} characters)`}
        {...form}
        input={{ type: "password", autoComplete: "new-password" }}
      />
      <Field name="confirmPassword" label="Repeat the password" {...form} input={{ type: "password", autoComplete: "new-password" }} />
    </>
  );
}
