import type { InputHTMLAttributes, ReactNode, TextareaHTMLAttributes } from "react";
import type { FieldConstraint, FormConstraints } from "~/utils/form-constraints";

// One form field from its schema (ADR 0040): the label, the input with the constraints the loader
// derived from the form's zod schema (formConstraints), a hint, and the action's errors for it,
// linked through aria-invalid and aria-describedby. No limit is written here or in a route.

/** A field's validation messages, linked to its input through aria-describedby. */
export function FieldError({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages || messages.length === 0) return null;
  return (
    <p id={id} className="field-error">
      {messages.join(" ")}
    </p>
  );
}

/**
 * The attributes of an input named `name`: its constraints, and aria-invalid / aria-describedby when
 * it has errors (or a hint). For inputs that do not sit under their own label (a number inside a radio
 * button's label); everything else uses Field.
 */
export function fieldAttributes(
  name: string,
  form: { constraints: FormConstraints; errors?: Record<string, string[]> },
  options: { id?: string; hint?: boolean; textarea?: boolean } = {},
) {
  const id = options.id ?? name;
  const invalid = (form.errors?.[name]?.length ?? 0) > 0;
  const describedBy = [options.hint ? `${id}-hint` : null, invalid ? `${id}-error` : null].filter(Boolean).join(" ");
  return {
    name,
    ...constraintAttributes(form.constraints[name], options.textarea ?? false),
    ...(invalid ? { "aria-invalid": true as const } : {}),
    ...(describedBy ? { "aria-describedby": describedBy } : {}),
  };
}

/** The HTML attributes of a constraint; a textarea takes only required and the lengths. */
export function constraintAttributes(constraint: FieldConstraint | undefined, textarea: boolean) {
  if (!constraint) return {};
  const { required, minLength, maxLength, min, max, step, pattern, type } = constraint;
  const common = { required, minLength, maxLength };
  return textarea ? common : { ...common, min, max, step, pattern, type };
}

type InputProps = Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "name" | "id" | "required" | "minLength" | "maxLength" | "min" | "max" | "step" | "pattern"
>;
type TextareaProps = Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "name" | "id" | "required" | "minLength" | "maxLength">;

type FieldProps = {
  name: string;
  label: ReactNode;
  constraints: FormConstraints;
  errors?: Record<string, string[]>;
  hint?: ReactNode;
  /** When a page has two inputs of the same name (two forms). */
  id?: string;
} & ({ textarea?: false; input?: InputProps } | { textarea: true; input?: TextareaProps });

/** Label, input with its schema's constraints, hint and errors. */
export function Field(props: FieldProps) {
  const { name, label, constraints, errors, hint } = props;
  const id = props.id ?? name;
  const attributes = fieldAttributes(name, { constraints, errors }, { id, hint: hint !== undefined, textarea: props.textarea === true });
  return (
    <>
      <label htmlFor={id}>{label}</label>
      {props.textarea ? <textarea id={id} {...attributes} {...props.input} /> : <input id={id} {...attributes} {...props.input} />}
      {hint !== undefined ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      <FieldError id={`${id}-error`} messages={errors?.[name]} />
    </>
  );
}
