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
