import { Form } from "@remix-run/react";
import type { ReactNode } from "react";
import type { FormConstraints } from "~/utils/form-constraints";
import { Field } from "./field";

/** Shown on setup pages when no LLM provider is configured: what still works, and how to add one. */
export function OfflineBanner() {
  return (
    <div className="banner" role="status">
      <strong>No LLM provider configured: import responses instead.</strong> Paste or upload prompts and queries, then import a JSONL file of
      responses. To generate them, set <code>OPENAI_BASE_URL</code> (e.g. <code>http://localhost:11434/v1</code> for Ollama) or{" "}
      <code>OPENAI_API_KEY</code> and restart.
    </div>
  );
}

/**
 * A setup form that adds items pasted into `${field}Text` or uploaded as `${field}File`, submitted with
 * `intent`; the action decides which one is required and answers with field errors under those names.
 */
export function PasteOrUploadForm(props: {
  intent: string;
  field: string;
  legend: string;
  pasteLabel: string;
  pasteHint?: ReactNode;
  accept: string;
  /** formConstraints of the setup form for `intent` */
  constraints: FormConstraints;
  errors: Record<string, string[]>;
  submitting: boolean;
}) {
  const { intent, field, legend, pasteLabel, pasteHint, accept, constraints, errors, submitting } = props;
  const form = { constraints, errors };
  return (
    <Form method="post" encType="multipart/form-data" className="setup-form" noValidate>
      <fieldset>
        <legend>{legend}</legend>
        <Field name={`${field}Text`} label={pasteLabel} {...form} textarea input={{ rows: 5 }} hint={pasteHint} />
        <Field name={`${field}File`} label="or upload CSV / JSONL / text" {...form} input={{ type: "file", accept }} />
        <button type="submit" name="intent" value={intent} disabled={submitting}>
          {legend}
        </button>
      </fieldset>
    </Form>
  );
}
