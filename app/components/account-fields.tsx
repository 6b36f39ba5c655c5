import { FieldError } from "./setup-fields";

/** Name, email and a new password twice: the first owner's form and an invited member's. */
export function NewAccountFields({ errors }: { errors: Record<string, string[] | undefined> }) {
  const invalid = (field: string) => (errors[field] ? { "aria-invalid": true, "aria-describedby": `${field}-error` } : {});
  return (
    <>
      <label htmlFor="displayName">Your name</label>
      <input id="displayName" name="displayName" autoComplete="name" required maxLength={240} {...invalid("displayName")} />
      <FieldError id="displayName-error" messages={errors.displayName} />
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="username" required {...invalid("email")} />
      <p className="hint">Your sign-in name; nothing is ever sent to it.</p>
      <FieldError id="email-error" messages={errors.email} />
      <label htmlFor="password">Password (at least 10 characters)</label>
      <input id="password" name="password" type="password" autoComplete="new-password" required minLength={10} {...invalid("password")} />
      <FieldError id="password-error" messages={errors.password} />
      <label htmlFor="confirmPassword">Repeat the password</label>
      <input id="confirmPassword" name="confirmPassword" type="password" autoComplete="new-password" required {...invalid("confirmPassword")} />
      <FieldError id="confirmPassword-error" messages={errors.confirmPassword} />
    </>
  );
}
