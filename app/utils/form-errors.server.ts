import { data } from "@remix-run/node";
import { z } from "zod";
import type { FormErrors, FormFailure } from "./form-errors";

// Builds the one failure answer of form actions (app/utils/form-errors.ts, ADR 0040).

type FailureInit = { status?: number; intent?: string };

/** A zod error as form errors: issues on the root to formErrors, the others under their first path segment. */
export function zodFormErrors(error: z.ZodError): FormErrors {
  const { formErrors, fieldErrors } = z.flattenError(error);
  return { formErrors, fieldErrors: definedEntries(fieldErrors) };
}

/** The answer to a refused form: its zod error or the errors found, status 400 unless given. */
export function invalidForm(errors: z.ZodError | Partial<FormErrors>, init: FailureInit = {}) {
  const { formErrors = [], fieldErrors = {} } = errors instanceof z.ZodError ? zodFormErrors(errors) : errors;
  const failure: FormFailure = { ok: false, ...(init.intent !== undefined ? { intent: init.intent } : {}), formErrors, fieldErrors };
  return data(failure, { status: init.status ?? 400 });
}

/** A form refused for one field's value (a rule the schema cannot know, such as "no such prompt in this study"). */
export function invalidField(field: string, message: string, init: FailureInit = {}) {
  return invalidForm({ fieldErrors: { [field]: [message] } }, init);
}

/** A form refused as a whole (wrong credentials, an expired link). */
export function refusedForm(message: string, init: FailureInit = {}) {
  return invalidForm({ formErrors: [message] }, init);
}

function definedEntries(record: Record<string, string[] | undefined>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(record).filter((entry): entry is [string, string[]] => entry[1] !== undefined));
}
