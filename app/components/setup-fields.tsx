import { Form } from "@remix-run/react";
import type { ReactNode } from "react";

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
  errors: Record<string, string[] | undefined>;
  submitting: boolean;
}) {
  const { intent, field, legend, pasteLabel, pasteHint, accept, errors, submitting } = props;
  const text = `${field}Text`;
  const file = `${field}File`;
  return (
    <Form method="post" encType="multipart/form-data" className="setup-form" noValidate>
      <fieldset>
        <legend>{legend}</legend>
        <label htmlFor={text}>{pasteLabel}</label>
        <textarea id={text} name={text} rows={5} />
        {pasteHint ? <p className="hint">{pasteHint}</p> : null}
        <FieldError id={`${text}-error`} messages={errors[text]} />
        <label htmlFor={file}>or upload CSV / JSONL / text</label>
        <input id={file} name={file} type="file" accept={accept} />
        <FieldError id={`${file}-error`} messages={errors[file]} />
        <button type="submit" name="intent" value={intent} disabled={submitting}>
          {legend}
        </button>
      </fieldset>
    </Form>
  );
}
