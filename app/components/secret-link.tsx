/** A secret shown once (a new invite link or API token), selectable for copying. */
export function SecretOnce({ label, value, hint }: { label: string; value: string; hint: string }) {
  return (
    <div className="secret-once" role="status">
      <label htmlFor="secret-value">{label}</label>
      <input id="secret-value" readOnly value={value} onFocus={(event) => event.currentTarget.select()} />
      <p className="hint">{hint}</p>
    </div>
  );
}

export const when = (value: string | Date | null) => (value === null ? "–" : `${new Date(value).toISOString().replace("T", " ").slice(0, 16)} UTC`);
