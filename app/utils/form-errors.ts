// The one error shape of every form action (issue 19 §4, ADR 0040). An action that refuses a form
// answers `{ ok: false, formErrors, fieldErrors }` (status 400 unless it says otherwise; `intent` when
// one page posts several forms), built by app/utils/form-errors.server.ts; a page reads it back with
// errorsOf. Field errors are keyed by the field's name, form errors belong to no field.

export interface FormErrors {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
}

export interface FormFailure extends FormErrors {
  ok: false;
  /** The form that was refused, on pages that post several (the value of its `intent` field). */
  intent?: string;
}

const NO_ERRORS: FormErrors = { formErrors: [], fieldErrors: {} };

/**
 * The errors of an action's answer, for the form that posted `intent` (any form when not given): the
 * failure's errors, or none when the action succeeded or answered another form.
 */
export function errorsOf(result: unknown, intent?: string): FormErrors {
  if (!isFormFailure(result)) return NO_ERRORS;
  if (intent !== undefined && result.intent !== undefined && result.intent !== "" && result.intent !== intent) return NO_ERRORS;
  return { formErrors: result.formErrors, fieldErrors: result.fieldErrors };
}

/** Every message of a failure, form errors first, for pages that show them in one alert. */
export function allMessages(errors: FormErrors): string[] {
  return [...errors.formErrors, ...Object.values(errors.fieldErrors).flat()];
}

export function isFormFailure(result: unknown): result is FormFailure {
  return typeof result === "object" && result !== null && (result as { ok?: unknown }).ok === false && "fieldErrors" in result;
}
